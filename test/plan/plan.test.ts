/** Planning against the emulator over real HTTP on loopback: targets, preflight, library, plan. */
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMdeClient, type MdeClient } from "../../shared/api/client.js";
import type { Machine, MdeApi } from "../../shared/api/types.js";
import type { EmulatorHandle } from "../../shared/emulator/index.js";
import { machineIdFor, startEmulator } from "../../shared/emulator/index.js";
import { ForbiddenError, InputError, MdeApiError } from "../../shared/errors.js";
import {
  buildPlan,
  explainServiceError,
  preflight,
  resolveTargets,
  syncLibrary,
} from "../../shared/plan/index.js";
import { parseRunbook } from "../../shared/runbook/index.js";

const D = "lab.contoso.com";
let emu: EmulatorHandle;
let api: MdeClient;

beforeAll(async () => {
  emu = await startEmulator({
    devices: [
      { computerDnsName: `w11-a.${D}`, osPlatform: "Windows11", machineTags: ["Finance"] },
      { computerDnsName: `w11-b.${D}`, osPlatform: "Windows11", machineTags: ["Finance", "VIP"] },
      { computerDnsName: `o'brien-pc.${D}`, osPlatform: "Windows11", machineTags: ["HR"] },
      {
        computerDnsName: `w10-1809-kb.${D}`,
        osPlatform: "Windows10",
        osBuild: 17763,
        osVersion: "10.0.17763.1075",
      },
      {
        computerDnsName: `w10-1809-old.${D}`,
        osPlatform: "Windows10",
        osBuild: 17763,
        osVersion: "10.0.17763.973",
      },
      { computerDnsName: `w10-1809-unknown.${D}`, osPlatform: "Windows10", osBuild: 17763 },
      { computerDnsName: `w10-1703.${D}`, osPlatform: "Windows10", osBuild: 15063, version: "1703" },
      { computerDnsName: `srv2016.${D}`, osPlatform: "WindowsServer2016", osBuild: 14393 },
      { computerDnsName: `stale.${D}`, osPlatform: "Windows11", healthStatus: "Inactive" },
      { computerDnsName: `impaired.${D}`, osPlatform: "Windows11", healthStatus: "ImpairedCommunication" },
      { computerDnsName: `lnx.${D}`, osPlatform: "Linux", machineTags: ["Engineering"] },
      ...Array.from({ length: 12 }, (_, i) => ({
        computerDnsName: `bulk-${String(i).padStart(2, "0")}.${D}`,
        osPlatform: "Windows11",
        machineTags: ["Bulk"],
      })),
    ],
    library: [{ fileName: "existing.ps1", content: "Write-Output 'hi'\n" }],
  });
  api = createMdeClient(emu.connectionOptions());
});

afterAll(async () => {
  await api?.close();
  await emu?.close();
});

const id = (name: string) => machineIdFor(`${name}.${D}`);
const submissions = () => emu.records.filter((r) => r.kind === "submit").length;

