/**
 * report.html's rows where timeline.jsonl lost lines. The timeline is appended without fsync, the journal
 * with it, so a kill -9 can leave a device further along in the journal (even done: a resume never
 * replays a finished device) than in the timeline, and can tear the timeline's last line. Every device
 * must still get a finite row that agrees with report.json, and the page must say which part of it
 * came from report.json rather than from the timeline.
 */
import { appendFileSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  buildPageData,
  type MachineLike,
  pageModel,
  type ReportLike,
} from "../../shared/report/html/data.js";
import { SPAN_KINDS, type WireData } from "../../shared/report/html/page-data.js";
import { writeReportHtml } from "../../shared/report/html/render.js";
import { TIMELINE_FILE } from "../../shared/run/timeline.js";
import type { RunPlanFile } from "../../shared/state/records.js";
import { tempDir } from "../run/helpers.js";

const T = Date.UTC(2026, 10, 23, 7, 40, 0);
const S = 1000;
/** Every device's life, in service ms after T (the run's own times, as the journal has them). */
const QUEUED = 0;
const SUBMITTED = 10 * S;
const ACCEPTED = 11 * S;
const RUNNING = 20 * S;
const STEP1_END = 40 * S;
const FINAL = 60 * S;
const FINISHED = 70 * S;

const NAMES = ["whole", "done-only", "no-lines", "torn-tail", "lost-submission"] as const;
const id = (i: number) => i.toString(16).padStart(40, "0");
const iso = (t: number) => new Date(T + t).toISOString();

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function plan(): RunPlanFile {
  return {
    version: 1,
    runId: "20261123T074000-deadbeef",
    runbookName: "gaps",
    comment: "IR-9",
    startedAt: iso(0),
    startedAtMs: T,
    steps: [
      { type: "RunScript", scriptName: "a.ps1", args: null },
      { type: "GetFile", path: "C:\\x.bin" },
    ],
    options: {
      timeoutMs: 3_600_000,
      pollIntervalMs: 10_000,
      onActiveSession: "wait",
      maxConcurrentSessions: 25,
      canary: 0,
      submitPerMinute: 10,
      callsPerMinute: 100,
      callsPerHour: 1500,
    },
    devices: NAMES.map((name, i) => ({
      machineId: id(i),
      computerDnsName: name,
      actions: [
        {
          steps: [1, 2],
          commands: [
            { type: "RunScript", params: [{ key: "ScriptName", value: "a.ps1" }] },
            { type: "GetFile", params: [{ key: "Path", value: "C:\\x.bin" }] },
          ],
        },
      ],
    })),
    skipped: [],
    unresolved: [],
    warnings: [],
  };
}

function machine(i: number): MachineLike {
  const command = (step: number, from: number, to: number) => ({
    step,
    type: step === 1 ? ("RunScript" as const) : ("GetFile" as const),
    status: "succeeded" as const,
    actionId: `act-${i}`,
    index: step - 1,
    scriptName: step === 1 ? "a.ps1" : null,
    path: step === 2 ? "C:\\x.bin" : null,
    exitCode: step === 1 ? 0 : null,
    stdout: null,
    stderr: null,
    file: null,
    sha256: null,
    bytes: null,
    startedAt: iso(from),
    finishedAt: iso(to),
    submittedAt: iso(SUBMITTED),
    downloadedAt: iso(FINISHED),
    errors: [],
  });
  return {
    machineId: id(i),
    computerDnsName: NAMES[i]!,
    actionIds: [`act-${i}`],
    status: "succeeded",
    error: null,
    startedAt: iso(SUBMITTED),
    finishedAt: iso(FINISHED),
    commands: [command(1, RUNNING, STEP1_END), command(2, STEP1_END, FINAL)],
  };
}

function report(): ReportLike {
  return {
    schemaVersion: 3,
    runId: "20261123T074000-deadbeef",
    runbook: "gaps",
    startedAt: iso(0),
    finishedAt: iso(FINISHED),
    status: "succeeded",
    counts: { succeeded: NAMES.length },
    machines: NAMES.map((_, i) => machine(i)),
  };
}

/** A device's timeline lines as the recorder writes them. */
const line = (d: number, t: number, p: string, extra: object = {}) =>
  JSON.stringify({ t: T + t, d, p, a: 0, ...extra });
