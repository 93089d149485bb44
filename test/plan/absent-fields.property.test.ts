/**
 * Property: no documented machine field's absence (or null) crashes or skips a device (issue 13, point 1).
 * Emulator fleets whose machine entities leave out or null any subset of the optional fields
 * (real-captures D5) go over real HTTP through startRun — planning, scheduling, collecting, reporting —
 * and every run ends with a valid report in which every supported device ran.
 *
 * A few runs in `npm test`; `MDE_LR_PROPERTY_RUNS=200` for a long run (MDE_LR_PROPERTY_SEED to replay).
 */
import { rmSync } from "node:fs";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { createMdeClient } from "../../shared/api/client.js";
import { ScaledClock } from "../../shared/clock.js";
import { startEmulator } from "../../shared/emulator/index.js";
import type { DeviceSpec, MachineField } from "../../shared/emulator/types.js";
import { startRun } from "../../shared/run/index.js";
import type { RunEvent } from "../../shared/run/types.js";
import { runbookFrom, tempDir } from "../run/helpers.js";
import { validateReport } from "../run/schema.js";

const RUNS = Number(process.env.MDE_LR_PROPERTY_RUNS ?? 20);
const SEED = process.env.MDE_LR_PROPERTY_SEED ? Number(process.env.MDE_LR_PROPERTY_SEED) : undefined;

/** Every optional Machine field (only `id` is guaranteed). */
const OPTIONAL: MachineField[] = [
  "mergedIntoMachineId",
  "isPotentialDuplication",
  "isExcluded",
  "exclusionReason",
  "computerDnsName",
  "firstSeen",
  "lastSeen",
  "osPlatform",
  "osVersion",
  "osProcessor",
  "version",
  "lastIpAddress",
  "lastExternalIpAddress",
  "agentVersion",
  "osBuild",
  "healthStatus",
  "deviceValue",
  "rbacGroupId",
  "rbacGroupName",
  "riskScore",
  "exposureLevel",
  "isAadJoined",
  "aadDeviceId",
  "machineTags",
  "defenderAvStatus",
  "onboardingStatus",
  "osArchitecture",
  "managedBy",
  "managedByStatus",
  "ipAddresses",
  "vmMetadata",
];

/** Devices live response supports (so none may be skipped), in the forms the service describes them. */
const OS = fc.constantFrom<Pick<DeviceSpec, "osPlatform" | "osVersion" | "osBuild" | "version">>(
  { osPlatform: "Windows11", osBuild: 22631, version: "23H2" },
  { osPlatform: "Windows10", osVersion: "20H2", osBuild: 19042 }, // R5
  { osPlatform: "Windows10", osVersion: "22H2", osBuild: 19045 },
  { osPlatform: "Windows10", osVersion: "10.0.19045.4046", osBuild: 19045 },
  { osPlatform: "Windows10", version: "1709", osBuild: 18209 }, // D5
  { osPlatform: "WindowsServer2022", osBuild: 20348, version: "21H2" },
  { osPlatform: "Linux", osVersion: "Ubuntu 22.04" },
);

const device = fc.record({
  os: OS,
  absent: fc.subarray(OPTIONAL),
  nulled: fc.subarray(OPTIONAL),
  layout: fc.constantFrom("captured" as const, "docs" as const, "compact" as const),
});
const scenario = fc.record({
  devices: fc.array(device, { minLength: 1, maxLength: 3 }),
  byTag: fc.boolean(),
});

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("property: absent or null machine fields", () => {
  it(
    "never crash or skip a device through planning, scheduling and reporting",
    async () => {
      await fc.assert(
        fc.asyncProperty(scenario, async ({ devices, byTag }) => {
          const clock = new ScaledClock({ scale: 2_000 });
          const specs: DeviceSpec[] = devices.map((d, i) => ({
            computerDnsName: `dev-${i}.lab.contoso.com`,
            ...d.os,
            machineTags: ["IR"],
            files: { "C:\\Windows\\Temp\\out.txt": `evidence ${i}` },
            transcriptLayout: d.layout,
            ...(d.absent.length > 0 ? { absentFields: d.absent } : {}),
            ...(d.nulled.length > 0 ? { nullFields: d.nulled } : {}),
          }));
          const emu = await startEmulator({
            clock,
            devices: specs,
            library: [{ fileName: "collect.ps1", content: "Get-Process" }],
            defaultCommandDurationMs: 3_000,
            recordCalls: false,
          });
          const client = createMdeClient({
            apiUrl: emu.url,
            accessToken: emu.issueToken({ lifetimeMs: 100 * 3_600_000 }),
            clock,
            env: {},
          });
          const outDir = tempDir("absent");
          dirs.push(outDir);
          const events: RunEvent[] = [];
          try {
            const ids = emu.state.machineIds();
            const targets = byTag ? "{ tags: [IR] }" : `{ machineIds: [${ids.join(", ")}] }`;
            const report = await startRun(
              { api: client, clock, onEvent: (e) => events.push(e) },
              {
                runbook: runbookFrom(`
name: absent-fields
targets: ${targets}
commands:
  - runScript: collect.ps1
  - getFile: 'C:\\Windows\\Temp\\out.txt'
options: { timeout: 20m, pollInterval: 5s, onIneligible: fail }
`),
                baseDir: outDir,
                outDir,
              },
            );
            expect(validateReport(report)).toEqual([]);
            expect(report.machines.map((m) => m.machineId).sort()).toEqual([...ids].sort());
            expect(report.machines.map((m) => [m.machineId, m.status])).toEqual(
              report.machines.map((m) => [m.machineId, "succeeded"]),
            );
            expect(report.counts.skipped).toBe(0);
            expect(events.filter((e) => e.type === "warning" && /internal/i.test(e.message))).toEqual([]);
          } finally {
            await client.close();
            await emu.close();
          }
        }),
        { numRuns: RUNS, ...(SEED !== undefined ? { seed: SEED } : {}) },
      );
    },
    Math.max(30_000, RUNS * 5_000),
  );
});