describe("resolveTargets", () => {
  it("merges every selector, de-duplicates by id and reports what found nothing", async () => {
    const missingId = "0".repeat(40);
    const resolved = await resolveTargets(
      api,
      {
        machineIds: [id("w11-a"), missingId],
        computerNames: [`W11-A.${D}`, `o'brien-pc.${D}`, "ghost.lab.contoso.com", "w11-b"],
        tags: ["Finance", "NoSuchTag"],
        filter: "osPlatform eq 'Linux'",
      },
      { maxDevices: 50 },
    );
    // Tags and the filter resolve first (the device cap needs them), then ids, then names.
    expect(resolved.machines.map((m) => m.computerDnsName)).toEqual([
      `w11-a.${D}`,
      `w11-b.${D}`,
      `lnx.${D}`,
      `o'brien-pc.${D}`,
    ]);
    expect(resolved.unresolved.map((u) => [u.selector, u.value, u.error.code])).toEqual([
      ["tags", "NoSuchTag", "Target.NotFound"],
      ["machineIds", missingId, "Target.NotFound"],
      ["computerNames", "ghost.lab.contoso.com", "Target.NotFound"],
      ["computerNames", "w11-b", "Target.NotFound"],
    ]);
    expect(resolved.unresolved[3]!.error.message).toMatch(/full DNS name/);
  });

  it("batches computer names: 12 names cost 1 machine list call", async () => {
    const before = emu.state.callCounts();
    const names = Array.from({ length: 12 }, (_, i) => `bulk-${String(i).padStart(2, "0")}.${D}`);
    const resolved = await resolveTargets(
      api,
      { machineIds: [], computerNames: names, tags: [], filter: null },
      { maxDevices: 50 },
    );
    expect(resolved.machines).toHaveLength(12);
    const after = emu.state.callCounts();
    const listCalls = Object.entries(after)
      .filter(([k]) => /machines/i.test(k) && !/findbytag|runliveresponse/i.test(k))
      .reduce((n, [k, v]) => n + v - (before[k] ?? 0), 0);
    expect(listCalls).toBe(1);
  });

  it("enforces maxDevices with a message saying how to raise it", async () => {
    const err = await resolveTargets(
      api,
      { machineIds: [], computerNames: [], tags: ["Bulk"], filter: null },
      { maxDevices: 5 },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).field).toBe("options.maxDevices");
    expect((err as Error).message).toMatch(/reach up to 12 devices.*raise options.maxDevices to 12/);
  });

  it("turns a filter the service rejects into an InputError on targets.filter", async () => {
    const err = await resolveTargets(
      api,
      { machineIds: [], computerNames: [], tags: [], filter: "osPlatform eq" },
      { maxDevices: 5 },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).field).toBe("targets.filter");
  });

  it("follows mergedIntoMachineId to the surviving record", async () => {
    // The emulator has no merged records; mark one on the way out of the real client.
    const merging: MdeApi = {
      ...api,
      getMachine: (machineId, o) => api.getMachine(machineId, o),
      listMachines: async (q, o) =>
        (await api.listMachines(q, o)).map(
          (m): Machine => (m.id === id("w11-b") ? { ...m, mergedIntoMachineId: id("w11-a") } : m),
        ),
      findMachinesByTag: (t, s, o) => api.findMachinesByTag(t, s, o),
    };
    const resolved = await resolveTargets(
      merging,
      { machineIds: [], computerNames: [`w11-b.${D}`], tags: ["Finance"], filter: null },
      { maxDevices: 50 },
    );
    expect(resolved.machines.map((m) => m.id).sort()).toEqual([id("w11-a"), id("w11-b")].sort());
    const onlyMerged = await resolveTargets(
      merging,
      { machineIds: [], computerNames: [`w11-b.${D}`], tags: [], filter: null },
      { maxDevices: 50 },
    );
    expect(onlyMerged.machines.map((m) => m.id)).toEqual([id("w11-a")]);
  });
});

describe("preflight", () => {
  it("skips inactive, unhealthy and unsupported devices with a reason, warns where unsure", async () => {
    const machines = await api.listMachines({ filter: "not (startswith(computerDnsName,'bulk-'))" });
    const result = preflight(machines, { onIneligible: "skip" });
    const skipped = Object.fromEntries(
      result.skipped.map((s) => [s.computerDnsName!.split(".")[0], s.error.code]),
    );
    expect(skipped).toEqual({
      "w10-1809-old": "Preflight.UnsupportedOs",
      "w10-1703": "Preflight.UnsupportedOs",
      srv2016: "Preflight.UnsupportedOs",
      stale: "Preflight.Inactive",
      impaired: "Preflight.Unhealthy",
    });
    expect(result.skipped.find((s) => s.computerDnsName?.startsWith("w10-1809-old"))!.error.message).toMatch(
      /lacks KB4537818.*17763\.1075/,
    );
    const eligible = result.eligible.map((m) => m.computerDnsName!.split(".")[0]).sort();
    expect(eligible).toEqual(["lnx", "o'brien-pc", "w10-1809-kb", "w10-1809-unknown", "w11-a", "w11-b"]);
    const warned = result.warnings.map((w) => w.computerDnsName!.split(".")[0]).sort();
    expect(warned).toEqual(["lnx", "w10-1809-unknown"]);
  });

  it("fails the run before submitting when onIneligible is fail", async () => {
    const machines = await api.listMachines({ filter: `computerDnsName eq 'stale.${D}'` });
    expect(() => preflight(machines, { onIneligible: "fail" })).toThrow(
      /options.onIneligible: 1 device.*stale/,
    );
  });
});

