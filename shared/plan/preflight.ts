/**
 * Preflight: which resolved devices can take a live response at all (onboarded, active, supported
 * OS per mde-api.md §4.11). Ineligible devices are skipped with a reason naming the fix, or — with
 * `onIneligible: fail` — stop the run before anything is submitted.
 *
 * Unknown is not ineligible: a field the service left out or sent as null (Microsoft's own machine
 * example has no `onboardingStatus`, real-captures D5) lets the device run, with a warning naming the
 * field, and the service decides. Only a known bad value skips a device.
 */
import type { Machine } from "../api/types.js";
import { InputError } from "../errors.js";
import { checkOsSupport } from "./os-support.js";
import type { PreflightResult, SkippedMachine } from "./types.js";

export interface PreflightOptions {
  onIneligible: "skip" | "fail";
}

type Problem = { code: string; message: string };
type Verdict = { problem: Problem } | { warning: string | null };

function nameOf(m: Machine): string {
  return m.computerDnsName ? `${m.computerDnsName} (${m.id})` : m.id;
}

/** A string field's value, or null when absent, null or not a string (callers may pass raw entities). */
function known(value: unknown): string | null {
  return typeof value === "string" && value.trim() !== "" ? value.trim() : null;
}

/** `healthStatus` values that say nothing about the device (mde-api.md §5.4 documents `Unknown`). */
const UNKNOWN_HEALTH = new Set(["unknown"]);

function health(m: Machine): Verdict {
  const h = known(m.healthStatus);
  if (h === null || UNKNOWN_HEALTH.has(h.toLowerCase())) {
    return {
      warning: `healthStatus ${h === null ? "is not in the device record" : `is ${h}`}, so whether the device is online is unknown; running anyway (an offline device's action stays queued until the service's queue window or the run's timeout)`,
    };
  }
  const lower = h.toLowerCase();
  if (lower === "active") return { warning: null };
  if (lower === "inactive") {
    return {
      problem: {
        code: "Preflight.Inactive",
        message: `device is Inactive (not seen for days; last seen ${m.lastSeen ?? "never"}); bring it online or remove it from the targets`,
      },
    };
  }
  return {
    problem: {
      code: "Preflight.Unhealthy",
      message: `device health is ${h}, so live response would likely stay queued and time out; fix the sensor's communication or remove it from the targets`,
    },
  };
}

/**
 * `onboardingStatus`: `Onboarded` observed, the doc lists `onboarded`, `CanBeOnboarded`, `Unsupported`,
 * `InsufficientInfo` (mde-api.md §5.4). `InsufficientInfo` is the service saying it does not know.
 */
function onboarding(m: Machine): Verdict {
  const s = known(m.onboardingStatus);
  if (s === null || s.toLowerCase() === "insufficientinfo") {
    return {
      warning: `onboardingStatus ${s === null ? "is not in the device record" : `is ${s}`}; running anyway (a device that is not onboarded is refused by the service)`,
    };
  }
  if (s.toLowerCase() === "onboarded") return { warning: null };
  return {
    problem: {
      code: "Preflight.NotOnboarded",
      message: `device is not onboarded to Defender for Endpoint (onboardingStatus ${s}); onboard it first`,
    },
  };
}

export function preflight(machines: readonly Machine[], options: PreflightOptions): PreflightResult {
  const result: PreflightResult = { eligible: [], skipped: [], warnings: [] };
  for (const m of machines) {
    const os = checkOsSupport(m);
    const verdicts: Verdict[] = [
      onboarding(m),
      health(m),
      os.ok ? { warning: os.warning } : { problem: { code: os.code, message: os.message } },
    ];
    const computerDnsName = known(m.computerDnsName);
    const problem = verdicts.find((v): v is { problem: Problem } => "problem" in v)?.problem;
    if (problem) {
      result.skipped.push({ machineId: m.id, computerDnsName, error: problem });
      continue;
    }
    for (const v of verdicts) {
      if ("warning" in v && v.warning)
        result.warnings.push({ machineId: m.id, computerDnsName, message: v.warning });
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
