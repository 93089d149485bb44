/**
 * Service behaviours the orchestrator must handle, each against the emulator over real HTTP:
 * busy devices, 429 storms, offline devices (timeout, detach + resume), failing commands, truncated
 * downloads, hostile device paths, abort mid-run, canary.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { MachineAction } from "../../shared/api/types.js";
import type { DeviceSpec } from "../../shared/emulator/index.js";
import { cancelRun, readReport, resumeRun, startRun } from "../../shared/run/index.js";
import { collectEvents, type Rig, rig, runbookFrom, submits, tempDir } from "./helpers.js";
import { validateReport } from "./schema.js";

let r: Rig | undefined;
afterEach(async () => {
  await r?.close();
  r = undefined;
});

const script = { "s.ps1": { exitCode: 0, stdout: "ok" } };
const lib = [{ fileName: "s.ps1", content: "Write-Output ok" }];

function device(name: string, extra: Partial<DeviceSpec> = {}): DeviceSpec {
  return {
    computerDnsName: name,
    osPlatform: "Windows11",
    machineTags: ["T"],
    scripts: script,
    files: { "C:\\f.txt": `file on ${name}` },
    ...extra,
  };
}

function yaml(options = "", commands = "  - runScript: s.ps1\n  - getFile: 'C:\\f.txt'"): string {
  return `name: scenario\ncomment: IR-7\ntargets: { tags: [T] }\ncommands:\n${commands}\n${options ? `options: ${options}\n` : ""}`;
}

function statusOf(report: { machines: { computerDnsName: string | null; status: string }[] }, name: string) {
  return report.machines.find((m) => m.computerDnsName === name)?.status;
}

describe("busy devices (ActiveRequestAlreadyExists)", () => {
  it("onActiveSession: wait retries once the device is free", async () => {
    const clock0 = Date.now();
    r = await rig({
      scale: 100,
      devices: [device("free"), device("busy", { busyUntil: clock0 + 4 * 60_000 })],
      library: lib,
    });
    const { events, onEvent } = collectEvents();
    const out = tempDir("busy-wait");
    const report = await startRun(
      { api: r.client, clock: r.emu.clock, onEvent },
      { runbook: runbookFrom(yaml("{ onActiveSession: wait }")), baseDir: out, outDir: out },
    );
    expect(report.status).toBe("succeeded");
    expect(events.some((e) => e.type === "waiting" && e.reason === "deviceBusy")).toBe(true);
    const rejected = r.emu.records.filter(
      (x) => x.kind === "rejected" && x.code === "ActiveRequestAlreadyExists",
    );
    expect(rejected.length).toBeGreaterThanOrEqual(1);
    // Backed off instead of hammering the 10/min submission quota.
    expect(rejected.length).toBeLessThanOrEqual(6);
  });

  it("onActiveSession: fail reports the device failed with a message naming the fix", async () => {
    r = await rig({
      scale: 100,
      devices: [device("free"), device("busy", { busyUntil: Number.POSITIVE_INFINITY })],
      library: lib,
    });
    const out = tempDir("busy-fail");
    const report = await startRun(
      { api: r.client, clock: r.emu.clock },
      { runbook: runbookFrom(yaml("{ onActiveSession: fail }")), baseDir: out, outDir: out },
    );
    expect(report.status).toBe("partial");
    const busy = report.machines.find((m) => m.computerDnsName === "busy")!;
    expect(busy.status).toBe("failed");
    expect(busy.error?.code).toBe("ActiveRequestAlreadyExists");
    expect(busy.error?.message).toMatch(/onActiveSession/);
    expect(validateReport(report)).toEqual([]);
  });

  it("a device busy past its timeout ends timedOut", async () => {
    r = await rig({
      scale: 200,
      devices: [device("busy", { busyUntil: Number.POSITIVE_INFINITY })],
      library: lib,
    });
    const out = tempDir("busy-timeout");
    const report = await startRun(
      { api: r.client, clock: r.emu.clock },
      { runbook: runbookFrom(yaml("{ onActiveSession: wait, timeout: 5m }")), baseDir: out, outDir: out },
    );
    expect(report.machines[0]!.status).toBe("timedOut");
    expect(report.machines[0]!.error?.code).toBe("ActiveRequestAlreadyExists");
  });
});

describe("429s", () => {
  it.each([
    ["with Retry-After", true, 90_000],
    ["without Retry-After, longer than the client's own retries", false, 8 * 60_000],
  ])(
    "backs off through a throttle storm %s and still finishes every device once",
    async (_, retryAfter, durationMs) => {
      r = await rig({
        scale: 100,
        devices: Array.from({ length: 12 }, (_, i) => device(`d${i}`)),
        library: lib,
        faults: { throttleStorms: [{ startMs: 20_000, durationMs, retryAfter }] },
      });
      const out = tempDir("429");
      const report = await startRun(
        { api: r.client, clock: r.emu.clock },
        { runbook: runbookFrom(yaml()), baseDir: out, outDir: out },
      );
      expect(report.status).toBe("succeeded");
      expect(r.emu.records.some((x) => x.kind === "call" && x.status === 429)).toBe(true);
      // Nothing submitted twice.
      expect(new Set(submits(r.emu).map((s) => s.machineId)).size).toBe(12);
      expect(submits(r.emu)).toHaveLength(12);
    },
  );
});

describe("offline devices", () => {
  it("times out a queued action, cancels it, and reports the device timedOut (Pending shown in events)", async () => {
    r = await rig({
      scale: 200,
      devices: [device("online"), device("offline", { offline: true })],
      library: lib,
    });
    const { events, onEvent } = collectEvents();
    const out = tempDir("offline");
    const report = await startRun(
      { api: r.client, clock: r.emu.clock, onEvent },
      { runbook: runbookFrom(yaml("{ timeout: 10m }")), baseDir: out, outDir: out },
    );
    expect(report.status).toBe("partial");
    const off = report.machines.find((m) => m.computerDnsName === "offline")!;
    expect(off.status).toBe("timedOut");
    expect(off.commands.every((c) => c.status === "cancelled")).toBe(true);
    const cancels = r.emu.records.filter((x) => x.kind === "cancel");
    expect(cancels.map((c) => c.kind === "cancel" && c.actionId)).toEqual(off.actionIds);
    expect(events.some((e) => e.type === "submitted" && e.machineId === off.machineId)).toBe(true);
    expect(
      events.some((e) => e.type === "status" && e.machineId === off.machineId && e.status === "Pending"),
    ).toBe(true);
    expect(
      events.some(
        (e) => e.type === "warning" && /offline\.?/.test(e.message) && e.message.includes("offline"),
      ),
    ).toBe(true);
    expect(validateReport(report)).toEqual([]);
  });

  it("stops watching a timed-out action when the service never confirms the cancel", async () => {
    r = await rig({ scale: 200, devices: [device("off", { offline: true })], library: lib });
    const emu = r.emu;
    const out = tempDir("unconfirmed");
    const report = await startRun(
      {
        api: r.client,
        clock: r.emu.clock,
        // Once the action is queued, every API call fails: polls and the cancel never get through.
        onEvent: (e) => {
          if (e.type === "submitted") emu.configure({ faults: { serverErrorRate: 1 } });
        },
      },
      { runbook: runbookFrom(yaml("{ timeout: 5m }")), baseDir: out, outDir: out },
    );
    const m = report.machines[0]!;
    expect(m.status).toBe("timedOut");
    expect(m.error?.message).toMatch(/could not be confirmed/);
    expect(validateReport(report)).toEqual([]);
  });

  it("detaches with the run pending, then resumeRun picks it up when the device comes online", async () => {
    const onlineAt = Date.now() + 30 * 60_000; // service ms (the clocks start at real now)
    r = await rig({
      scale: 200,
      devices: [device("online"), device("late", { offline: true, onlineAt })],
      library: lib,
    });
    const out = tempDir("detach");
    const first = await startRun(
      { api: r.client, clock: r.emu.clock },
      { runbook: runbookFrom(yaml("{ timeout: 2h }")), baseDir: out, outDir: out, detachAfterMs: 3 * 60_000 },
    );
    expect(first.status).toBe("pending");
    expect(first.finishedAt).toBeNull();
    expect(statusOf(first, "online")).toBe("succeeded");
    expect(statusOf(first, "late")).toBe("pending");
    expect((await readReport(out)).status).toBe("pending");
    const submittedBefore = submits(r.emu).length;

    const resumed = await resumeRun({ api: r.client, clock: r.emu.clock }, out);
    expect(resumed.status).toBe("succeeded");
    expect(statusOf(resumed, "late")).toBe("succeeded");
    // Resume re-attached to the queued action instead of submitting it again.
    expect(submits(r.emu).length).toBe(submittedBefore);
    expect(validateReport(resumed)).toEqual([]);
  });
});

describe("failures", () => {
  it("a failing command fails the device; a non-zero exit code fails it too; the rest of the fleet succeeds", async () => {
    r = await rig({
      scale: 100,
      devices: [
        device("good"),
        device("broken", { scripts: { "s.ps1": { fail: true } } }),
        device("nonzero", { scripts: { "s.ps1": { exitCode: 3, stdout: "partial", stderr: "boom" } } }),
        device("nofile", { files: {} }),
      ],
      library: lib,
    });
    const out = tempDir("fail");
    const report = await startRun(
      { api: r.client, clock: r.emu.clock },
      { runbook: runbookFrom(yaml()), baseDir: out, outDir: out },
    );
    expect(report.status).toBe("partial");
    expect(statusOf(report, "good")).toBe("succeeded");
    const broken = report.machines.find((m) => m.computerDnsName === "broken")!;
    expect(broken.status).toBe("failed");
    expect(broken.commands.map((c) => c.status)).toEqual(["failed", "notRun"]);
    const nonzero = report.machines.find((m) => m.computerDnsName === "nonzero")!;
    expect(nonzero.status).toBe("failed");
    expect(nonzero.commands[0]).toMatchObject({ status: "failed", exitCode: 3 });
    expect(nonzero.commands[0]!.stderr).toContain("boom");
    expect(nonzero.commands[1]!.status).toBe("succeeded");
    const nofile = report.machines.find((m) => m.computerDnsName === "nofile")!;
    expect(nofile.status).toBe("failed");
    expect(nofile.commands[1]!.status).toBe("failed");
    expect(validateReport(report)).toEqual([]);
  });

  it("a setup error (device group without automated remediation) fails the device with the fix", async () => {
    r = await rig({
      scale: 100,
      devices: [device("ok"), device("locked", { remediationLevel: false })],
      library: lib,
    });
    const out = tempDir("setup");
    const report = await startRun(
      { api: r.client, clock: r.emu.clock },
      { runbook: runbookFrom(yaml()), baseDir: out, outDir: out },
    );
    expect(report.status).toBe("partial");
    const locked = report.machines.find((m) => m.computerDnsName === "locked")!;
    expect(locked.status).toBe("failed");
    expect(locked.error?.code).toBe("DisallowedOperation");
    expect(locked.error?.message).toMatch(/Device groups/);
    expect(locked.actionIds).toEqual([]);
  });

  it("retries truncated downloads with a fresh link and still gets the exact bytes", async () => {
    r = await rig({
      scale: 100,
      seed: 3,
      devices: Array.from({ length: 4 }, (_, i) => device(`t${i}`)),
      library: lib,
      faults: { truncatedBodyRate: 0.3 },
    });
    const out = tempDir("truncated");
    const report = await startRun(
      { api: r.client, clock: r.emu.clock },
      { runbook: runbookFrom(yaml()), baseDir: out, outDir: out },
    );
    expect(report.machines.flatMap((m) => m.commands.flatMap((c) => c.errors))).toEqual([]);
    expect(report.status).toBe("succeeded");
    for (const m of report.machines) {
      expect(readFileSync(path.join(out, m.commands[1]!.file!), "utf8")).toBe(`file on ${m.computerDnsName}`);
    }
    const downloads = r.emu.records.filter((x) => x.kind === "download");
    expect(downloads.some((d) => d.kind === "download" && !d.complete)).toBe(true);
    expect(report.apiCalls!.link).toBeGreaterThan(8);
  });

  it("re-requests an expired link", async () => {
    r = await rig({ scale: 100, devices: [device("x")], library: lib });
    // Links that expire almost at once: the first download of each result finds it expired.
    r.emu.configure({ limits: { linkValidityMs: 1 } });
    const out = tempDir("expired");
    const report = await startRun(
      { api: r.client, clock: r.emu.clock },
      { runbook: runbookFrom(yaml()), baseDir: out, outDir: out },
    );
    // Every link expires: collection gives up after the bounded retries, naming the cause.
    const m = report.machines[0]!;
    expect(m.status).toBe("failed");
    expect(m.commands[0]!.errors.join(" ")).toMatch(/could not be collected.*expired/i);
    expect(report.apiCalls!.link).toBe(12);
  });
});

describe("hostile device paths and names", () => {
  it("keeps every written file inside the output folder", async () => {
    const evil = "..\\..\\..\\..\\tmp\\pwned.txt";
    r = await rig({
      scale: 100,
      devices: [
        device("../../../etc", {
          files: { [evil]: "evil", "C:\\CON": "con", 'C:\\a:b*c?d|e<f>g"h': "chars" },
        }),
      ],
      library: lib,
    });
    const out = tempDir("hostile");
    const report = await startRun(
      { api: r.client, clock: r.emu.clock },
      {
        runbook: runbookFrom(
          yaml("", `  - getFile: '${evil}'\n  - getFile: 'C:\\CON'\n  - getFile: 'C:\\a:b*c?d|e<f>g"h'`),
        ),
        baseDir: out,
        outDir: out,
      },
    );
    expect(report.status).toBe("succeeded");
    const m = report.machines[0]!;
    expect(m.folder).not.toMatch(/\.\./);
    for (const c of m.commands) {
      const abs = path.resolve(out, c.file!);
      expect(path.relative(out, abs).startsWith("..")).toBe(false);
      expect(path.basename(c.file!)).not.toMatch(/[":<>|*?\\]/);
      expect(existsSync(abs)).toBe(true);
    }
    expect(existsSync("/tmp/pwned.txt")).toBe(false);
    expect(readdirSync(out).sort()).toEqual(
      [
        "journal.jsonl",
        "journal.snapshot.json",
        "manifest.sha256",
        "plan.jsonl",
        "report.html",
        "report.json",
        "run.json",
        "summary.md",
        "timeline.jsonl",
        m.folder!,
      ].sort(),
    );
  });
});

describe("abort and cancel", () => {
  it("abort mid-run cancels only this run's unfinished actions; another action in the tenant is untouched", async () => {
    r = await rig({
      scale: 100,
      devices: [
        ...Array.from({ length: 3 }, (_, i) => device(`on${i}`)),
        ...Array.from({ length: 3 }, (_, i) => device(`off${i}`, { offline: true })),
        device("bystander", { offline: true, machineTags: ["Other"] }),
      ],
      library: lib,
    });
    const bystanderId = r.emu.state.machineIds()[6]!;
    const other: MachineAction = await r.client.runLiveResponse(bystanderId, {
      Commands: [{ type: "RunScript", params: [{ key: "ScriptName", value: "s.ps1" }] }],
      Comment: "someone else's investigation",
    });
    const ctl = new AbortController();
    const { events, onEvent } = collectEvents();
    const out = tempDir("abort");
    const report = await startRun(
      {
        api: r.client,
        clock: r.emu.clock,
        signal: ctl.signal,
        onEvent: (e) => {
          onEvent(e);
          if (e.type === "deviceDone" && events.filter((x) => x.type === "deviceDone").length === 3)
            ctl.abort();
        },
      },
      { runbook: runbookFrom(yaml("{ timeout: 1h }")), baseDir: out, outDir: out },
    );
    expect(report.status).toBe("cancelled");
    const offline = report.machines.filter((m) => m.computerDnsName?.startsWith("off"));
    expect(offline.every((m) => m.status === "cancelled")).toBe(true);
    const cancelled = r.emu.records
      .filter((x) => x.kind === "cancel")
      .map((x) => x.kind === "cancel" && x.actionId);
    expect(new Set(cancelled)).toEqual(new Set(offline.flatMap((m) => m.actionIds)));
    expect(cancelled).not.toContain(other.id);
    expect((await r.client.getMachineAction(other.id)).status).toBe("Pending");
    expect(validateReport(report)).toEqual([]);
  });

  it("cancelRun cancels a detached run's queued actions from its folder", async () => {
    r = await rig({ scale: 100, devices: [device("off", { offline: true })], library: lib });
    const out = tempDir("cancelrun");
    const first = await startRun(
      { api: r.client, clock: r.emu.clock },
      { runbook: runbookFrom(yaml()), baseDir: out, outDir: out, detachAfterMs: 60_000 },
    );
    expect(first.status).toBe("pending");
    const cancelled = await cancelRun({ api: r.client, clock: r.emu.clock }, out);
    expect(cancelled.status).toBe("cancelled");
    expect(cancelled.machines[0]!.status).toBe("cancelled");
    const actionId = cancelled.machines[0]!.actionIds[0]!;
    expect((await r.client.getMachineAction(actionId)).status).toBe("Cancelled");
    // Resuming a cancelled run submits nothing more.
    const again = await resumeRun({ api: r.client, clock: r.emu.clock }, out);
    expect(again.status).toBe("cancelled");
    expect(submits(r.emu)).toHaveLength(1);
  });
});

describe("cancelRun on a finished run", () => {
  it("changes nothing: the report keeps its status and nothing is cancelled", async () => {
    r = await rig({ scale: 100, devices: [device("done")], library: lib });
    const out = tempDir("cancel-finished");
    const first = await startRun(
      { api: r.client, clock: r.emu.clock },
      { runbook: runbookFrom(yaml()), baseDir: out, outDir: out },
    );
    expect(first.status).toBe("succeeded");
    const again = await cancelRun({ api: r.client, clock: r.emu.clock }, out);
    expect(again.status).toBe("succeeded");
    expect(r.emu.records.filter((x) => x.kind === "cancel")).toEqual([]);
  });
});

describe("canary", () => {
  it("fans out only after the canary devices succeed", async () => {
    r = await rig({
      scale: 100,
      devices: Array.from({ length: 5 }, (_, i) => device(`c${i}`)),
      library: lib,
    });
    const out = tempDir("canary-ok");
    const report = await startRun(
      { api: r.client, clock: r.emu.clock },
      { runbook: runbookFrom(yaml("{ canary: 2 }")), baseDir: out, outDir: out },
    );
    expect(report.status).toBe("succeeded");
    const s = submits(r.emu);
    const canaryDone = r.emu.records.filter((x) => x.kind === "status" && x.status === "Succeeded");
    // The third submission came after both canary actions were final.
    expect(s[2]!.at).toBeGreaterThanOrEqual(canaryDone[1]!.at);
  });

  it("stops the fan-out when a canary fails", async () => {
    r = await rig({
      scale: 100,
      devices: [
        device("c0", { scripts: { "s.ps1": { fail: true } } }),
        ...Array.from({ length: 4 }, (_, i) => device(`c${i + 1}`)),
      ],
      library: lib,
    });
    const out = tempDir("canary-fail");
    const report = await startRun(
      { api: r.client, clock: r.emu.clock },
      { runbook: runbookFrom(yaml("{ canary: 1 }")), baseDir: out, outDir: out },
    );
    expect(report.status).toBe("failed");
    expect(submits(r.emu)).toHaveLength(1);
    const held = report.machines.filter((m) => m.error?.code === "CanaryFailed");
    expect(held).toHaveLength(4);
    expect(held.every((m) => m.status === "cancelled" && m.actionIds.length === 0)).toBe(true);
  });
});