describe("syncLibrary", () => {
  it("uploads only what differs, never twice, and checks step names before touching the library", async () => {
    const dir = await mkdtemp(join(tmpdir(), "lib-"));
    await writeFile(join(dir, "existing.ps1"), "Write-Output 'hi'\n");
    await writeFile(join(dir, "new.ps1"), "Write-Output 'new'\n");
    const rb = parseRunbook(
      [
        "name: lib",
        "targets: {tags: [Finance]}",
        "commands: [{runScript: new.ps1}, {runScript: existing.ps1}]",
        "library: [{path: existing.ps1}, {path: new.ps1, description: fresh}]",
      ].join("\n"),
      { baseDir: dir },
    );
    const dry = await syncLibrary(api, rb.library, { dryRun: true, steps: rb.commands });
    expect(dry).toMatchObject({ uploaded: ["new.ps1"], unchanged: ["existing.ps1"], dryRun: true });
    expect(emu.state.libraryFileNames()).not.toContain("new.ps1");

    const first = await syncLibrary(api, rb.library, { steps: rb.commands });
    expect(first.uploaded).toEqual(["new.ps1"]);
    expect(emu.state.libraryFileNames()).toContain("new.ps1");
    const second = await syncLibrary(api, rb.library, { steps: rb.commands });
    expect(second).toMatchObject({ uploaded: [], unchanged: ["existing.ps1", "new.ps1"] });

    await writeFile(join(dir, "new.ps1"), "Write-Output 'changed'\n");
    expect((await syncLibrary(api, rb.library)).uploaded).toEqual(["new.ps1"]);

    const err = await syncLibrary(api, [], {
      steps: [
        { type: "PutFile", fileName: "absent-tool.exe" },
        { type: "RunScript", scriptName: "existing.ps1", args: null },
      ],
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).field).toBe("commands[0].putFile");
    expect((err as Error).message).toMatch(/"absent-tool.exe" is not in the Live Response library/);

    const missing = await syncLibrary(api, [{ ...rb.library[0]!, path: join(dir, "nope.ps1") }]).catch(
      (e: unknown) => e,
    );
    expect((missing as InputError).field).toBe("library[0].path");
  });

  it("uploads (with override) a file whose listing carries no sha256, and lists it without crashing", async () => {
    const local = await startEmulator({
      library: [{ fileName: "same.ps1", content: "Write-Output 'same'\n" }],
      behaviour: { librarySha256: "omitted" },
    });
    const client = createMdeClient({
      apiUrl: local.url,
      accessToken: local.issueToken(),
      clock: local.clock,
    });
    try {
      const dir = await mkdtemp(join(tmpdir(), "lib-nosha-"));
      await writeFile(join(dir, "same.ps1"), "Write-Output 'same'\n");
      const listed = await client.listLibraryFiles();
      expect(listed).toMatchObject([{ fileName: "same.ps1", sha256: null, hasParameters: false }]);
      // Same bytes, but nothing proves it: a sync must not call it unchanged (nor throw a TypeError).
      const rb = parseRunbook(
        [
          "name: lib",
          "targets: {tags: [X]}",
          "commands: [{runScript: same.ps1}]",
          "library: [{path: same.ps1}]",
        ].join("\n"),
        { baseDir: dir },
      );
      const result = await syncLibrary(client, rb.library, { steps: rb.commands });
      expect(result).toMatchObject({ uploaded: ["same.ps1"], unchanged: [] });
      expect(local.state.libraryFileNames()).toEqual(["same.ps1"]);
    } finally {
      await client.close();
      await local.close();
    }
  });
});

