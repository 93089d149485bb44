/**
 * Devices as the machines API returns them (mde-api.md §5.4) and the live response prerequisites
 * of §4.11 / §7.21 (supported OS list, agent version, device-group remediation level).
 */
import { createHash } from "node:crypto";
import { mdeTimestamp } from "./time.js";
import type { DeviceSpec } from "./types.js";

/** A device after defaults are applied; `spec` stays the source of behaviour. */
export interface Device {
  id: string;
  spec: DeviceSpec;
  entity: Record<string, unknown>;
}

export function machineIdFor(name: string): string {
  return createHash("sha1").update(`mde-emulator:${name}`).digest("hex");
}

export function toDevice(spec: DeviceSpec, now: number): Device {
  const id = spec.id ?? machineIdFor(spec.computerDnsName);
  if (!/^[0-9a-f]{40}$/.test(id)) {
    throw new RangeError(`devices[].id must be 40 lowercase hex characters, got '${id}'`);
  }
  const osPlatform = spec.osPlatform ?? "Windows11";
  const lastSeen = spec.offline ? now - 6 * 3600_000 : now - 60_000;
  const entity: Record<string, unknown> = {
    id,
    mergedIntoMachineId: null,
    isPotentialDuplication: false,
    isExcluded: false,
    exclusionReason: null,
    computerDnsName: spec.computerDnsName,
    firstSeen: mdeTimestamp(now - 90 * 24 * 3600_000),
    lastSeen: mdeTimestamp(lastSeen),
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
  return { id, spec, entity };
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

export function checkPrerequisites(device: Device): PrerequisiteFailure | undefined {
  const platform = String(device.entity.osPlatform);
  if (!SUPPORTED.has(platform)) {
    return {
      status: 400,
      code: "OsPlatformNotSupported",
      message: `Live response is not supported on OS platform ${platform}`,
    };
  }
  const build = device.entity.osBuild;
  if (platform === "Windows10" && typeof build === "number" && build < MIN_WINDOWS10_BUILD) {
    return {
      status: 400,
      code: "OsPlatformNotSupported",
      message: `Live response requires Windows 10 version 1709 or later; device build is ${build}`,
    };
  }
  const agent = String(device.entity.agentVersion ?? "")
    .split(".")
    .map(Number);
  const [major = 0, minor = 0] = agent;
  const [minMajor = 0, minMinor = 0] = MIN_AGENT;
  if (major < minMajor || (major === minMajor && minor < minMinor)) {
    return {
      status: 400,
      code: "ClientVersionNotSupported",
      message: `Sensor version ${String(device.entity.agentVersion)} does not support live response; update the Defender for Endpoint agent`,
    };
  }
  if (device.spec.remediationLevel === false) {
    return {
      status: 403,
      code: "DisallowedOperation",
      message: `Live response is not allowed: device group '${String(device.entity.rbacGroupName)}' has no automated remediation level assigned`,
    };
  }
  return undefined;
}
