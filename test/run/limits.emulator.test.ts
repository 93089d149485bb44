/**
 * `options.limits` take effect up and down, for every call of the run (planning, submissions, polls,
 * links): one quota account. Runs are targeted by machine id, as users give them. Service time on a
 * scaled clock shared by emulator and client; the emulator's own record is the judge.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { DeviceSpec } from "../../shared/emulator/index.js";
import { startRun } from "../../shared/run/index.js";
import { type Rig, rig, runbookFrom, submits, tempDir } from "./helpers.js";

let r: Rig | undefined;
afterEach(async () => {
  await r?.close();
  r = undefined;
});

function fleet(n: number, prefix: string): DeviceSpec[] {
  return Array.from({ length: n }, (_, i) => ({
    id: (prefix + i.toString(16).padStart(8, "0")).padEnd(40, "0"),
    computerDnsName: `${prefix}-${i}.corp.contoso.com`,
    osPlatform: "Windows11",
    files: { "C:\\e.txt": `evidence ${i}` },
  }));
}

/** Most calls of each kind the service saw in any window of `spanMs` starting at one of them. */
function peak(times: number[], spanMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  let j = 0;
  for (let i = 0; i < sorted.length; i++) {
    while (sorted[i]! - sorted[j]! >= spanMs) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

describe("options.limits", () => {
  it("raised: 120 devices on 2-second sessions finish within 1.25 × max(N/R, ⌈N/S⌉·d) + d", async () => {
    const N = 120;
    const R = 300; // submissions per minute
    const S = 20; // sessions at once
    const d = 2_000;
    const devices = fleet(N, "a1");
    // The service grants this tenant the raised quotas; the client must use them, not the documented 10/min.
    r = await rig({
      scale: 10,
      devices,
      defaultCommandDurationMs: d,
      pickupDelayMs: 0,
      limits: { submitPerMinute: R, callsPerMinute: 1000, callsPerHour: 60_000, concurrentSessions: S },
    });
    const outDir = tempDir("limits-up");
    const ids = devices.map((x) => `      - ${x.id}`).join("\n");
    const t0 = r.emu.clock.now();
    const report = await startRun(
      { api: r.client, clock: r.emu.clock },
      {
        runbook: runbookFrom(`
name: raised
targets:
  machineIds:
${ids}
commands:
  - getFile: 'C:\\e.txt'
options:
  maxConcurrentSessions: ${S}
  pollInterval: 1
  limits: { submitPerMinute: ${R}, callsPerMinute: 1000, callsPerHour: 60000 }
`),
        baseDir: outDir,
        outDir,
      },
    );
    const wall = r.emu.clock.now() - t0;
    expect(report.status).toBe("succeeded");
    expect(report.counts.succeeded).toBe(N);
    const bound = Math.max((N / R) * 60_000, Math.ceil(N / S) * d) + d;
    expect(wall).toBeLessThanOrEqual(1.25 * bound);
    // The raised quotas were used, not merely allowed: more than the documented 10 in some minute.
    expect(
      peak(
        submits(r.emu).map((s) => s.at),
        60_000,
      ),
    ).toBeGreaterThan(10);
    expect(r.emu.records.filter((x) => x.kind === "call" && x.status === 429)).toEqual([]);
  }, 60_000);

  it("lowered: the service never sees more than the stated rate, for submissions and every other call", async () => {
    const N = 12;
    const devices = fleet(N, "b2");
    // The service allows the documented quotas; the runbook says this tenant's are lower.
    r = await rig({ scale: 600, devices, defaultCommandDurationMs: 20_000 });
    const outDir = tempDir("limits-down");
    const ids = devices.map((x) => `      - ${x.id}`).join("\n");
    const report = await startRun(
      { api: r.client, clock: r.emu.clock },
      {
        runbook: runbookFrom(`
name: lowered
targets:
  machineIds:
${ids}
commands:
  - getFile: 'C:\\e.txt'
options:
  pollInterval: 5
  limits: { submitPerMinute: 3, callsPerMinute: 8, callsPerHour: 200 }
`),
        baseDir: outDir,
        outDir,
      },
    );
    expect(report.status).toBe("succeeded");
    const calls = r.emu.records.filter((x) => x.kind === "call");
    expect(calls.filter((c) => c.kind === "call" && c.status === 429)).toEqual([]);
    expect(
      peak(
        submits(r.emu).map((s) => s.at),
        60_000,
      ),
    ).toBeLessThanOrEqual(3);
    const others = calls
      .filter((c) => c.kind === "call" && !/runliveresponse/i.test(c.path))
      .map((c) => c.at);
    expect(others.length).toBeGreaterThan(N);
    expect(peak(others, 60_000)).toBeLessThanOrEqual(8);
    expect(peak(others, 3_600_000)).toBeLessThanOrEqual(200);
  }, 60_000);
});
