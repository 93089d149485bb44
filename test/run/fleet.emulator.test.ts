/**
 * Fan-out across 200 devices on a scaled clock shared by emulator and client: every quota respected
 * from the service's own point of view (no 429, never 11 submissions in a rolling minute, sessions
 * under the cap) and polling that does not grow with the fleet. Wall time against the quota bound is
 * a benchmark figure (bench/fleet-200.ts), not asserted here.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DeviceSpec } from "../../shared/emulator/index.js";
import type { RunReport } from "../../shared/report/types.js";
import { startRun } from "../../shared/run/index.js";
import type { RunEvent } from "../../shared/run/types.js";
import { type Rig, rig, runbookFrom, submits, tempDir } from "./helpers.js";
import { validateReport } from "./schema.js";

const N = 200;
let r: Rig;
let report: RunReport;
let t0 = 0;
let t1 = 0;

const events: RunEvent[] = [];

beforeAll(async () => {
  const devices: DeviceSpec[] = Array.from({ length: N }, (_, i) => ({
    computerDnsName: `fleet-${String(i).padStart(3, "0")}.corp.contoso.com`,
    osPlatform: "Windows11",
    machineTags: ["Fleet"],
    files: { "C:\\triage.txt": `triage ${i}` },
    scripts: { "collect.ps1": { exitCode: 0, stdout: `collected on ${i}` } },
  }));
  r = await rig({ scale: 100, devices, library: [{ fileName: "collect.ps1", content: "Write-Output 1" }] });
  const outDir = tempDir("fleet");
  t0 = r.emu.clock.now();
  report = await startRun(
    { api: r.client, clock: r.emu.clock, onEvent: (e) => events.push(e) },
    {
      runbook: runbookFrom(`
name: fleet-200
targets: { tags: [Fleet] }
commands:
  - runScript: collect.ps1
  - getFile: 'C:\\triage.txt'
options: { maxDevices: 500, maxConcurrentSessions: 25, pollInterval: 10 }
`),
      baseDir: outDir,
      outDir,
    },
  );
  t1 = r.emu.clock.now();
}, 120_000);

afterAll(async () => {
  await r?.close();
});

describe(`fan-out over ${N} devices`, () => {
  it("succeeds on every device and writes a valid report", () => {
    expect(report.status).toBe("succeeded");
    expect(report.counts.succeeded).toBe(N);
    expect(validateReport(report)).toEqual([]);
  });

  it("never trips a 429 and never exceeds 10 submissions in any rolling minute (service clock)", () => {
    const calls = r.emu.records.filter((x) => x.kind === "call");
    expect(calls.filter((c) => c.kind === "call" && c.status === 429)).toEqual([]);
    const at = submits(r.emu).map((s) => s.at);
    expect(at).toHaveLength(N);
    for (const t of at) expect(at.filter((s) => s >= t && s < t + 60_000).length).toBeLessThanOrEqual(10);
  });

  it("submits each device exactly once", () => {
    const perDevice = new Map<string, number>();
    for (const s of submits(r.emu)) perDevice.set(s.machineId, (perDevice.get(s.machineId) ?? 0) + 1);
    expect(perDevice.size).toBe(N);
    expect([...perDevice.values()].every((n) => n === 1)).toBe(true);
  });

  it("polls with list calls whose number does not grow with the fleet", () => {
    const polls = report.apiCalls?.poll ?? 0;
    // One list call per poll interval over the run, not one GET per action per interval.
    const runMinutes = (t1 - t0) / 60_000;
    expect(polls).toBeLessThan(runMinutes * 6 + 10);
    expect(polls).toBeLessThan(N / 2);
    expect(report.apiCalls?.link).toBe(2 * N);
    expect(report.apiCalls?.submit).toBe(N);
  });

  it("emits throttled progress events a live view can draw from", () => {
    const progress = events.filter((e) => e.type === "progress");
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.at(-1)).toMatchObject({ done: N, total: N });
    expect(events.filter((e) => e.type === "deviceDone")).toHaveLength(N);
  });
});
