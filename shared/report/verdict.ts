/**
 * Which report entries count as failures, for every front end alike (the CLI's exit code, the action's
 * `fail-on`, the Pulumi resource's partial-state error): failed, timed out or cancelled devices, and
 * requested targets that reached no device unless the runbook said `onUnresolved: warn`. Skipped
 * (preflight) and pending (detached) devices never do by themselves.
 */
import type { MachineReport, MachineStatus, RunReport } from "./types.js";

export function failureStatuses(report: Pick<RunReport, "onUnresolved">): MachineStatus[] {
  return report.onUnresolved === "warn"
    ? ["failed", "timedOut", "cancelled"]
    : ["failed", "timedOut", "cancelled", "unresolved"];
}

export function failures(report: Pick<RunReport, "machines" | "onUnresolved">): MachineReport[] {
  const bad = new Set(failureStatuses(report));
  return report.machines.filter((m) => bad.has(m.status));
}
