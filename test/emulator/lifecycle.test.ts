/** runliveresponse validation and the action lifecycle on a hand-driven clock (§7.4–7.11, §7.14, §7.17, §7.21). */
import { afterEach, describe, expect, test } from "vitest";
import type { DeviceSpec } from "../../shared/emulator/types.js";
import { asAction, errorCode, getFile, type Harness, harness, putFile, runScript } from "./helpers.js";

const LIBRARY = [
  { fileName: "triage.ps1", content: "Get-Process" },
  { fileName: "tool.exe", content: "MZ" },
  { fileName: "slow.ps1", content: "Start-Sleep 900" },
  { fileName: "broken.ps1", content: "throw" },
];

let h: Harness;
afterEach(() => h?.emu.close());

async function start(devices: DeviceSpec[], extra: Parameters<typeof harness>[0] = {}) {
  h = await harness({
    devices,
    library: LIBRARY,
    defaultCommandDurationMs: 10_000,
    pickupDelayMs: 2_000,
    ...extra,
  });
  return h;
}
const idOf = (name: string) => {
  const i = h.emu.state.machineIds().findIndex((_, n) => n === Number(name));
  return h.emu.state.machineIds()[i] ?? "";
};
const submit = (machineId: string, body: unknown) =>
  h.call("POST", `/api/machines/${machineId}/runliveresponse`, body);
const get = async (actionId: string) => asAction(await h.call("GET", `/api/machineactions/${actionId}`));

describe("§7.4 case-sensitive body keys", () => {
  test("§7.4 wrong casing → 400 MissingRequiredParameter / InvalidRequestBody", async () => {
    await start([{ computerDnsName: "a" }]);
    const id = idOf("0");
    const lower = await submit(id, { commands: [runScript("triage.ps1")], Comment: "x" });
    expect(lower.status).toBe(400);
    expect(errorCode(lower)).toBe("MissingRequiredParameter");
    const badCommand = await submit(id, { Commands: [{ Type: "RunScript", Params: [] }], Comment: "x" });
    expect(badCommand.status).toBe(400);
    expect(errorCode(badCommand)).toBe("InvalidRequestBody");
    const badParam = await submit(id, {
      Commands: [{ type: "RunScript", params: [{ Key: "ScriptName", Value: "triage.ps1" }] }],
      Comment: "x",
    });
    expect(errorCode(badParam)).toBe("InvalidRequestBody");
    const missing = await submit(id, {
      Commands: [{ type: "GetFile", params: [{ key: "path", value: "C:\\x" }] }],
    });
    expect(errorCode(missing)).toBe("MissingRequiredParameter");
    expect((await submit(id, "{not json")).status).toBe(400);
    expect(h.emu.records.filter((r) => r.kind === "rejected").length).toBe(5);
  });
});

describe("§7.5 unknown machine", () => {
  test("§7.5 runliveresponse on an unknown machine → 404 ResourceNotFound", async () => {
    await start([{ computerDnsName: "a" }]);
    const r = await submit("ffffffffffffffffffffffffffffffffffffffff", {
      Commands: [runScript("triage.ps1")],
      Comment: "x",
    });
    expect(r.status).toBe(404);
    expect(errorCode(r)).toBe("ResourceNotFound");
  });
});

