/**
 * timeline.jsonl: the recorder (what it writes, when it writes, what it never keeps) and the fold that
 * turns it into the page's spans and actions, on real files.
 */
import { appendFileSync, existsSync, readFileSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ManualClock } from "../../shared/emulator/manual-clock.js";
import { ACTION_OUTCOMES, SPAN_KINDS } from "../../shared/report/html/page-data.js";
import { closeOpen, foldTimeline } from "../../shared/report/html/timeline-fold.js";
import { TIMELINE_FILE, TIMELINE_FLUSH_BYTES, TimelineRecorder } from "../../shared/run/timeline.js";
import type { JournalObserver } from "../../shared/state/journal.js";
import { type DeviceRecord, newDeviceRecord } from "../../shared/state/records.js";
import { tempDir } from "../run/helpers.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function setup(proc: "run" | "resume" = "run") {
  const dir = tempDir("timeline");
  dirs.push(dir);
  const clock = new ManualClock(Date.UTC(2026, 10, 23, 7, 40, 0));
  const rec = new TimelineRecorder(dir, clock, proc);
  const journal: { observer: JournalObserver | null } = { observer: null };
  return { dir, clock, rec, journal, file: path.join(dir, TIMELINE_FILE) };
}

const lines = (file: string) =>
  readFileSync(file, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);

function step(r: DeviceRecord, change: Partial<DeviceRecord>): DeviceRecord {
  return Object.assign(r, change);
}

describe("TimelineRecorder", () => {
  it("writes nothing until the run's folder holds the run, then what it saw since", () => {
    const { dir, clock, rec, journal, file } = setup();
    rec.call("machines");
    clock.advance(1500);
    rec.call("library");
    expect(existsSync(file)).toBe(false);
    rec.attach(journal);
    expect(journal.observer).toBe(rec);
    rec.close();
    expect(lines(file)).toEqual([
      { t: Date.UTC(2026, 10, 23, 7, 40, 0), proc: "run", v: 1 },
      { t: Date.UTC(2026, 10, 23, 7, 40, 0), c: { machines: 1 } },
      { t: Date.UTC(2026, 10, 23, 7, 40, 1), c: { library: 1 } },
    ]);
    expect(existsSync(path.join(dir, "report.html"))).toBe(false);
  });

  it("a start that never attaches (the folder already held a run, planning failed) leaves no file", () => {
    const { rec, file } = setup();
    rec.call("machines");
    rec.close();
    expect(existsSync(file)).toBe(false);
  });

  it("records each phase and action status change once, with the record's own times, waits and calls per second", () => {
    const { clock, rec, journal, file } = setup();
    rec.attach(journal);
    const t0 = clock.now();
    const r = newDeviceRecord(false);
    rec.record(0, r);
    rec.record(0, r); // the journal writes the same state again (e.g. busyUntil changed): no line
    clock.advance(2_000);
    rec.record(0, step(r, { phase: "submitting", intentAt: clock.now() - 500 }));
    rec.call("submit");
    rec.call("poll");
    clock.advance(300);
    rec.call("poll");
    rec.event({ type: "waiting", reason: "sessionCap", untilMs: clock.now() + 10_000 });
    rec.event({ type: "progress", done: 0, total: 1, pending: 1, running: 0, queued: 0 });
    clock.advance(1_000);
    rec.record(0, step(r, { phase: "inflight", actionId: "a-1", actionStatus: "Pending" }));
    clock.advance(5_000);
    rec.record(0, step(r, { actionStatus: "InProgress" }));
    rec.record(0, step(r, { phase: "collecting", actionStatus: "Succeeded" }));
    rec.record(0, step(r, { phase: "done", status: "succeeded", finishedAt: clock.now() - 10 }));
    rec.close();
    rec.record(0, step(r, { phase: "queued" })); // after close: ignored
    const got = lines(file);
    expect(got.filter((l) => "d" in l)).toEqual([
      { t: t0, d: 0, p: "queued", a: 0 },
      { t: t0 + 1_500, d: 0, p: "submitting", a: 0 },
      { t: t0 + 3_300, d: 0, p: "inflight", a: 0, s: "Pending", id: "a-1" },
      { t: t0 + 8_300, d: 0, p: "inflight", a: 0, s: "InProgress", id: "a-1" },
      { t: t0 + 8_300, d: 0, p: "collecting", a: 0, s: "Succeeded", id: "a-1" },
      { t: t0 + 8_290, d: 0, p: "done", a: 0, r: "succeeded" },
    ]);
    expect(got.filter((l) => "c" in l)).toEqual([{ t: t0 + 2_000, c: { submit: 1, poll: 2 } }]);
    expect(got.filter((l) => "w" in l)).toEqual([{ t: t0 + 2_300, w: "sessionCap", u: t0 + 12_300 }]);
  });

  it("appends in bounded chunks while the run goes on (nothing waits for the end, nothing piles up)", () => {
    const { clock, rec, journal, file } = setup();
    rec.attach(journal);
    const sizeAfterAttach = statSync(file).size;
    // 5,000 devices' first lines are ~200 kB: written in chunks of TIMELINE_FLUSH_BYTES as they come.
    for (let i = 0; i < 5_000; i++) rec.record(i, newDeviceRecord(i > 0));
    const written = statSync(file).size - sizeAfterAttach;
    expect(written).toBeGreaterThan(150_000);
    clock.advance(1);
    rec.close();
    const total = statSync(file).size - sizeAfterAttach;
    expect(total - written).toBeLessThanOrEqual(TIMELINE_FLUSH_BYTES);
    expect(lines(file).filter((l) => "d" in l)).toHaveLength(5_000);
  });

  it("a resumed run appends after the old lines, on a new line even when a crash tore the last one", () => {
    const first = setup();
    first.rec.attach(first.journal);
    first.rec.record(0, newDeviceRecord(false));
    first.rec.close();
    appendFileSync(first.file, '{"t":17,"d":0,"p":"subm'); // kill -9 mid-append
    const clock = new ManualClock(first.clock.now() + 60_000);
    const second = new TimelineRecorder(first.dir, clock, "resume");
    second.attach({ observer: null });
    second.record(
      0,
      step(newDeviceRecord(false), { phase: "inflight", actionStatus: "InProgress", actionId: "x" }),
    );
    second.close();
    const raw = readFileSync(first.file, "utf8").split("\n");
    expect(raw.at(-4)).toBe('{"t":17,"d":0,"p":"subm');
    expect(JSON.parse(raw.at(-3)!)).toMatchObject({ proc: "resume" });
    const folded = foldTimeline(first.file, 1)!;
    expect(folded.processes.map((p) => p[1])).toEqual(["run", "resume"]);
    closeOpen(folded, clock.now() + 1_000, () => null);
    const kinds = [];
    for (let i = 0; i < folded.devices[0]!.spans.length; i += 3)
      kinds.push(SPAN_KINDS[folded.devices[0]!.spans[i]!]);
    expect(kinds).toEqual(["waiting", "running"]);
  });
});

