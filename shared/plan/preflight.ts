/**
 * Preflight: which resolved devices can take a live response at all (onboarded, active, supported
 * OS per mde-api.md §4.11). Ineligible devices are skipped with a reason naming the fix, or — with
 * `onIneligible: fail` — stop the run before anything is submitted.
 */
import type { Machine } from "../api/types.js";
import { InputError } from "../errors.js";
import { checkOsSupport } from "./os-support.js";
import type { PreflightResult, SkippedMachine } from "./types.js";

export interface PreflightOptions {
  onIneligible: "skip" | "fail";
}

function nameOf(m: Machine): string {
  return m.computerDnsName ? `${m.computerDnsName} (${m.id})` : m.id;
}

function healthProblem(m: Machine): { code: string; message: string } | null {
  const h = m.healthStatus;
  // Unknown health (field absent) is not proof of a dead device; let the service decide.
  if (h === null || h === "Active") return null;
  if (h === "Inactive") {
    return {
      code: "Preflight.Inactive",
      message: `device is Inactive (not seen for days; last seen ${m.lastSeen ?? "never"}); bring it online or remove it from the targets`,
    };
  }
  return {
    code: "Preflight.Unhealthy",
    message: `device health is ${h}, so live response would likely stay queued and time out; fix the sensor's communication or remove it from the targets`,
  };
}

function onboardingProblem(m: Machine): { code: string; message: string } | null {
  const s = m.onboardingStatus;
  if (s === null || s.toLowerCase() === "onboarded") return null;
  return {
    code: "Preflight.NotOnboarded",
    message: `device is not onboarded to Defender for Endpoint (onboardingStatus ${s}); onboard it first`,
  };
}

export function preflight(machines: readonly Machine[], options: PreflightOptions): PreflightResult {
  const result: PreflightResult = { eligible: [], skipped: [], warnings: [] };
  for (const m of machines) {
    const os = checkOsSupport(m);
    const problem =
      onboardingProblem(m) ?? healthProblem(m) ?? (os.ok ? null : { code: os.code, message: os.message });
    if (problem) {
      result.skipped.push({ machineId: m.id, computerDnsName: m.computerDnsName, error: problem });
      continue;
    }
    if (os.ok && os.warning) {
      result.warnings.push({ machineId: m.id, computerDnsName: m.computerDnsName, message: os.warning });
    }
    result.eligible.push(m);
  }
  if (options.onIneligible === "fail") failIneligible(result.skipped);
  return result;
}

/** `onIneligible: fail`: refuse the run (before anything is submitted) when any device was skipped. */
export function failIneligible(skipped: SkippedMachine[]): void {
  if (skipped.length === 0) return;
  throw new InputError(
    "options.onIneligible",
    `${skipped.length} device(s) can't run live response: ${describeSkipped(skipped, 5)}; ` +
      "fix them, remove them from the targets, or set options.onIneligible: skip",
  );
}

function describeSkipped(skipped: SkippedMachine[], max: number): string {
  const shown = skipped
    .slice(0, max)
    .map((s) => `${s.computerDnsName ?? s.machineId} (${s.error.code})`)
    .join(", ");
  return skipped.length > max ? `${shown} and ${skipped.length - max} more` : shown;
}

export { nameOf as describeMachine };
