/** How a person names a report entry: its computer name, else its id, else the target that found nothing. */
import type { MachineReport } from "./types.js";

export function entryName(m: Pick<MachineReport, "computerDnsName" | "machineId" | "target">): string {
  if (m.computerDnsName) return m.computerDnsName;
  if (m.machineId) return m.machineId;
  return m.target ? `${m.target.selector} ${JSON.stringify(m.target.value)}` : "(unknown device)";
}

/** The short id column: the machine id's start, or the selector of an unresolved target. */
export function entryId(m: Pick<MachineReport, "machineId" | "target">): string {
  if (m.machineId) return m.machineId;
  return m.target ? `(${m.target.selector})` : "";
}

/** One icon per status, for every table a person reads (summary.md, the job summary, the incident comment). */
export const STATUS_ICON: Readonly<Record<string, string>> = {
  succeeded: "✅",
  partial: "⚠️",
  failed: "❌",
  timedOut: "⏱️",
  cancelled: "🚫",
  skipped: "⏭️",
  pending: "⏳",
  unresolved: "❓",
  notRun: "➖",
};
