/**
 * Turn a run's plan and per-device records into report.json v3. stdout/stderr excerpts are read from
 * the files on disk here (capped at REPORT_EXCERPT_BYTES) so nothing large is ever held per device
 * while the run is going.
 */
import type { Custody } from "../custody/types.js";
import { resolveInside } from "../results/paths.js";
import { readHead } from "../results/safe-fs.js";
import type { Step } from "../runbook/types.js";
import type {
  DeviceRecord,
  PlannedDevice,
  RunPlanFile,
  SkippedDevice,
  StepRecord,
  UnresolvedRecord,
} from "../state/records.js";
import {
  type CommandReport,
  type CommandStatus,
  type MachineReport,
  type MachineStatus,
  REPORT_EXCERPT_BYTES,
  type RunReport,
  type RunStatus,
} from "./types.js";

export interface ReportInput {
  plan: RunPlanFile;
  records: readonly (DeviceRecord | null)[];
  outDir: string;
  cancelled: boolean;
  finishedAt: string | null;
  /** Device folder per planned device index (relative to outDir). */
  folderOf: (device: number) => string;
  apiCalls?: Record<string, number>;
  /** Every requested target value that reached no device (each becomes an `unresolved` entry). */
  unresolved?: UnresolvedRecord[];
  /** The chain of custody (run/index.ts gathers it from run.json and the journal). */
  custody?: Custody | null;
}

/** Code of a target value planning has not reached yet (a detached run); resume looks it up. */
export const NOT_LOOKED_UP = "Target.NotLookedUp";

const MACHINE_STATUSES: MachineStatus[] = [
  "succeeded",
  "failed",
  "timedOut",
  "cancelled",
  "skipped",
  "pending",
  "unresolved",
];

export function emptyCounts(): Record<MachineStatus, number> {
  const counts = {} as Record<MachineStatus, number>;
  for (const s of MACHINE_STATUSES) counts[s] = 0;
  return counts;
}

/**
 * Run status from device outcomes. Preflight-skipped devices are left out (the runbook asked to skip
 * them), so a run whose every eligible device succeeded is `succeeded`; a run with nothing eligible is
 * `failed`. An unresolved target counts like a failed device unless `onUnresolved` is `warn`: a run that
 * reached two of the three devices it was asked for is never `succeeded`. Cancellation and pending
 * (detached) win over everything else.
 */