describe("buildPlan", () => {
  it("resolves, skips, packs, counts calls and estimates time without submitting", async () => {
    const before = submissions();
    const rb = parseRunbook(
      [
        "name: plan-test",
        "targets:",
        "  tags: [Finance, HR]",
        "  computerNames: [stale.lab.contoso.com, nowhere.lab.contoso.com]",
        "commands:",
        "  - runScript: existing.ps1",
        "  - getFile: 'C:\\Windows\\Temp\\a.txt'",
        "  - runScript: existing.ps1",
        "    args: '-Second'",
        "  - getFile: 'C:\\Windows\\Temp\\b.txt'",
        "options: {pollInterval: 10}",
      ].join("\n"),
    );
    const plan = await buildPlan(api, rb);
    expect(submissions()).toBe(before);
    expect(plan.devices.map((d) => d.computerDnsName).sort()).toEqual([
      `o'brien-pc.${D}`,
      `w11-a.${D}`,
      `w11-b.${D}`,
    ]);
    expect(plan.skipped).toEqual([
      {
        machineId: id("stale"),
        computerDnsName: `stale.${D}`,
        error: expect.objectContaining({ code: "Preflight.Inactive" }),
      },
    ]);
    expect(plan.unresolved.map((u) => u.value)).toEqual(["nowhere.lab.contoso.com"]);
    expect(plan.devices[0]!.actions.map((a) => a.steps)).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(plan.actions).toBe(6);
    expect(plan.calls).toMatchObject({
      runLiveResponse: 6,
      getResultDownloadLink: 12,
      listLibraryFiles: 1,
      uploadLibraryFile: 0,
    });
    expect(plan.calls.getMachineAction).toBeGreaterThan(6);
    expect(plan.eta.assumedSessionSeconds).toBe(180);
    // 6 actions, k = 19 polls (180 s / 10 s + 1) + 2 links: 36 s of submissions, 6·180/25 s of sessions,
    // 6·21/1500 h = 302.4 s of hourly calls, a second action after the first = 180 s; + one session (180 s).
    expect(plan.eta).toMatchObject({ seconds: 483, bottleneck: "hourlyCalls" });
    expect(JSON.parse(JSON.stringify(plan))).toEqual(plan);
  });

  it("honours machineIds overrides and reports missing library names as input errors", async () => {
    const rb = parseRunbook("name: p\ntargets: {tags: [Finance]}\ncommands: [{runScript: not-there.ps1}]\n");
    await expect(buildPlan(api, rb)).rejects.toThrow(/commands\[0\]\.runScript: "not-there.ps1" is not in/);
    const getOnly = parseRunbook("name: p\ntargets: {tags: [Finance]}\ncommands: [{getFile: 'C:\\x'}]\n");
    const plan = await buildPlan(api, getOnly, { machineIds: [id("lnx").toUpperCase()] });
    expect(plan.devices.map((d) => d.machineId)).toEqual([id("lnx")]);
    expect(plan.library).toBeNull();
    expect(plan.warnings.join("\n")).toMatch(/Linux.*undocumented/);
  });

  it("estimates a large fan-out from the quotas", async () => {
    const rb = parseRunbook(
      "name: big\ntargets: {tags: [Bulk]}\ncommands: [{getFile: 'C:\\x'}]\noptions: {limits: {submitPerMinute: 1}}\n",
    );
    const plan = await buildPlan(api, rb);
    expect(plan.eta.bottleneck).toBe("submissions");
    expect(plan.eta.seconds).toBe(12 * 60 + 120);
    const canary = await buildPlan(api, { ...rb, options: { ...rb.options, canary: 2 } });
    expect(canary.eta.seconds).toBe(12 * 60 + 120 + 120);
  });
});

describe("explainServiceError", () => {
  const init = { status: 403, message: "x", method: "POST", path: "/api/machines/1/runliveresponse" };
  it("names the fix for setup errors", () => {
    expect(explainServiceError(new ForbiddenError({ ...init, code: "DisallowedOperation" })).message).toMatch(
      /Device groups.*automation level/,
    );
    expect(
      explainServiceError(
        new ForbiddenError({ ...init, code: "Forbidden", requiredRole: "Machine.LiveResponse" }),
      ).message,
    ).toMatch(/Machine.LiveResponse application permission.*admin consent/);
    expect(
      explainServiceError(new MdeApiError({ ...init, status: 400, code: "OsPlatformNotSupported" })),
    ).toEqual({
      code: "OsPlatformNotSupported",
      message: expect.stringMatching(/operating system/),
    });
    expect(
      explainServiceError(new MdeApiError({ ...init, status: 400, code: "ClientVersionNotSupported" }))
        .message,
    ).toMatch(/update the sensor/);
    expect(
      explainServiceError(new MdeApiError({ ...init, status: 500, code: "InternalServerError" })).code,
    ).toBe("InternalServerError");
  });

  it("matches what the emulator answers for a device group without remediation", async () => {
    const local = await startEmulator({
      devices: [{ computerDnsName: "locked.lab", osPlatform: "Windows11", remediationLevel: false }],
    });
    const client = createMdeClient({
      apiUrl: local.url,
      accessToken: local.issueToken(),
      clock: local.clock,
    });
    try {
      const err = await client
        .runLiveResponse(machineIdFor("locked.lab"), {
          Commands: [{ type: "GetFile", params: [{ key: "Path", value: "C:\\x" }] }],
          Comment: "t",
        })
        .catch((e: unknown) => e);
      expect(explainServiceError(err)).toEqual({
        code: "DisallowedOperation",
        message: expect.stringMatching(/remediation level/),
      });
    } finally {
      await client.close();
      await local.close();
    }
  });
});
