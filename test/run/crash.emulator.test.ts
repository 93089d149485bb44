/**
 * Crash safety: a run killed with SIGKILL at arbitrary moments (child process), then resumed, never
 * submits the same step to a device twice, as the emulator's own records show. Plus the two outcomes
 * of an intent journaled just before a crash (request sent or not), and ambiguous submissions from
 * dropped connections.
 */
import { type ChildProcess, fork } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { build } from "esbuild";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { ScaledClock } from "../../shared/clock.js";
import type { DeviceSpec, EmulatorHandle } from "../../shared/emulator/index.js";
import { buildPageData } from "../../shared/report/html/data.js";
import { actionComment, resumeRun, startRun } from "../../shared/run/index.js";
import { TIMELINE_FILE } from "../../shared/run/timeline.js";
import { Journal } from "../../shared/state/journal.js";
import { type Rig, rig, runbookFrom, submits, tempDir } from "./helpers.js";
import { validateReport } from "./schema.js";

const repo = path.resolve(__dirname, "../..");
const childFile = path.join(repo, "node_modules/.cache/mde-lr-tests/crash-child.cjs");

beforeAll(async () => {
  mkdirSync(path.dirname(childFile), { recursive: true });
  await build({
    entryPoints: [path.join(__dirname, "crash-child.ts")],
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node22",
    packages: "external",
    outfile: childFile,
    logLevel: "silent",
  });
});

let r: Rig | undefined;
afterEach(async () => {
  await r?.close();
  r = undefined;
});

const lib = [{ fileName: "s.ps1", content: "Write-Output ok" }];
function device(name: string, extra: Partial<DeviceSpec> = {}): DeviceSpec {
  return {
    computerDnsName: name,
    osPlatform: "Windows11",
    machineTags: ["T"],
    scripts: { "s.ps1": { exitCode: 0, stdout: `ok ${name}` } },
    files: { "C:\\f.txt": `file ${name}` },
    ...extra,
  };
}
const YAML = `name: crash
comment: IR-crash
targets: { tags: [T] }
commands:
  - runScript: s.ps1
  - getFile: 'C:\\f.txt'
  - runScript: s.ps1
options: { maxDevices: 100, pollInterval: 5 }
`;

/** Every (device, action tag) submitted at most once; returns how many distinct ones there were. */
function assertNoDuplicateSubmissions(emu: EmulatorHandle): number {
  const seen = new Map<string, number>();
  for (const s of submits(emu)) {
    const key = `${s.machineId} ${s.comment}`;
    seen.set(key, (seen.get(key) ?? 0) + 1);
  }
  const dupes = [...seen.entries()].filter(([, n]) => n > 1);
  expect(dupes).toEqual([]);
  return seen.size;
}

function runChild(
  job: object,
  killWhen: (msg: { event?: { type: string } }, count: number) => boolean,
): Promise<"killed" | string> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = fork(childFile, [JSON.stringify(job)], {
      stdio: ["ignore", "ignore", "inherit", "ipc"],
    });
    let n = 0;
    let settled = false;
    child.on("message", (msg: { event?: { type: string }; done?: string; error?: string }) => {
      if (msg.done) {
        settled = true;
        resolve(msg.done);
        return;
      }
      if (msg.error) {
        settled = true;
        reject(new Error(msg.error));
        return;
      }
      n++;
      if (!settled && killWhen(msg, n)) {
        settled = true;
        child.kill("SIGKILL");
      }
    });
    child.on("exit", () => {
      if (!settled) reject(new Error("child exited without a result"));
      else resolve("killed");
    });
  });
}

