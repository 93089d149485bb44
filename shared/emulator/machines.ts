/**
 * Devices as the machines API returns them (mde-api.md §5.4) and the live response prerequisites
 * of §4.11 / §7.21 (supported OS list, agent version, device-group remediation level).
 */
import { createHash } from "node:crypto";
import type { Stamp } from "./time.js";
import type { DeviceSpec, MachineField } from "./types.js";

/**
 * A device after defaults are applied; `spec` stays the source of behaviour. `entity` is what the API
 * answers (fields from `absentFields` left out, `nullFields` null); `view` is the same with every field
 * present (absent → null), for $filter/$orderby, which treat a missing property as null; `facts` are
 * what the device really is, which the service's own checks use whatever the entity shows.
 */
export interface Device {
  id: string;
  spec: DeviceSpec;
  entity: Record<string, unknown>;
  view: Record<string, unknown>;
  facts: { osPlatform: string; osBuild: number | null; agentVersion: string; rbacGroupName: string };
}

export function machineIdFor(name: string): string {
  return createHash("sha1").update(`mde-emulator:${name}`).digest("hex");
}

export function toDevice(spec: DeviceSpec, now: number, stamp: Stamp): Device {
  const id = spec.id ?? machineIdFor(spec.computerDnsName);
  if (!/^[0-9a-f]{40}$/.test(id)) {
    throw new RangeError(`devices[].id must be 40 lowercase hex characters, got '${id}'`);
  }
  const osPlatform = spec.osPlatform ?? "Windows11";
  const lastSeen = spec.offline ? now - 6 * 3600_000 : now - 60_000;
  const full: Record<string, unknown> = {
    id,
    mergedIntoMachineId: null,
    isPotentialDuplication: false,
    isExcluded: false,
    exclusionReason: null,
    computerDnsName: spec.computerDnsName,
    firstSeen: stamp(now - 90 * 24 * 3600_000),
    lastSeen: stamp(lastSeen),
    osPlatform,
    osVersion: spec.osVersion ?? null,
    osProcessor: "x64",
    version: spec.version ?? (osPlatform.startsWith("Windows") ? "22H2" : null),
    lastIpAddress: "10.0.0.1",
    lastExternalIpAddress: "203.0.113.10",
    agentVersion: spec.agentVersion ?? "10.8760.22621.1",
    osBuild: spec.osBuild ?? (osPlatform === "Windows11" ? 22621 : osPlatform === "Windows10" ? 19045 : null),
    healthStatus: spec.healthStatus ?? "Active",
    deviceValue: "Normal",
    rbacGroupId: spec.rbacGroupId ?? 1,
    rbacGroupName: spec.rbacGroupName ?? "Servers and workstations",
    riskScore: "Low",
    exposureLevel: "Medium",
    isAadJoined: true,
    aadDeviceId: null,
    machineTags: spec.machineTags ?? [],
    defenderAvStatus: "Updated",
    onboardingStatus: spec.onboardingStatus ?? "Onboarded",
    osArchitecture: "64-bit",
    managedBy: "Intune",
    managedByStatus: "Success",
    ipAddresses: [],
    vmMetadata: null,
  };
  const absent = new Set<string>(spec.absentFields ?? []);
  const nulled = new Set<string>(spec.nullFields ?? []);
  for (const field of [...absent, ...nulled]) {
    if (field === "id" || !(field in full)) {
      throw new RangeError(
        `devices[].absentFields/nullFields: '${field}' is not an optional Machine field (id is always present)`,
      );
    }
  }
  const entity: Record<string, unknown> = {};
  const view: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(full)) {
    const shown = nulled.has(key) ? null : value;
    view[key] = absent.has(key) ? null : shown;
    if (!absent.has(key)) entity[key] = shown;
  }
  const facts = {
    osPlatform,
    osBuild: typeof full.osBuild === "number" ? full.osBuild : null,
    agentVersion: String(full.agentVersion),
    rbacGroupName: String(full.rbacGroupName),
  };
  return { id, spec, entity, view, facts };
}