describe("§7.6 submission", () => {
  test("§7.6 valid runliveresponse → 201 with the exact Pending entity", async () => {
    await start([{ computerDnsName: "a.contoso.com" }]);
    const id = idOf("0");
    const r = await submit(id, {
      Commands: [putFile("tool.exe"), runScript("triage.ps1", "-All"), getFile("C:\\Windows\\Temp\\x.zip")],
      Comment: "Testing Live Response API",
    });
    expect(r.status).toBe(201);
    const {
      "@odata.context": ctx,
      id: actionId,
      creationDateTimeUtc,
      lastUpdateDateTimeUtc,
      ...rest
    } = r.json;
    expect(ctx).toMatch(/\/api\/\$metadata#MachineActions\/\$entity$/);
    expect(lastUpdateDateTimeUtc).toBe(creationDateTimeUtc);
    expect(typeof actionId).toBe("string");
    expect(rest).toEqual({
      type: "LiveResponse",
      title: null,
      requestor: h.emu.demoApp.clientId,
      requestorComment: "Testing Live Response API",
      status: "Pending",
      machineId: id,
      computerDnsName: "a.contoso.com",
      cancellationRequestor: null,
      cancellationComment: null,
      cancellationDateTimeUtc: null,
      errorHResult: 0,
      scope: null,
      externalId: null,
      requestSource: "PublicApi",
      relatedFileInfo: null,
      troubleshootInfo: null,
      commands: [
        { type: "PutFile", params: [{ key: "FileName", value: "tool.exe" }] },
        {
          type: "RunScript",
          params: [
            { key: "ScriptName", value: "triage.ps1" },
            { key: "Args", value: "-All" },
          ],
        },
        { type: "GetFile", params: [{ key: "Path", value: "C:\\Windows\\Temp\\x.zip" }] },
      ].map((command, index) => ({
        index,
        startTime: null,
        endTime: null,
        commandStatus: "Created",
        errors: [],
        command,
      })),
    });
    const submitRecord = h.emu.records.find((x) => x.kind === "submit");
    expect(submitRecord).toMatchObject({ actionId, machineId: id, comment: "Testing Live Response API" });
  });
});

describe("§7.7 one session per device", () => {
  test("§7.7 a second live response while one is Pending/InProgress → 400 ActiveRequestAlreadyExists", async () => {
    await start([{ computerDnsName: "a" }]);
    const id = idOf("0");
    const body = { Commands: [runScript("triage.ps1")], Comment: "first" };
    const first = await submit(id, body);
    expect(first.status).toBe(201);
    const again = await submit(id, body);
    expect(again.status).toBe(400);
    expect(again.json.error).toMatchObject({
      code: "ActiveRequestAlreadyExists",
      message: "Action is already in progress",
    });
    h.clock.advance(5_000); // InProgress now
    expect((await get(String(first.json.id))).status).toBe("InProgress");
    expect(errorCode(await submit(id, body))).toBe("ActiveRequestAlreadyExists");
    h.clock.advance(60_000); // finished: the device is free again
    expect((await submit(id, body)).status).toBe(201);
  });
});

describe("§7.8 lifecycle", () => {
  test("§7.8 Pending → InProgress → Succeeded with command times, statuses and lastUpdateDateTimeUtc", async () => {
    await start([{ computerDnsName: "a", files: { "C:\\out.txt": "hello" } }]);
    const r = await submit(idOf("0"), {
      Commands: [runScript("triage.ps1"), getFile("C:\\out.txt")],
      Comment: "x",
    });
    const actionId = String(r.json.id);
    const seen: string[] = [];
    let previousUpdate = "";
    const updates = new Set<string>();
    for (let t = 0; t <= 30_000; t += 1_000) {
      const a = await get(actionId);
      if (seen.at(-1) !== a.status) seen.push(a.status);
      // Compared as instants: with 2–7 fractional digits, string order is not time order.
      expect(
        Date.parse(a.lastUpdateDateTimeUtc) >= Date.parse(previousUpdate || "1970-01-01T00:00:00Z"),
      ).toBe(true);
      previousUpdate = a.lastUpdateDateTimeUtc;
      updates.add(a.lastUpdateDateTimeUtc);
      if (t === 5_000) {
        expect(a.commands[0]?.startTime).not.toBeNull();
        expect(a.commands[0]?.commandStatus).toBe("Created");
        expect(a.commands[1]?.startTime).toBeNull();
      }
      h.clock.advance(1_000);
    }
    expect(seen).toEqual(["Pending", "InProgress", "Succeeded"]);
    // creation, pickup, command 0 end / command 1 start, command 1 end
    expect(updates.size).toBe(4);
    const done = await get(actionId);
    expect(done.commands.map((c) => c.commandStatus)).toEqual(["Completed", "Completed"]);
    expect(done.commands[0]?.endTime).toBe(done.commands[1]?.startTime);
    expect(done.lastUpdateDateTimeUtc).toBe(done.commands[1]?.endTime);
    const statuses = h.emu.records
      .filter((x) => x.kind === "status")
      .map((x) => (x as { status: string }).status);
    expect(statuses).toEqual(["InProgress", "Succeeded"]);
  });

  test("§7.8 a failed command stops the rest; the action ends Failed", async () => {
    await start([{ computerDnsName: "a", scripts: { "broken.ps1": { fail: true, durationMs: 3_000 } } }]);
    const r = await submit(idOf("0"), {
      Commands: [putFile("tool.exe"), runScript("broken.ps1"), runScript("triage.ps1"), getFile("C:\\x")],
      Comment: "x",
    });
    h.clock.advance(3_600_000);
    const a = await get(String(r.json.id));
    expect(a.status).toBe("Failed");
    expect(a.commands.map((c) => c.commandStatus)).toEqual(["Completed", "Failed", "Created", "Created"]);
    expect(a.commands[1]?.errors.length).toBe(1);
    expect(a.commands[2]?.startTime).toBeNull();
  });

  test("§7.8 GetFile of a path the device lacks fails the command with an error string", async () => {
    await start([{ computerDnsName: "a" }]);
    const r = await submit(idOf("0"), { Commands: [getFile("C:\\nope.txt")], Comment: "x" });
    h.clock.advance(60_000);
    const a = await get(String(r.json.id));
    expect(a.status).toBe("Failed");
    expect(a.commands[0]?.errors[0]).toMatch(/nope\.txt/);
  });

  test("§7.8 a script's created files are found by a later GetFile", async () => {
    await start([
      { computerDnsName: "a", scripts: { "triage.ps1": { creates: { "C:\\Temp\\out.zip": "zip" } } } },
    ]);
    const r = await submit(idOf("0"), {
      Commands: [runScript("triage.ps1"), getFile("c:\\temp\\OUT.zip")],
      Comment: "x",
    });
    h.clock.advance(60_000);
    expect((await get(String(r.json.id))).status).toBe("Succeeded");
  });
});

describe("§7.9 offline devices", () => {
  test("§7.9 offline device: Pending for the 2 h queue window, then TimeOut", async () => {
    await start([{ computerDnsName: "a", offline: true }]);
    const r = await submit(idOf("0"), { Commands: [runScript("triage.ps1")], Comment: "x" });
    const actionId = String(r.json.id);
    h.clock.advance(2 * 3_600_000 - 1_000);
    expect((await get(actionId)).status).toBe("Pending");
    h.clock.advance(1_000);
    const a = await get(actionId);
    expect(a.status).toBe("TimeOut");
    expect(a.commands[0]?.commandStatus).toBe("Created");
  });

  test("§7.9 the queue window is configurable (3 days, older doc) and onlineAt picks the action up", async () => {
    await start([{ computerDnsName: "a", offline: true, onlineAt: Date.UTC(2026, 0, 16, 9, 0, 0) }], {
      limits: { queueWindowMs: 3 * 24 * 3_600_000 },
    });
    const r = await submit(idOf("0"), { Commands: [runScript("triage.ps1")], Comment: "x" });
    h.clock.advance(23 * 3_600_000);
    expect((await get(String(r.json.id))).status).toBe("Pending");
    h.clock.advance(3_600_000 + 60_000);
    expect((await get(String(r.json.id))).status).toBe("Succeeded");
  });

  test("§7.9 configure() bringing a device online picks up its queued action", async () => {
    await start([{ computerDnsName: "a", offline: true }]);
    const r = await submit(idOf("0"), { Commands: [runScript("triage.ps1")], Comment: "x" });
    h.clock.advance(600_000);
    expect((await get(String(r.json.id))).status).toBe("Pending");
    h.emu.configure({ devices: [{ computerDnsName: "a" }] });
    h.clock.advance(60_000);
    expect((await get(String(r.json.id))).status).toBe("Succeeded");
  });
});

describe("§7.10 RunScript timeout", () => {
  test("§7.10 a script running past 10 min fails that command at the 10 min mark", async () => {
    await start([{ computerDnsName: "a", scripts: { "slow.ps1": { durationMs: 15 * 60_000 } } }]);
    const r = await submit(idOf("0"), { Commands: [runScript("slow.ps1"), getFile("C:\\x")], Comment: "x" });
    h.clock.advance(2_000 + 10 * 60_000 - 1);
    expect((await get(String(r.json.id))).status).toBe("InProgress");
    h.clock.advance(1);
    const a = await get(String(r.json.id));
    expect(a.status).toBe("Failed");
    expect(a.commands[0]?.commandStatus).toBe("Failed");
    expect(a.commands[0]?.errors[0]).toMatch(/time limit/);
    expect(a.commands[1]?.commandStatus).toBe("Created");
  });
});

describe("§7.11 command order", () => {
  test("§7.11 PutFile* → RunScript* → GetFile* enforced with 400 InvalidRequestBody", async () => {
    await start([{ computerDnsName: "a" }]);
    const id = idOf("0");
    for (const commands of [
      [runScript("triage.ps1"), putFile("tool.exe")],
      [getFile("C:\\x"), runScript("triage.ps1")],
      [getFile("C:\\x"), putFile("tool.exe")],
    ]) {
      const r = await submit(id, { Commands: commands, Comment: "x" });
      expect(r.status).toBe(400);
      expect(errorCode(r)).toBe("InvalidRequestBody");
    }
    const ok = await submit(id, {
      Commands: [
        putFile("tool.exe"),
        putFile("tool.exe"),
        runScript("triage.ps1"),
        runScript("triage.ps1"),
        getFile("C:\\a"),
        getFile("C:\\b"),
      ],
      Comment: "x",
    });
    expect(ok.status).toBe(201);
  });
});

describe("§7.14 cancel", () => {
  test("§7.14 cancel a non-final action → 200 Cancelled with cancellation fields; final → 400; unknown → 404", async () => {
    await start([{ computerDnsName: "a" }]);
    const r = await submit(idOf("0"), {
      Commands: [runScript("triage.ps1"), runScript("triage.ps1")],
      Comment: "x",
    });
    const actionId = String(r.json.id);
    h.clock.advance(13_000); // first command done, second running
    const c = await h.call("POST", `/api/machineactions/${actionId}/cancel`, { Comment: "stop it" });
    expect(c.status).toBe(200);
    const a = asAction(c);
    expect(a.status).toBe("Cancelled");
    expect(a.cancellationComment).toBe("stop it");
    expect(a.cancellationRequestor).toBe(h.emu.demoApp.clientId);
    expect(a.cancellationDateTimeUtc).toBe(a.lastUpdateDateTimeUtc);
    expect(a.commands.map((x) => x.commandStatus)).toEqual(["Completed", "Created"]);
    h.clock.advance(3_600_000);
    expect((await get(actionId)).status).toBe("Cancelled");
    const again = await h.call("POST", `/api/machineactions/${actionId}/cancel`, { Comment: "again" });
    expect(again.status).toBe(400);
    const unknown = await h.call("POST", "/api/machineactions/7d2f4a0e-0000-4000-a000-000000000000/cancel", {
      Comment: "x",
    });
    expect(unknown.status).toBe(404);
    // A cancelled action frees the device.
    expect((await submit(idOf("0"), { Commands: [runScript("triage.ps1")], Comment: "y" })).status).toBe(201);
    expect(h.emu.records.some((x) => x.kind === "cancel" && x.actionId === actionId)).toBe(true);
  });
});

describe("§7.17 missing library files", () => {
  test("§7.17 behaviour.missingLibraryFile refuseAtSubmission (older choice): 400 at submission", async () => {
    await start([{ computerDnsName: "a" }], { behaviour: { missingLibraryFile: "refuseAtSubmission" } });
    for (const command of [putFile("missing.exe"), runScript("missing.ps1")]) {
      const r = await submit(idOf("0"), { Commands: [command], Comment: "x" });
      expect(r.status).toBe(400);
      expect(String((r.json.error as { message: string }).message)).toMatch(/missing\.(exe|ps1).*library/);
    }
    expect(h.emu.state.actions()).toEqual([]);
  });
});

describe("§7.21 device prerequisites", () => {
  test("§7.21 unsupported OS → 400 OsPlatformNotSupported; old agent → 400 ClientVersionNotSupported; no remediation level → 403 DisallowedOperation", async () => {
    await start([
      { computerDnsName: "w7", osPlatform: "Windows7", osBuild: 7601 },
      { computerDnsName: "w10-1703", osPlatform: "Windows10", osBuild: 15063 },
      { computerDnsName: "old-agent", osPlatform: "Windows11", agentVersion: "10.3720.16299.98" },
      { computerDnsName: "no-remediation", osPlatform: "Windows11", remediationLevel: false },
      { computerDnsName: "fine", osPlatform: "WindowsServer2022" },
    ]);
    const body = { Commands: [runScript("triage.ps1")], Comment: "x" };
    const results = [];
    for (const id of h.emu.state.machineIds()) {
      const r = await submit(id, body);
      results.push([r.status, errorCode(r) ?? "created"]);
    }
    expect(results).toEqual([
      [400, "OsPlatformNotSupported"],
      [400, "OsPlatformNotSupported"],
      [400, "ClientVersionNotSupported"],
      [403, "DisallowedOperation"],
      [201, "created"],
    ]);
  });
});
