/**
 * The run against the service as it answered other people's clients (../shared/real-captures/):
 * an action Cancelled although its commands Completed (O2) is reported by what its commands did; an
 * answered submission that is not this run's (docs issue #5907) is never adopted; and an unexpected
 * error is caught at the run boundary with a resumable journal.
 */
import { afterEach, describe, expect, it } from "vitest";
import { createMdeClient } from "../../shared/api/client.js";
import type { Clock } from "../../shared/clock.js";
import { type DeviceSpec, machineIdFor } from "../../shared/emulator/index.js";
import { readReport, resumeRun, startRun } from "../../shared/run/index.js";
import { type Rig, rig, runbookFrom, submits, tempDir } from "./helpers.js";
import { validateReport } from "./schema.js";

let r: Rig | undefined;
afterEach(async () => {
  await r?.close();
  r = undefined;
});

const D = "corp.contoso.com";
const OTHER_APP = "8b2f6f8e-0000-4000-8000-00000000f0e1";

function device(name: string, extra: Partial<DeviceSpec> = {}): DeviceSpec {
  return {
    computerDnsName: `${name}.${D}`,
    osPlatform: "Windows11",
    scripts: {
      "collect.ps1": { exitCode: 0, stdout: `collected on ${name}`, durationMs: 2_000 },
      // Someone else's long investigation on the device (docs #5907 tests).
      "long.ps1": { exitCode: 0, stdout: "theirs", durationMs: 5 * 60_000 },
    },
    files: { "C:\\e.txt": `evidence of ${name}` },
    ...extra,
  };
}

function runbook(ids: string[], options = "pollInterval: 2"): string {
  return `name: captures
targets:
  machineIds: [${ids.join(", ")}]
commands:
  - runScript: collect.ps1
  - getFile: 'C:\\e.txt'
options: { ${options} }
`;
}

const library = [
  { fileName: "collect.ps1", content: "Get-Process" },
  { fileName: "long.ps1", content: "Start-Sleep 300" },
];

describe("capture O2: Cancelled while every command Completed", () => {
  it("cancelled by someone else (an analyst in the portal): the device is succeeded, the results kept, a warning names who and when", async () => {
    r = await rig({
      scale: 300,
      library,
      devices: [device("o2", { cancelledByOther: { requestor: "analyst@contoso.com", afterMs: 2_000 } })],
      defaultCommandDurationMs: 1_000,
      behaviour: { completionLag: { rate: 1, minMs: 30_000, maxMs: 30_000 } },
    });
    const id = machineIdFor(`o2.${D}`);
    const outDir = tempDir("o2-other");
    const report = await startRun(
      { api: r.client, clock: r.emu.clock },
      { runbook: runbookFrom(runbook([id])), baseDir: outDir, outDir },
    );
    const service = r.emu.state.actions() as {
      id: string;
      status: string;
      commands: { commandStatus: string }[];
    }[];
    expect(service[0]?.status).toBe("Cancelled");
    expect(service[0]?.commands.map((c) => c.commandStatus)).toEqual(["Completed", "Completed"]);
    const m = report.machines[0]!;
    expect(report.status).toBe("succeeded");
    expect(m.status).toBe("succeeded");
    expect(m.commands.map((c) => [c.status, c.sha256 !== null])).toEqual([
      ["succeeded", true],
      ["succeeded", true],
    ]);
    expect(m.warnings?.join("\n")).toMatch(
      /cancelled by analyst@contoso\.com at \d{4}-.*after every command had completed/,
    );
    expect(validateReport(report)).toEqual([]);
  });

  it("our own timeout cancel racing the completion: succeeded with the results, the warning says this run cancelled it", async () => {
    r = await rig({
      scale: 300,
      library,
      devices: [device("race")],
      defaultCommandDurationMs: 1_000,
      pickupDelayMs: 0,
      // The service takes 60 s to turn the action final after its last command: the 20 s timeout lands in between.
      behaviour: { completionLag: { rate: 1, minMs: 60_000, maxMs: 60_000 } },
    });
    const id = machineIdFor(`race.${D}`);
    const outDir = tempDir("o2-ours");
    const report = await startRun(
      { api: r.client, clock: r.emu.clock },
      { runbook: runbookFrom(runbook([id], "pollInterval: 2, timeout: 20")), baseDir: outDir, outDir },
    );
    expect(r.emu.records.filter((x) => x.kind === "cancel")).toHaveLength(1);
    const m = report.machines[0]!;
    expect(m.status).toBe("succeeded");
    expect(m.commands.every((c) => c.status === "succeeded" && c.file !== null)).toBe(true);
    expect(m.warnings?.join("\n")).toMatch(
      /cancelled by this run at the device's timeout after every command had completed/,
    );
  });

  it("cancelled by someone else before the commands ran: still cancelled, naming who", async () => {
    r = await rig({ scale: 300, library, devices: [device("early")], defaultCommandDurationMs: 5_000 });
    const id = machineIdFor(`early.${D}`);
    const outDir = tempDir("o2-early");
    let cancelled = false;
    const report = await startRun(
      {
        api: r.client,
        clock: r.emu.clock,
        onEvent: (e) => {
          if (e.type === "submitted" && !cancelled) {
            cancelled = true;
            r!.emu.cancelAsOther(e.actionId, { requestor: "analyst@contoso.com" });
          }
        },
      },
      { runbook: runbookFrom(runbook([id])), baseDir: outDir, outDir },
    );
    const m = report.machines[0]!;
    expect(m.status).toBe("cancelled");
    expect(m.error?.message).toMatch(/cancelled outside this run by analyst@contoso\.com/);
  });
});

