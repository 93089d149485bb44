/**
 * Deterministic regression tests for bugs the chaos suite found in the core and orchestrator (README
 * "Reliability"). Each replays the shape of a failing chaos seed in-process, on a scaled clock shared
 * by the emulator and the client, with the service's own record as the oracle.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createMdeClient, type MdeClient } from "../../shared/api/client.js";
import type { MdeApi } from "../../shared/api/types.js";
import { ScaledClock } from "../../shared/clock.js";
import { machineIdFor, startEmulator } from "../../shared/emulator/index.js";
import type { EmulatorHandle } from "../../shared/emulator/types.js";
import { NetworkError } from "../../shared/errors.js";
import { resumeRun, startRun } from "../../shared/run/index.js";
import { parseRunbook } from "../../shared/runbook/index.js";

const MINUTE = 60_000;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function world(devices: string[], commandDurationMs: number) {
  const clock = new ScaledClock({ scale: 2_000 });
  const emu: EmulatorHandle = await startEmulator({
    clock,
    devices: devices.map((name) => ({
      computerDnsName: name,
      osPlatform: "Windows11",
      commandDurationMs,
      scripts: {
        "collect.ps1": { exitCode: 0, stdout: `hello from ${name}`, durationMs: commandDurationMs },
      },
      files: { "C:\\Temp\\e.txt": `evidence of ${name}` },
    })),
    library: [{ fileName: "collect.ps1", content: "Get-Process" }],
  });
  const api: MdeClient = createMdeClient({
    apiUrl: emu.url,
    accessToken: emu.issueToken({ lifetimeMs: 1e10 }),
    clock,
  });
  const dir = mkdtempSync(path.join(os.tmpdir(), "mde-lr-regression-"));
  cleanups.push(async () => {
    await api.close();
    await emu.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { clock, emu, api, dir };
}

function runbookFor(ids: string[], dir: string, timeout: string) {
  return parseRunbook(
    [
      "name: regression",
      "targets:",
      `  machineIds: [${ids.join(", ")}]`,
      "commands:",
      "  - runScript: collect.ps1",
      '  - getFile: "C:\\\\Temp\\\\e.txt"',
      "options:",
      `  timeout: ${timeout}`,
      "  pollInterval: 5",
    ].join("\n"),
    { sourcePath: "r.yaml", baseDir: dir },
  );
}

describe("B5: resumed after the deadline, an action that finished meanwhile is collected, not abandoned", () => {
  it("seeds 589/594/621 shape: cancel asked, process gone, action Succeeded → resume collects", async () => {
    const { clock, emu, api, dir } = await world(["slow.contoso.local"], 6 * MINUTE);
    const id = machineIdFor("slow.contoso.local");
    const outDir = path.join(dir, "out");
    // The first process asks for the timeout cancel, which never gets through (network down), and then
    // leaves (detach stands in for the process dying: the journal has the intent, nothing more).
    const flaky: MdeApi = {
      ...api,
      cancelMachineAction: () => Promise.reject(new NetworkError("simulated: connection reset")),
    };
    const first = await startRun(
      { api: flaky, clock },
      { runbook: runbookFor([id], dir, "2m"), baseDir: dir, outDir, detachAfterMs: 4 * MINUTE },
    );
    expect(first.status).toBe("pending");
    // While nobody watches, the action finishes on the service (6 min per command, 2 commands).
    await clock.sleep(20 * MINUTE);
    const action = (emu.state.actions() as { machineId: string; status: string }[]).find(
      (a) => a.machineId === id,
    );
    expect(action?.status).toBe("Succeeded");

    const report = await resumeRun({ api, clock }, outDir);
    const device = report.machines[0];
    const steps = device?.commands ?? [];
    // The service says Succeeded with both commands Completed: the report must say so and hold both results.
    expect(steps.map((s) => s.status)).toEqual(["succeeded", "succeeded"]);
    expect(steps.every((s) => s.file !== null && s.sha256 !== null)).toBe(true);
  });
});

describe("B1: an abort reports what the service did, and keeps the results that exist", () => {
  it("seeds 25/104/500 shape: an action that Succeeded before the abort is not reported as cancelled", async () => {
    const { clock, emu, api, dir } = await world(["fast.contoso.local", "slow.contoso.local"], 0);
    const fast = machineIdFor("fast.contoso.local");
    const slow = machineIdFor("slow.contoso.local");
    emu.configure({
      devices: [
        {
          computerDnsName: "slow.contoso.local",
          osPlatform: "Windows11",
          commandDurationMs: 30 * MINUTE,
          scripts: { "collect.ps1": { exitCode: 0, stdout: "slow", durationMs: 2 * MINUTE } },
          files: { "C:\\Temp\\e.txt": "evidence of slow" },
        },
        {
          computerDnsName: "fast.contoso.local",
          osPlatform: "Windows11",
          commandDurationMs: 1_000,
          scripts: { "collect.ps1": { exitCode: 0, stdout: "fast", durationMs: 1_000 } },
          files: { "C:\\Temp\\e.txt": "evidence of fast" },
        },
      ],
    });
    const controller = new AbortController();
    const outDir = path.join(dir, "out");
    // Abort once the fast device's action is final on the service and the slow one has run its script.
    let fastDone = false;
    const report = await startRun(
      {
        api,
        clock,
        signal: controller.signal,
        onEvent: (e) => {
          if (e.type === "status" && e.machineId === fast && e.status === "Succeeded") fastDone = true;
          if (fastDone && e.type === "status" && e.machineId === slow && e.status === "InProgress") {
            setTimeout(() => controller.abort(new Error("Ctrl-C")), 50);
          }
        },
      },
      { runbook: runbookFor([fast, slow], dir, "2h"), baseDir: dir, outDir },
    );
    const byId = Object.fromEntries(report.machines.map((m) => [m.machineId ?? "", m] as const));
    const service = emu.state.actions() as { id: string; machineId: string; status: string }[];
    const fastAction = service.find((a) => a.machineId === fast);
    expect(fastAction?.status).toBe("Succeeded");
    // The fast device finished before the abort: the report says so, with its results.
    expect(byId[fast]?.status).toBe("succeeded");
    expect(byId[fast]?.commands.every((c) => c.status === "succeeded" && c.actionId === fastAction?.id)).toBe(
      true,
    );
    // The slow device's action was cancelled by us; its steps still name the action that carried them.
    expect(byId[slow]?.status).toBe("cancelled");
    expect(byId[slow]?.commands.every((c) => c.actionId !== null)).toBe(true);
  });
});

describe("B6: a 429 storm during collection that outlasts the client's retries does not lose the result", () => {
  it("seeds 240/485/507 shape: link calls throttled (no Retry-After) for 3 service minutes", async () => {
    const { clock, emu, api, dir } = await world(["ws.contoso.local"], 30_000);
    const id = machineIdFor("ws.contoso.local");
    const outDir = path.join(dir, "out");
    let stormed = false;
    const report = await startRun(
      {
        api,
        clock,
        onEvent: (e) => {
          // The moment the action is final: every call is throttled, without Retry-After, for 3 minutes.
          if (!stormed && e.type === "status" && e.status === "Succeeded") {
            stormed = true;
            emu.configure({
              faults: { throttleStorms: [{ startMs: 0, durationMs: 1e12, retryAfter: false }] },
            });
            const until = clock.now() + 3 * MINUTE;
            const lift = setInterval(() => {
              if (clock.now() >= until) {
                clearInterval(lift);
                emu.configure({ faults: { throttleStorms: [] } });
              }
            }, 5);
          }
        },
      },
      { runbook: runbookFor([id], dir, "2h"), baseDir: dir, outDir },
    );
    expect(stormed).toBe(true);
    const steps = report.machines[0]?.commands ?? [];
    expect(steps.map((s) => s.status)).toEqual(["succeeded", "succeeded"]);
    expect(steps.every((s) => s.file !== null && s.sha256 !== null)).toBe(true);
  });
});