describe("crash and resume", () => {
  it("kill -9 at several moments, resume each time: every device done, nothing submitted twice", async () => {
    const scale = 100;
    const clockOptions = { scale, realOrigin: Date.now(), serviceOrigin: Date.now() };
    r = await rig({
      clock: new ScaledClock(clockOptions),
      devices: Array.from({ length: 24 }, (_, i) => device(`c${i}`)),
      library: lib,
    });
    const out = tempDir("crash");
    const job = {
      apiUrl: r.emu.url,
      accessToken: r.emu.issueToken({ lifetimeMs: 100 * 3_600_000 }),
      clock: clockOptions,
      runbookYaml: YAML,
      outDir: out,
    };
    // Kill points: right after a submission event, mid-stream of status events, at a random event count.
    const killAt = [3, 11, 17, 29, 41, 57];
    let mode: "start" | "resume" = "start";
    let kills = 0;
    let children = 0;
    for (const at of killAt) {
      children++;
      const outcome = await runChild({ ...job, mode }, (_m, n) => n >= at);
      mode = "resume";
      if (outcome !== "killed") break;
      kills++;
    }
    expect(kills).toBeGreaterThanOrEqual(4);
    const report = await resumeRun({ api: r.client, clock: r.emu.clock }, out);
    expect(report.status).toBe("succeeded");
    expect(report.counts.succeeded).toBe(24);
    // 24 devices × 2 actions (steps 1-2, then 3), each submitted exactly once.
    expect(assertNoDuplicateSubmissions(r.emu)).toBe(48);
    expect(submits(r.emu)).toHaveLength(48);
    expect(validateReport(report)).toEqual([]);
    // timeline.jsonl: every process appended (its first lines are flushed when it attaches), and the page
    // folds the history of all of them into one span list per device that ends when the device did.
    const lines = readFileSync(path.join(out, TIMELINE_FILE), "utf8").split("\n").filter(Boolean);
    const procs = lines.flatMap((l) => {
      try {
        return [JSON.parse(l) as { proc?: string }].filter((x) => x.proc);
      } catch {
        return []; // a line torn by kill -9
      }
    });
    expect(procs.map((p) => p.proc)).toEqual(["run", ...Array(children - 1).fill("resume"), "resume"]);
    const page = buildPageData(out, report);
    expect(page.timeline.recorded).toBe(true);
    for (const [i, m] of report.machines.entries()) {
      const spans = page.devices[i]!.spans;
      expect(page.timeline.t0 + spans.at(-1)!, m.computerDnsName ?? "").toBe(Date.parse(m.finishedAt!));
    }
  }, 120_000);

  it("kill -9 between a device's last result and its done line, its timeline lines lost: the page still draws its whole row", async () => {
    r = await rig({ scale: 300, devices: [device("k0"), device("k1"), device("k2")], library: lib });
    const out = tempDir("lost-timeline");
    const ctx = { api: r.client, clock: r.emu.clock };
    const first = await startRun(ctx, { runbook: runbookFrom(YAML), baseDir: out, outDir: out });
    expect(first.status).toBe("succeeded");
    // The folder as that kill leaves it (a window of a few µs, but a kill that follows a `collected`
    // event lands right there): k1's last result is journaled, its done line is not, and the timeline
    // lines it had in the process's unflushed buffer are gone, the last one torn mid-append.
    const lost = first.machines.findIndex((m) => m.computerDnsName === "k1");
    const { journal, loaded } = Journal.open(out);
    const rec = loaded.records[lost]!;
    journal.write(lost, {
      ...rec,
      phase: "collecting",
      status: null,
      finishedAt: null,
      final: { status: "Succeeded", commands: [] },
    });
    journal.writeRun({ ...loaded.run, finishedAt: null });
    journal.close();
    const file = path.join(out, TIMELINE_FILE);
    const kept = readFileSync(file, "utf8")
      .split("\n")
      .filter((l) => l && (JSON.parse(l) as { d?: number }).d !== lost);
    writeFileSync(
      file,
      `${kept.join("\n")}\n${JSON.stringify({ t: 1, d: lost, p: "collecting" }).slice(0, 20)}`,
    );

    const report = await resumeRun(ctx, out);
    expect(report.status).toBe("succeeded");
    expect(submits(r.emu)).toHaveLength(6);
    // The resume only finished k1: its one line is the done line (nothing to replay for it).
    const mine = readFileSync(file, "utf8")
      .split("\n")
      .flatMap((l) => {
        try {
          return [JSON.parse(l) as { d?: number; p?: string }];
        } catch {
          return [];
        }
      })
      .filter((l) => l.d === lost);
    expect(mine.map((l) => l.p)).toEqual(["done"]);

    const page = buildPageData(out, report);
    for (const [i, m] of report.machines.entries()) {
      const spans = page.devices[i]!.spans;
      const name = m.computerDnsName ?? "";
      expect(spans.length, name).toBeGreaterThan(0);
      expect(spans.every(Number.isFinite), name).toBe(true);
      expect(page.timeline.t0 + spans.at(-1)!, name).toBe(Date.parse(m.finishedAt!));
      expect(page.timeline.t0 + spans[1]!, name).toBeLessThanOrEqual(Date.parse(m.startedAt!));
    }
    expect(page.devices[lost]!.warnings?.join(" ")).toContain("timeline.jsonl");
    expect(page.devices.filter((d) => d.warnings?.length)).toHaveLength(1);
  }, 60_000);

  it("an intent journaled before a crash is resolved by tag: sent → re-attached, not sent → submitted once", async () => {
    r = await rig({
      scale: 100,
      devices: [device("sent", { offline: true, onlineAt: Date.now() + 8 * 60_000 }), device("unsent")],
      library: lib,
    });
    const out = tempDir("intent");
    // Run until device "sent" has its first action queued (offline), with one session so "unsent" waits.
    const first = await startRun(
      { api: r.client, clock: r.emu.clock },
      {
        runbook: runbookFrom(YAML.replace("pollInterval: 5", "pollInterval: 5, maxConcurrentSessions: 1")),
        baseDir: out,
        outDir: out,
        detachAfterMs: 60_000,
      },
    );
    expect(first.status).toBe("pending");
    expect(submits(r.emu)).toHaveLength(1);
    // Rewrite the journal as a crash would have left it: both devices with an intent and no outcome.
    const { journal, loaded } = Journal.open(out);
    const now = r.emu.clock.now();
    loaded.records.forEach((rec, i) => {
      if (!rec) return;
      journal.write(
        i,
        { ...rec, phase: "submitting", actionId: null, actionIds: [], intentAt: now - 30_000 },
        true,
      );
    });
    journal.close();
    // The tag the sent action carries is the one resume looks for.
    expect(submits(r.emu)[0]!.comment).toBe(actionComment("IR-crash", first.runId, [1, 2]));

    const report = await resumeRun({ api: r.client, clock: r.emu.clock }, out);
    expect(report.status).toBe("succeeded");
    expect(assertNoDuplicateSubmissions(r.emu)).toBe(4);
    expect(submits(r.emu)).toHaveLength(4);
  }, 60_000);

  it("ambiguous submissions (dropped connections) are looked up by tag, never sent twice", async () => {
    r = await rig({
      scale: 100,
      seed: 11,
      devices: Array.from({ length: 16 }, (_, i) => device(`a${i}`)),
      library: lib,
      faults: { connectionResetRate: 0.15 },
    });
    const out = tempDir("ambiguous");
    const report = await startRun(
      { api: r.client, clock: r.emu.clock },
      { runbook: runbookFrom(YAML), baseDir: out, outDir: out },
    );
    expect(r.emu.records.some((x) => x.kind === "fault")).toBe(true);
    expect(report.status).toBe("succeeded");
    expect(assertNoDuplicateSubmissions(r.emu)).toBe(32);
  }, 60_000);
});
