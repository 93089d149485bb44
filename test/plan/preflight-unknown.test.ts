/**
 * Preflight with fields the service leaves out or sends as null (real-captures D5, R5): unknown is
 * unknown — the device runs with a warning naming the field — never a skip or a crash. Entities come
 * through the API boundary (normalizeMachine) as the client sees them, and over HTTP from the emulator.
 */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMdeClient, type MdeClient } from "../../shared/api/client.js";
import { normalizeMachine } from "../../shared/api/shape.js";
import type { Machine } from "../../shared/api/types.js";
import { type EmulatorHandle, machineIdFor, startEmulator } from "../../shared/emulator/index.js";
import { preflight } from "../../shared/plan/index.js";

const capture = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(`/work/shared/real-captures/${name}`, "utf8")) as Record<string, unknown>;

const base = {
  id: "a".repeat(40),
  computerDnsName: "host.contoso.com",
  osPlatform: "Windows11",
  healthStatus: "Active",
  onboardingStatus: "Onboarded",
};
const one = (fields: Record<string, unknown>) =>
  preflight([normalizeMachine({ ...base, ...fields })], { onIneligible: "skip" });

describe("normalizeMachine (the API boundary)", () => {
  it("capture D5: absent fields become null; the answer's own fields are kept", () => {
    const m = normalizeMachine(capture("D5-docs-get-machine-by-id.json"));
    expect(m.onboardingStatus).toBeNull();
    expect(m.osVersion).toBeNull();
    expect(m.agentVersion).toBeNull();
    expect(m.mergedIntoMachineId).toBeNull();
    expect(m).toMatchObject({
      osPlatform: "Windows10",
      version: "1709",
      osBuild: 18209,
      healthStatus: "Active",
    });
    expect((m as unknown as Record<string, unknown>).riskScore).toBe("Low");
    for (const [key, value] of Object.entries(m)) expect(value, key).not.toBeUndefined();
  });

  it("wrongly typed values are unknown, numbers sent as strings are numbers", () => {
    const m = normalizeMachine({
      id: "b".repeat(40),
      osBuild: "19042",
      healthStatus: 3,
      machineTags: ["a", 7, null, "b"],
      rbacGroupId: "x",
      computerDnsName: null,
    });
    expect(m).toMatchObject({
      osBuild: 19042,
      healthStatus: null,
      machineTags: ["a", "b"],
      rbacGroupId: null,
      computerDnsName: null,
    });
    expect(normalizeMachine({ id: "c".repeat(40), machineTags: "x" }).machineTags).toBeNull();
  });
});