const queued = (d: number) => line(d, QUEUED, "queued");
const submitting = (d: number) => line(d, SUBMITTED, "submitting");
const pending = (d: number) => line(d, ACCEPTED, "inflight", { s: "Pending", id: `act-${d}` });
const running = (d: number) => line(d, RUNNING, "inflight", { s: "InProgress", id: `act-${d}` });
const collecting = (d: number) => line(d, FINAL, "collecting", { s: "Succeeded", id: `act-${d}` });
const done = (d: number) => line(d, FINISHED, "done", { r: "succeeded" });

/**
 * The run's folder after a start that was killed at ~45 s (its last lines lost, its last one torn) and
 * a resume that finished what the journal had left.
 */
function folder(): string {
  const dir = tempDir("timeline-gaps");
  dirs.push(dir);
  writeFileSync(path.join(dir, "run.json"), JSON.stringify(plan()));
  const lines = [
    JSON.stringify({ t: T, proc: "run", v: 1 }),
    // "whole": everything recorded (its lines were flushed before the kill).
    queued(0),
    submitting(0),
    pending(0),
    running(0),
    // "lost-submission": queued, then its submission and acceptance were in the lost tail.
    queued(4),
    // "torn-tail": recorded up to InProgress; its done line was being appended when the kill landed.
    queued(3),
    submitting(3),
    pending(3),
    running(3),
    // The resume: "done-only" had all its results collected when the start died (the resume only
    // finishes it); "lost-submission" is picked up from the journal once its action is final.
    JSON.stringify({ t: T + 50 * S, proc: "resume", v: 1 }),
    collecting(0),
    done(0),
    done(1),
    collecting(4),
    done(4),
    // "no-lines" has none at all: a resume that found it done wrote nothing for it.
  ];
  writeFileSync(path.join(dir, TIMELINE_FILE), `${lines.join("\n")}\n`);
  // kill -9 mid-append: the torn tail is the last thing in the file.
  appendFileSync(path.join(dir, TIMELINE_FILE), done(3).slice(0, 30));
  return dir;
}

interface Span {
  kind: string;
  start: number;
  end: number;
}

/** A device's spans in ms after T, as the page draws them. */
function spansOf(data: WireData, i: number): Span[] {
  const raw = data.devices[i]!.spans;
  const out: Span[] = [];
  for (let k = 0; k + 2 < raw.length; k += 3) {
    out.push({
      kind: SPAN_KINDS[raw[k]!]!,
      start: data.timeline.t0 + raw[k + 1]! - T,
      end: data.timeline.t0 + raw[k + 2]! - T,
    });
  }
  return out;
}

const kindAt = (spans: Span[], t: number) => spans.find((s) => s.start <= t && t < s.end)?.kind;