/** Fields a sparse fleet device may leave out (D5, R5): the optional ones a client is likely to read. */
export const SPARSE_FIELDS: readonly MachineField[] = [
  "onboardingStatus",
  "healthStatus",
  "osVersion",
  "version",
  "osBuild",
  "lastIpAddress",
  "lastExternalIpAddress",
  "agentVersion",
  "rbacGroupName",
  "aadDeviceId",
  "lastSeen",
  "mergedIntoMachineId",
  "osPlatform",
];

/** Windows release names (the form `osVersion` takes in R5, `20H2`) per platform family → build. */
export const RELEASE_BUILDS: Record<"Windows10" | "Windows11" | "WindowsServer", Record<string, number>> = {
  Windows10: {
    "1507": 10240,
    "1511": 10586,
    "1607": 14393,
    "1703": 15063,
    "1709": 16299,
    "1803": 17134,
    "1809": 17763,
    "1903": 18362,
    "1909": 18363,
    "2004": 19041,
    "20H2": 19042,
    "21H1": 19043,
    "21H2": 19044,
    "22H2": 19045,
  },
  Windows11: { "21H2": 22000, "22H2": 22621, "23H2": 22631, "24H2": 26100, "25H2": 26200 },
  WindowsServer: { "1607": 14393, "1809": 17763, "21H2": 20348, "23H2": 25398, "24H2": 26100 },
};

/** The release name of a Windows build (undefined when the build is not a known release). */
export function releaseNameOf(osPlatform: string, build: number | undefined): string | undefined {
  if (build === undefined) return undefined;
  const family = osPlatform.startsWith("WindowsServer")
    ? "WindowsServer"
    : osPlatform === "Windows10" || osPlatform === "Windows11"
      ? osPlatform
      : undefined;
  if (!family) return undefined;
  return Object.entries(RELEASE_BUILDS[family]).find(([, b]) => b === build)?.[0];
}

export type PrerequisiteFailure = { status: 400 | 403; code: string; message: string };

/** Windows 10 builds at or above 1709 ship the live response agent the API needs (with KBs, §4.11). */
const MIN_WINDOWS10_BUILD = 16299;
/** Agents older than this cannot run live response through the API (emulator's threshold). */
const MIN_AGENT = [10, 6000];

const SUPPORTED = new Set([
  "Windows11",
  "Windows10",
  "WindowsServer2019",
  "WindowsServer2022",
  "WindowsServer2025",
  "macOS",
  "Linux",
]);

/** Decided on what the device is (`facts`), not on what its entity shows: a hidden field hides nothing from the service. */
export function checkPrerequisites(device: Device): PrerequisiteFailure | undefined {
  const platform = device.facts.osPlatform;
  if (!SUPPORTED.has(platform)) {
    return {
      status: 400,
      code: "OsPlatformNotSupported",
      message: `Live response is not supported on OS platform ${platform}`,
    };
  }
  const build = device.facts.osBuild;
  if (platform === "Windows10" && build !== null && build < MIN_WINDOWS10_BUILD) {
    return {
      status: 400,
      code: "OsPlatformNotSupported",
      message: `Live response requires Windows 10 version 1709 or later; device build is ${build}`,
    };
  }
  const agent = device.facts.agentVersion.split(".").map(Number);
  const [major = 0, minor = 0] = agent;
  const [minMajor = 0, minMinor = 0] = MIN_AGENT;
  if (major < minMajor || (major === minMajor && minor < minMinor)) {
    return {
      status: 400,
      code: "ClientVersionNotSupported",
      message: `Sensor version ${device.facts.agentVersion} does not support live response; update the Defender for Endpoint agent`,
    };
  }
  if (device.spec.remediationLevel === false) {
    return {
      status: 403,
      code: "DisallowedOperation",
      message: `Live response is not allowed: device group '${device.facts.rbacGroupName}' has no automated remediation level assigned`,
    };
  }
  return undefined;
}
