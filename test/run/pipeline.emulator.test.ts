/**
 * Targets by machine id, as users give them: resolved in batches (O(N / batch) calls, unknown and
 * duplicate ids included), submitted as soon as their batch is planned while the rest resolve, and a
 * run stopped mid-resolution resumes resolving without submitting anything twice.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { MdeApi } from "../../shared/api/types.js";
import type { DeviceSpec } from "../../shared/emulator/index.js";
import { MdeApiError, NetworkError } from "../../shared/errors.js";
import { MAX_BATCH, resolveTargets } from "../../shared/plan/index.js";
import { resumeRun, startRun } from "../../shared/run/index.js";
import { type Rig, rig, runbookFrom, submits, tempDir } from "./helpers.js";

let r: Rig | undefined;
afterEach(async () => {
  await r?.close();
  r = undefined;
});

function hex(prefix: string, i: number): string {
  return (prefix + i.toString(16).padStart(8, "0")).padEnd(40, "0");
}

function fleet(n: number, prefix: string): DeviceSpec[] {
  return Array.from({ length: n }, (_, i) => ({
    id: hex(prefix, i),
    computerDnsName: `${prefix}-${i}.corp.contoso.com`,
    osPlatform: "Windows11",
    files: { "C:\\e.txt": `evidence ${i}` },
  }));
}

function machineCalls(rr: Rig): { at: number; path: string }[] {
  return rr.emu.records
    .filter(
      (x) => x.kind === "call" && /\/machines(\/|\?|$)/i.test(x.path) && !/runliveresponse/i.test(x.path),
    )
    .map((x) => ({ at: x.at, path: (x as { path: string }).path }));
}

function idRunbook(ids: string[], extra = ""): string {
  return `
name: by-id
targets:
  machineIds:
${ids.map((id) => `    - ${id}`).join("\n")}
commands:
  - getFile: 'C:\\e.txt'
options:
  pollInterval: 2
${extra}`;
}

describe("machine ids in batches", () => {
  it("1,000 ids (unknown and duplicate ones among them) cost at most N/20 machine calls", async () => {
    const devices = fleet(1000, "c3");
    r = await rig({ scale: 100, devices, limits: { callsPerMinute: 100_000, callsPerHour: 1_000_000 } });
    const ids = devices.map((d) => d.id!);
    const asked = [...ids, hex("dead", 1), hex("dead", 2), ids[0]!, ids[17]!.toUpperCase()];
    const resolved = await resolveTargets(
      r.client,
      { machineIds: asked.map((i) => i.toLowerCase()), computerNames: [], tags: [], filter: null },
      { maxDevices: 2000 },
    );
    expect(resolved.machines).toHaveLength(1000);
    expect(new Set(resolved.machines.map((m) => m.id)).size).toBe(1000);
    expect(resolved.unresolved.map((u) => u.value).sort()).toEqual([hex("dead", 1), hex("dead", 2)].sort());
    const calls = machineCalls(r);
    expect(calls.length).toBeLessThanOrEqual(Math.ceil(1002 / 20));
    expect(calls.length).toBeGreaterThanOrEqual(Math.ceil(1002 / MAX_BATCH));
    // Every query stays within the URL budget the batching promises.
    for (const c of calls) expect(c.path.length).toBeLessThan(2_300);
  }, 60_000);

  it("falls back to one GET per id when the service refuses `or` in the machines filter", async () => {
    const devices = fleet(6, "d4");
    r = await rig({ devices });
    const client = r.client;
    const strict: MdeApi = {
      ...client,
      listMachines: (q, o) =>
        / or /.test(q?.filter ?? "")
          ? Promise.reject(
              new MdeApiError({
                status: 400,
                code: "ODataError",
                message: "or not supported",
                method: "GET",
                path: "/api/machines",
              }),
            )
          : client.listMachines(q, o),
    };
    const resolved = await resolveTargets(
      strict,
      {
        machineIds: [...devices.map((d) => d.id!), hex("dead", 3)],
        computerNames: [],
        tags: [],
        filter: null,
      },
      { maxDevices: 50 },
    );
    expect(resolved.machines.map((m) => m.id)).toEqual(devices.map((d) => d.id));
    expect(resolved.unresolved.map((u) => u.value)).toEqual([hex("dead", 3)]);
  });
});

describe("pipelined planning", () => {
  it("submits the first devices while later batches still resolve, within 10 s of service time", async () => {
    const devices = fleet(120, "e5");
    // A low scale: every real millisecond of a loaded machine (fsyncs) counts `scale` times here.
    r = await rig({
      scale: 20,
      devices,
      defaultCommandDurationMs: 5_000,
      limits: { submitPerMinute: 300, callsPerMinute: 1000, callsPerHour: 60_000 },
    });
    const client = r.client;
    const clock = r.emu.clock;
    // A slow directory: every machines list takes 20 s of service time (5 batches: 100 s in all).
    const slow: MdeApi = {
      ...client,
      listMachines: async (q, o) => {
        await clock.sleep(20_000);
        return client.listMachines(q, o);
      },
    };
    const outDir = tempDir("pipeline");
    const t0 = clock.now();
    const report = await startRun(
      { api: slow, clock },
      {
        runbook: runbookFrom(
          idRunbook(
            devices.map((d) => d.id!),
            "  maxConcurrentSessions: 50\n  limits: { submitPerMinute: 300, callsPerMinute: 1000, callsPerHour: 60000 }\n",
          ),
        ),
        baseDir: outDir,
        outDir,
      },
    );
    expect(report.status).toBe("succeeded");
    expect(report.counts.succeeded).toBe(120);
    const first = Math.min(...submits(r.emu).map((s) => s.at));
    const resolutions = machineCalls(r).map((c) => c.at);
    expect(resolutions).toHaveLength(Math.ceil(120 / MAX_BATCH));
    // The first batch's devices are submitted right after it resolves (20 s in), long before the last.
    expect(first - t0).toBeLessThan(20_000 + 10_000);
    expect(first).toBeLessThan(Math.max(...resolutions));
  }, 60_000);

  it("a run whose resolution failed part-way reports what was not looked up, and resume finishes it without re-submitting", async () => {
    const devices = fleet(60, "f6");
    r = await rig({ scale: 300, devices });
    const client = r.client;
    let lists = 0;
    // The network goes away after two batches of ids.
    const failing: MdeApi = {
      ...client,
      listMachines: (q, o) =>
        ++lists > 2
          ? Promise.reject(new NetworkError("simulated: network unreachable"))
          : client.listMachines(q, o),
    };
    const outDir = tempDir("pipeline-resume");
    const first = await startRun(
      { api: failing, clock: r.emu.clock },
      { runbook: runbookFrom(idRunbook(devices.map((d) => d.id!))), baseDir: outDir, outDir },
    );
    const firstDone = first.counts.succeeded;
    expect(firstDone).toBe(2 * MAX_BATCH);
    expect(first.status).not.toBe("succeeded");
    const left = (first.unresolved ?? []).filter((u) => u.selector === "machineIds");
    expect(left).toHaveLength(60 - 2 * MAX_BATCH);
    expect(left.every((u) => /resume/.test(u.error.message))).toBe(true);

    const second = await resumeRun({ api: client, clock: r.emu.clock }, outDir);
    expect(second.status).toBe("succeeded");
    expect(second.counts.succeeded).toBe(60);
    expect(second.unresolved ?? []).toEqual([]);
    const perDevice = new Map<string, number>();
    for (const s of submits(r.emu)) perDevice.set(s.machineId, (perDevice.get(s.machineId) ?? 0) + 1);
    expect(perDevice.size).toBe(60);
    expect([...perDevice.values()].every((n) => n === 1)).toBe(true);
  }, 60_000);
});