describe("preflight: unknown is unknown", () => {
  it("capture D5: Microsoft's machine example runs, with warnings naming onboardingStatus and the build", () => {
    const result = preflight([normalizeMachine(capture("D5-docs-get-machine-by-id.json"))], {
      onIneligible: "fail",
    });
    expect(result.skipped).toEqual([]);
    expect(result.eligible).toHaveLength(1);
    const text = result.warnings.map((w) => w.message).join("\n");
    expect(text).toMatch(/onboardingStatus is not in the device record/);
    expect(text).toMatch(/build 18209/);
  });

  it("capture R5: the captured machine runs without a warning", () => {
    const result = preflight([normalizeMachine(capture("R5-demisto-2022-machine.json"))], {
      onIneligible: "fail",
    });
    expect(result.eligible).toHaveLength(1);
    expect(result.warnings.map((w) => w.message).join("\n")).toMatch(/onboardingStatus/);
    expect(result.warnings.map((w) => w.message).join("\n")).not.toMatch(/build/);
  });

  it.each([
    ["healthStatus absent", { healthStatus: undefined }, /healthStatus is not in the device record/],
    ["healthStatus null", { healthStatus: null }, /healthStatus is not in the device record/],
    ["healthStatus Unknown (a documented value)", { healthStatus: "Unknown" }, /healthStatus is Unknown/],
    [
      "onboardingStatus absent",
      { onboardingStatus: undefined },
      /onboardingStatus is not in the device record/,
    ],
    ["onboardingStatus InsufficientInfo", { onboardingStatus: "InsufficientInfo" }, /InsufficientInfo/],
    ["osPlatform absent", { osPlatform: undefined }, /osPlatform is not in the device record/],
    ["Windows 10 with no build fields", { osPlatform: "Windows10" }, /build unknown/],
    [
      "Windows 10 with an unknown release name",
      { osPlatform: "Windows10", osVersion: "30H7" },
      /osVersion "30H7"/,
    ],
  ])("%s → eligible, warned", (_name, fields, warning) => {
    const result = one(fields);
    expect(result.skipped).toEqual([]);
    expect(result.eligible).toHaveLength(1);
    expect(result.warnings.map((w) => w.message).join("\n")).toMatch(warning);
  });

  it.each([
    ["Inactive", { healthStatus: "Inactive" }, "Preflight.Inactive"],
    ["ImpairedCommunication", { healthStatus: "ImpairedCommunication" }, "Preflight.Unhealthy"],
    ["CanBeOnboarded", { onboardingStatus: "CanBeOnboarded" }, "Preflight.NotOnboarded"],
    ["Windows 10 1703", { osPlatform: "Windows10", osBuild: 15063 }, "Preflight.UnsupportedOs"],
  ])("a known bad value still skips: %s", (_name, fields, code) => {
    const result = one(fields);
    expect(result.skipped.map((s) => s.error.code)).toEqual([code]);
  });

  it("tolerates entities that skipped the boundary (undefined fields) without throwing", () => {
    const raw = { id: "d".repeat(40) } as unknown as Machine;
    const result = preflight([raw], { onIneligible: "skip" });
    expect(result.eligible).toHaveLength(1);
    expect(result.warnings.length).toBeGreaterThanOrEqual(3);
    expect(result.warnings.every((w) => w.computerDnsName === null)).toBe(true);
  });
});

describe("over HTTP from the emulator", () => {
  let emu: EmulatorHandle;
  let api: MdeClient;
  const D = "lab.contoso.com";
  beforeAll(async () => {
    emu = await startEmulator({
      devices: [
        {
          computerDnsName: `d5.${D}`,
          osPlatform: "Windows10",
          version: "1709",
          osBuild: 18209,
          absentFields: ["onboardingStatus", "osVersion", "agentVersion"],
        },
        { computerDnsName: `nohealth.${D}`, absentFields: ["healthStatus", "lastIpAddress"] },
        {
          computerDnsName: `nulls.${D}`,
          nullFields: ["onboardingStatus", "healthStatus", "osPlatform", "osBuild"],
        },
        { computerDnsName: `r5.${D}`, osPlatform: "Windows10", osVersion: "20H2", osBuild: 19042 },
        {
          computerDnsName: `named.${D}`,
          osPlatform: "Windows10",
          osVersion: "21H2",
          absentFields: ["osBuild", "version"],
        },
      ],
    });
    api = createMdeClient(emu.connectionOptions());
  });
  afterAll(async () => {
    await api?.close();
    await emu?.close();
  });

  it("getMachine and listMachines hand preflight nulls, and every device is eligible", async () => {
    const one = await api.getMachine(machineIdFor(`d5.${D}`));
    expect(one.onboardingStatus).toBeNull();
    const all = await api.listMachines();
    expect(all).toHaveLength(5);
    for (const m of all)
      for (const [k, v] of Object.entries(m)) expect(v, `${m.computerDnsName} ${k}`).not.toBeUndefined();
    const result = preflight(all, { onIneligible: "fail" });
    expect(result.eligible).toHaveLength(5);
    const warned = new Set(result.warnings.map((w) => w.computerDnsName?.split(".")[0]));
    expect([...warned].sort()).toEqual(["d5", "nohealth", "nulls"]);
  });
});