describe("foldTimeline", () => {
  it("turns phases into contiguous spans and actions with their outcome, across busy waits and two actions", () => {
    const { clock, rec, journal, file } = setup();
    rec.attach(journal);
    const t0 = clock.now();
    const at = (ms: number) => {
      clock.advance(ms - (clock.now() - t0));
    };
    const r = newDeviceRecord(true);
    rec.record(0, r); // held (canary)
    at(10_000);
    rec.record(0, step(r, { phase: "queued" }));
    at(11_000);
    rec.record(0, step(r, { phase: "submitting", intentAt: t0 + 11_000 }));
    at(12_000);
    rec.record(0, step(r, { phase: "busy" })); // ActiveRequestAlreadyExists: no action yet
    at(42_000);
    rec.record(0, step(r, { phase: "queued" }));
    rec.record(0, step(r, { phase: "submitting", intentAt: t0 + 42_000 }));
    at(43_000);
    rec.record(0, step(r, { phase: "inflight", actionId: "a1", actionStatus: "Pending" }));
    at(60_000);
    rec.record(0, step(r, { actionStatus: "InProgress" }));
    at(90_000);
    rec.record(0, step(r, { phase: "collecting", actionStatus: "Succeeded" }));
    at(95_000);
    rec.record(0, step(r, { phase: "queued", action: 1, actionStatus: null }));
    rec.record(0, step(r, { phase: "submitting", intentAt: t0 + 95_000 }));
    at(96_000);
    rec.record(0, step(r, { phase: "inflight", actionId: "a2", actionStatus: "InProgress" }));
    at(120_000);
    rec.record(0, step(r, { phase: "collecting", actionStatus: "Failed" }));
    at(121_000);
    rec.record(0, step(r, { phase: "done", status: "failed", finishedAt: t0 + 121_000 }));
    rec.close();
    const f = foldTimeline(file, 1)!;
    const dev = f.devices[0]!;
    const spans = [];
    for (let i = 0; i < dev.spans.length; i += 3) {
      spans.push([SPAN_KINDS[dev.spans[i]!], dev.spans[i + 1]! - t0, dev.spans[i + 2]! - t0]);
    }
    expect(spans).toEqual([
      ["canary", 0, 10_000],
      ["waiting", 10_000, 11_000],
      ["submitting", 11_000, 12_000],
      ["busy", 12_000, 42_000],
      ["waiting", 42_000, 42_000],
      ["submitting", 42_000, 43_000],
      ["pending", 43_000, 60_000],
      ["running", 60_000, 90_000],
      ["collecting", 90_000, 95_000],
      ["waiting", 95_000, 95_000],
      ["submitting", 95_000, 96_000],
      ["running", 96_000, 120_000],
      ["collecting", 120_000, 121_000],
    ]);
    const actions = [];
    for (let i = 0; i < dev.actions.length; i += 4) {
      actions.push([
        dev.actions[i]! - t0,
        dev.actions[i + 1]! - t0,
        ACTION_OUTCOMES[dev.actions[i + 2]!],
        dev.actions[i + 3],
      ]);
    }
    expect(actions).toEqual([
      [42_000, 95_000, "Succeeded", 1],
      [95_000, 121_000, "Failed", 2],
    ]);
    expect(dev.end).toBe(t0 + 121_000);
  });

  it("skips unreadable lines and devices it does not know, and says null for a run without a timeline", () => {
    const { dir, file } = setup();
    appendFileSync(
      file,
      [
        '{"t":1000,"proc":"run","v":1}',
        "not json",
        '{"t":2000,"d":7,"p":"queued","a":0}',
        '{"t":2000,"d":0,"p":"queued","a":0}',
        '{"t":2500,"c":{"poll":2}}',
        '{"t":2500,"c":{"poll":1,"link":4}}',
        "",
      ].join("\n"),
    );
    const f = foldTimeline(file, 1)!;
    expect(f.devices[0]!.spans).toEqual([]);
    expect(f.devices[0]!.kind).toBe(SPAN_KINDS.indexOf("waiting"));
    expect(f.calls.get(2500)).toEqual({ poll: 3, link: 4 });
    expect(foldTimeline(path.join(dir, "nope.jsonl"), 1)).toBeNull();
  });
});
