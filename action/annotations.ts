/**
 * Groups per-device failures into a few annotations. The UI shows only 10 annotations per kind per
 * step (50 per job), so one per device would hide most of them; one per (status, error code) with the
 * devices listed keeps every failure visible.
 */
import { entryName } from "../shared/report/label.js";
import type { MachineReport, RunReport } from "../shared/report/types.js";

export interface Annotation {
  level: "error" | "warning";
  title: string;
  message: string;
}

const MAX_ANNOTATIONS = 5;
const MAX_DEVICES_LISTED = 10;

function reason(m: MachineReport): string {
  if (m.error) return m.error.code;
  const failed = m.commands.find((c) => c.status === "failed");
  if (failed)
    return failed.exitCode !== null && failed.errors.length === 0
      ? "NonZeroExitCode"
      : `${failed.type}Failed`;
  return m.status;
}

function deviceName(m: MachineReport): string {
  return entryName(m);
}

function listDevices(ms: MachineReport[]): string {
  const names = ms.slice(0, MAX_DEVICES_LISTED).map(deviceName).join(", ");
  return ms.length > MAX_DEVICES_LISTED ? `${names} and ${ms.length - MAX_DEVICES_LISTED} more` : names;
}

export function groupFailures(report: RunReport): Annotation[] {
  const groups = new Map<string, MachineReport[]>();
  for (const m of report.machines) {
    if (m.status === "succeeded" || m.status === "pending") continue;
    const key = `${m.status}\u0000${reason(m)}`;
    const list = groups.get(key) ?? [];
    list.push(m);
    groups.set(key, list);
  }
  const sorted = [...groups.entries()].sort((a, b) => b[1].length - a[1].length);
  const annotations: Annotation[] = [];
  for (const [key, ms] of sorted.slice(0, MAX_ANNOTATIONS - (sorted.length > MAX_ANNOTATIONS ? 1 : 0))) {
    const [status, code] = key.split("\u0000") as [string, string];
    const sample = ms[0]?.error?.message ?? ms[0]?.commands.find((c) => c.errors.length > 0)?.errors[0] ?? "";
    annotations.push({
      level:
        status === "skipped" || (status === "unresolved" && report.onUnresolved === "warn")
          ? "warning"
          : "error",
      title: `${ms.length} device(s) ${status}: ${code}`,
      message: `${listDevices(ms)}${sample ? `\n${sample.slice(0, 500)}` : ""}`,
    });
  }
  if (sorted.length > MAX_ANNOTATIONS) {
    const rest = sorted.slice(MAX_ANNOTATIONS - 1).flatMap(([, ms]) => ms);
    annotations.push({
      level: "error",
      title: `${rest.length} more device(s) not succeeded`,
      message: `${listDevices(rest)}; see the job summary and report.json`,
    });
  }
  return annotations;
}