describe("docs issue #5907: a duplicate answered with the existing pending action", () => {
  async function someoneElsesAction(id: string): Promise<string> {
    const other = createMdeClient({
      apiUrl: r!.emu.url,
      accessToken: r!.emu.issueToken({ appId: OTHER_APP }),
      clock: r!.emu.clock,
      env: {},
    });
    const theirs = await other.runLiveResponse(id, {
      Commands: [{ type: "RunScript", params: [{ key: "ScriptName", value: "long.ps1" }] }],
      Comment: "someone else's investigation",
    });
    await other.close();
    return theirs.id;
  }

  it("is never adopted: the device waits for it, then runs its own action; the report and cancels never touch it", async () => {
    r = await rig({
      scale: 300,
      library,
      devices: [device("dup")],
      defaultCommandDurationMs: 20_000,
      behaviour: { duplicateReturnsExisting: { rate: 1, status: 201 } },
    });
    const id = machineIdFor(`dup.${D}`);
    const theirs = await someoneElsesAction(id);
    const outDir = tempDir("dup-wait");
    const warnings: string[] = [];
    const report = await startRun(
      { api: r.client, clock: r.emu.clock, onEvent: (e) => e.type === "warning" && warnings.push(e.message) },
      { runbook: runbookFrom(runbook([id])), baseDir: outDir, outDir },
    );
    const m = report.machines[0]!;
    expect(m.status).toBe("succeeded");
    expect(m.actionIds).not.toContain(theirs);
    expect(m.commands.every((c) => c.actionId !== theirs)).toBe(true);
    expect(warnings.join("\n")).toContain(`with action ${theirs}, which is not this run's`);
    expect(r.emu.records.filter((x) => x.kind === "duplicate").length).toBeGreaterThan(0);
    expect(r.emu.records.filter((x) => x.kind === "cancel")).toEqual([]);
    // Two actions on the service: theirs and ours, each once.
    expect(submits(r.emu).map((s) => s.machineId)).toEqual([id, id]);
  });

  it("with onActiveSession: fail the device fails, naming the foreign action; nothing is adopted", async () => {
    r = await rig({
      scale: 300,
      library,
      devices: [device("dup2")],
      defaultCommandDurationMs: 20_000,
      behaviour: { duplicateReturnsExisting: { rate: 1, status: 200 } },
    });
    const id = machineIdFor(`dup2.${D}`);
    const theirs = await someoneElsesAction(id);
    const outDir = tempDir("dup-fail");
    const report = await startRun(
      { api: r.client, clock: r.emu.clock },
      {
        runbook: runbookFrom(runbook([id], "pollInterval: 2, onActiveSession: fail")),
        baseDir: outDir,
        outDir,
      },
    );
    const m = report.machines[0]!;
    expect(m.status).toBe("failed");
    expect(m.actionIds).toEqual([]);
    expect(m.error).toMatchObject({ code: "ActiveRequestAlreadyExists" });
    expect(m.error?.message).toContain(theirs);
  });
});

describe("the run boundary", () => {
  it("an unexpected error is written to report.json as a run-level error; resume finishes without re-submitting", async () => {
    r = await rig({
      scale: 300,
      library,
      devices: [device("b1"), device("b2")],
      defaultCommandDurationMs: 5_000,
    });
    const ids = [machineIdFor(`b1.${D}`), machineIdFor(`b2.${D}`)];
    const outDir = tempDir("boundary");
    const clock = r.emu.clock;
    let broken = false;
    // A fault where nothing expects one: the clock throws once both devices are submitted.
    const faulty: Clock = {
      now: () => {
        if (broken)
          throw new TypeError("simulated: Cannot read properties of undefined (reading 'toLowerCase')");
        return clock.now();
      },
      sleep: (ms, signal) => clock.sleep(ms, signal),
    };
    let submitted = 0;
    const error = await startRun(
      {
        api: r.client,
        clock: faulty,
        onEvent: (e) => {
          if (e.type === "submitted" && ++submitted === 2) broken = true;
        },
      },
      { runbook: runbookFrom(runbook(ids)), baseDir: outDir, outDir },
    ).catch((e: unknown) => e);
    broken = false;
    expect(error).toBeInstanceOf(TypeError);
    const written = await readReport(outDir);
    expect(written.error).toMatchObject({ code: "Internal.UnexpectedError" });
    expect(written.error?.message).toMatch(/journal is intact.*mde-lr resume/);
    expect(written.status).toBe("pending");
    expect(validateReport(written)).toEqual([]);

    const resumed = await resumeRun({ api: r.client, clock }, outDir);
    expect(resumed.status).toBe("succeeded");
    expect(resumed.error ?? null).toBeNull();
    expect(submits(r.emu)).toHaveLength(2);
  });
});