describe("report.html rows where timeline.jsonl lost lines", () => {
  it("every device gets a finite, contiguous row from its submission's time to the end report.json gives it", () => {
    const data = buildPageData(folder(), report(), T + 100 * S);
    expect(data.timeline.recorded).toBe(true);
    NAMES.forEach((name, i) => {
      const spans = spansOf(data, i);
      expect(spans.length, name).toBeGreaterThan(0);
      for (const s of spans) {
        expect(Number.isFinite(s.start) && Number.isFinite(s.end), name).toBe(true);
        expect(s.end, name).toBeGreaterThanOrEqual(s.start);
      }
      for (let k = 1; k < spans.length; k++) expect(spans[k]!.start, name).toBe(spans[k - 1]!.end);
      expect(
        spans.some((s) => s.start === SUBMITTED),
        name,
      ).toBe(true);
      expect(spans.at(-1)!.end, name).toBe(FINISHED);
      // Consistent with the service's command times: running while they ran, collecting after.
      expect(kindAt(spans, (RUNNING + STEP1_END) / 2), name).toBe("running");
      expect(kindAt(spans, (STEP1_END + FINAL) / 2), name).toBe("running");
      expect(kindAt(spans, (FINAL + FINISHED) / 2), name).toBe("collecting");
      // Never waiting for its turn after the journal says it was submitted.
      expect(
        spans.filter((s) => s.kind === "waiting" && s.end > SUBMITTED),
        name,
      ).toEqual([]);
      // Its one action, with the outcome the report gives it.
      expect(data.devices[i]!.actions.length, name).toBe(4);
      expect(data.devices[i]!.actions[2], name).toBe(1); // Succeeded
    });
  });

  it("keeps what the timeline recorded and fills only the stretches it lost, from report.json's times", () => {
    const data = buildPageData(folder(), report(), T + 100 * S);
    const kinds = (i: number) => spansOf(data, i).map((s) => [s.kind, s.start, s.end]);
    // The whole life, as the timeline recorded it.
    const recorded = [
      ["waiting", QUEUED, SUBMITTED],
      ["submitting", SUBMITTED, ACCEPTED],
      ["pending", ACCEPTED, RUNNING],
      ["running", RUNNING, FINAL],
      ["collecting", FINAL, FINISHED],
    ];
    expect(kinds(0)).toEqual(recorded);
    // Only report.json's times: submitted, first command started, last command ended, device done.
    const fromReport = [
      ["pending", SUBMITTED, RUNNING],
      ["running", RUNNING, FINAL],
      ["collecting", FINAL, FINISHED],
    ];
    expect(kinds(1)).toEqual(fromReport);
    expect(kinds(2)).toEqual(fromReport);
    // Recorded up to its last whole line (InProgress at 20 s), the report's times after it.
    expect(kinds(3)).toEqual(recorded);
    // Queued until the journal's submission time (not until the resume saw it again), then the report's
    // times until the timeline has it again.
    expect(kinds(4)).toEqual([
      ["waiting", QUEUED, SUBMITTED],
      ["pending", SUBMITTED, RUNNING],
      ["running", RUNNING, FINAL],
      ["collecting", FINAL, FINISHED],
    ]);
  });

  it("says on each such device which stretch came from report.json, and nothing on a whole one", () => {
    const data = buildPageData(folder(), report(), T + 100 * S);
    expect(data.devices[0]!.warnings).toBeUndefined();
    const lost = (i: number) => (data.devices[i]!.warnings ?? []).filter((w) => w.includes("timeline.jsonl"));
    for (const i of [1, 2]) {
      expect(lost(i), NAMES[i]).toHaveLength(1);
      expect(lost(i)[0]).toContain(`${iso(SUBMITTED)} to ${iso(FINISHED)}`);
    }
    expect(lost(3)[0]).toContain(`${iso(RUNNING)} to ${iso(FINISHED)}`);
    expect(lost(4)[0]).toContain(`${iso(SUBMITTED)} to ${iso(FINAL)}`);
  });

  it("a run folder whose whole timeline is one torn line still gets every row from report.json", () => {
    const dir = folder();
    writeFileSync(path.join(dir, TIMELINE_FILE), '{"t":1764');
    const data = buildPageData(dir, report(), T + 100 * S);
    NAMES.forEach((name, i) => {
      const spans = spansOf(data, i);
      expect(spans[0]?.start, name).toBe(SUBMITTED);
      expect(spans.at(-1)?.end, name).toBe(FINISHED);
    });
  });
});

describe("report.html written a device at a time", () => {
  it("holds exactly the data buildPageData gives, excerpt budget included", () => {
    const dir = folder();
    const r = report();
    r.machines[0]!.commands[0]!.stdout = "</script><b>x</b> & \u2028 😀\n".repeat(40);
    const written = writeReportHtml(dir, r);
    expect(written.error).toBeNull();
    const html = readFileSync(written.path, "utf8");
    const open = '<script type="application/json" id="report-data">';
    const text = html.slice(html.indexOf(open) + open.length, html.indexOf("</script>", html.indexOf(open)));
    expect(text).not.toMatch(/[<>&\u2028\u2029]/);
    const page = JSON.parse(text) as WireData;
    const whole = buildPageData(dir, r, Date.parse(page.generatedAt));
    expect(page).toEqual(whole);
    expect(page.devices).toHaveLength(NAMES.length);
    expect(page.devices[0]!.commands[0]!.stdout).toContain("</script>");
  });

  it("is the same from the plan the run has in memory as from run.json and plan.jsonl", () => {
    const dir = folder();
    const r = report();
    const now = T + 100 * S;
    const fromMemory = pageModel(dir, r, now, plan());
    expect({ ...fromMemory.head, devices: [...fromMemory.devices()] }).toEqual(buildPageData(dir, r, now));
    // Each device's commands carry their action number from the plan.
    expect(buildPageData(dir, r, now).devices[0]!.commands.map((c) => c.action)).toEqual([1, 1]);
  });
});