export function runStatus(
  counts: Record<MachineStatus, number>,
  cancelled: boolean,
  onUnresolved: "fail" | "warn" = "fail",
): RunStatus {
  if (cancelled) return "cancelled";
  if (counts.pending > 0) return "pending";
  const counted = MACHINE_STATUSES.filter(
    (s) => s !== "skipped" && !(s === "unresolved" && onUnresolved === "warn"),
  );
  const eligible = counted.reduce((n, s) => n + counts[s], 0);
  if (eligible === 0 || counts.succeeded === 0) return "failed";
  return counts.succeeded === eligible ? "succeeded" : "partial";
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

function excerpt(outDir: string, rel: string | null): { text: string | null; truncated: boolean } {
  if (!rel) return { text: null, truncated: false };
  try {
    const { text, totalBytes } = readHead(resolveInside(outDir, rel), REPORT_EXCERPT_BYTES);
    // A cut may split a multi-byte character: drop the replacement character it leaves.
    const clean = totalBytes > REPORT_EXCERPT_BYTES ? text.replace(/\uFFFD$/, "") : text;
    return { text: clean, truncated: totalBytes > REPORT_EXCERPT_BYTES };
  } catch {
    return { text: null, truncated: false };
  }
}

function stepIdentity(step: Step): { scriptName: string | null; path: string | null } {
  if (step.type === "GetFile") return { scriptName: null, path: step.path };
  if (step.type === "RunScript") return { scriptName: step.scriptName, path: null };
  return { scriptName: step.fileName, path: null };
}

function commandReport(
  stepNo: number,
  step: Step,
  rec: StepRecord | undefined,
  fallback: CommandStatus,
  outDir: string,
): CommandReport {
  const id = stepIdentity(step);
  if (!rec) {
    return {
      step: stepNo,
      type: step.type,
      status: fallback,
      actionId: null,
      index: null,
      ...id,
      exitCode: null,
      stdout: null,
      stderr: null,
      file: null,
      sha256: null,
      bytes: null,
      startedAt: null,
      finishedAt: null,
      submittedAt: null,
      downloadedAt: null,
      errors: [],
      stdoutFile: null,
      stderrFile: null,
      stdoutTruncated: false,
      stderrTruncated: false,
    };
  }
  const out = excerpt(outDir, rec.so);
  const err = excerpt(outDir, rec.se);
  return {
    step: stepNo,
    type: step.type,
    status: rec.st,
    actionId: rec.a,
    index: rec.i,
    ...id,
    exitCode: rec.ec,
    stdout: out.text,
    stderr: err.text,
    file: rec.f,
    sha256: rec.sha,
    bytes: rec.b,
    startedAt: rec.t0,
    finishedAt: rec.t1,
    submittedAt: rec.ts ?? null,
    downloadedAt: rec.td ?? null,
    errors: rec.err,
    stdoutFile: rec.so,
    stderrFile: rec.se,
    stdoutTruncated: out.truncated,
    stderrTruncated: err.truncated,
  };
}

/** Status of a step that has no record: why it did not run, or that it still may. */
function missingStepStatus(status: MachineStatus): CommandStatus {
  if (status === "pending") return "pending";
  if (status === "cancelled" || status === "timedOut") return "cancelled";
  return "notRun";
}

export function machineReport(
  plan: RunPlanFile,
  device: PlannedDevice,
  record: DeviceRecord | null,
  outDir: string,
  folder: string,
): MachineReport {
  const status: MachineStatus = record?.status ?? "pending";
  const stepNumbers = device.actions.flatMap((a) => a.steps);
  const commands = stepNumbers.map((n) => {
    const rec = record?.steps[String(n)];
    return commandReport(n, plan.steps[n - 1]!, rec, missingStepStatus(status), outDir);
  });
  return {
    machineId: device.machineId,
    computerDnsName: device.computerDnsName,
    actionIds: record?.actionIds ?? [],
    status,
    error: record?.error ?? null,
    startedAt: iso(record?.firstSubmitAt ?? null),
    finishedAt: iso(record?.finishedAt ?? null),
    commands,
    folder: record && record.actionIds.length > 0 ? folder : null,
    ...(record?.warnings?.length ? { warnings: record.warnings } : {}),
  };
}

export function skippedReport(plan: RunPlanFile, skipped: SkippedDevice): MachineReport {
  return {
    machineId: skipped.machineId,
    computerDnsName: skipped.computerDnsName,
    actionIds: [],
    status: skipped.status,
    error: { code: skipped.code, message: skipped.message },
    startedAt: null,
    finishedAt: null,
    commands: plan.steps.map((step, i) => ({
      ...commandReport(i + 1, step, undefined, "notRun", ""),
    })),
    folder: null,
  };
}

/** A requested target that reached no device: its own entry, saying what was asked and why it failed. */
export function unresolvedReport(plan: RunPlanFile, u: UnresolvedRecord): MachineReport {
  return unresolvedEntry(
    u,
    plan.steps.map((step, i) => commandReport(i + 1, step, undefined, "notRun", "")),
  );
}

/** The entry itself; `commands` are its steps, none run (a version 1 report upgraded has none to list). */
export function unresolvedEntry(u: UnresolvedRecord, commands: CommandReport[]): MachineReport {
  return {
    machineId: u.selector === "machineIds" ? u.value : null,
    computerDnsName: u.selector === "computerNames" ? u.value : null,
    target: { selector: u.selector, value: u.value },
    actionIds: [],
    status: "unresolved",
    error: u.error,
    startedAt: null,
    finishedAt: null,
    commands,
    folder: null,
  };
}

export function buildReport(input: ReportInput): RunReport {
  const { plan } = input;
  const unresolved = input.unresolved ?? plan.unresolved;
  const onUnresolved = plan.options.onUnresolved ?? "fail";
  const machines: MachineReport[] = plan.devices.map((d, i) =>
    machineReport(plan, d, input.records[i] ?? null, input.outDir, input.folderOf(i)),
  );
  for (const s of plan.skipped) machines.push(skippedReport(plan, s));
  for (const u of unresolved) machines.push(unresolvedReport(plan, u));
  const counts = emptyCounts();
  for (const m of machines) counts[m.status]++;
  // Targets not looked up yet (the run detached while resolving) keep the run pending: resume goes on.
  const waiting = !input.cancelled && unresolved.some((u) => u.error.code === NOT_LOOKED_UP);
  return {
    schemaVersion: 3,
    runId: plan.runId,
    runbook: plan.runbookName,
    startedAt: plan.startedAt,
    finishedAt: input.finishedAt,
    status: waiting ? "pending" : runStatus(counts, input.cancelled, onUnresolved),
    counts,
    machines,
    comment: plan.comment,
    apiCalls: input.apiCalls ?? {},
    unresolved,
    onUnresolved,
    warnings: plan.warnings,
    error: null,
    custody: input.custody ?? null,
  };
}
