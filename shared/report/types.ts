/**
 * report.json, schema version 1 (documented in docs/report.md and shipped as schema/report.schema.json).
 * Plain JSON only: no undefined (use null), no BigInt — the Pulumi provider stores parts of it in state.
 */
import type { CommandType } from "../api/types.js";

export const REPORT_SCHEMA_VERSION = 1;

/** `pending`: the run was left (detached, deadline of the caller) with actions still queued; `resume` finishes it. */
export type RunStatus = "succeeded" | "failed" | "partial" | "cancelled" | "pending";

export type MachineStatus =
  | "succeeded" // every action Succeeded and every result was collected
  | "failed" // an action Failed / a command failed / a result could not be collected
  | "timedOut" // the service answered TimeOut, or our per-device deadline passed
  | "cancelled" // cancelled (by us or someone else)
  | "skipped" // preflight refused it (inactive, unsupported OS, ...); nothing was submitted
  | "pending"; // still queued or running when the run stopped watching

export type CommandStatus = "succeeded" | "failed" | "cancelled" | "notRun" | "pending";

export interface ReportError {
  /** MDE error code (e.g. `ActiveRequestAlreadyExists`) or one of ours (e.g. `Preflight.Inactive`). */
  code: string;
  message: string;
}

export interface CommandReport {
  /** 1-based position of the step in the runbook's `commands`. */
  step: number;
  type: CommandType;
  status: CommandStatus;
  /** The machine action that carried this step, and the command's index inside it. */
  actionId: string | null;
  index: number | null;
  /** RunScript/PutFile: library file name. */
  scriptName: string | null;
  /** GetFile: the device path. */
  path: string | null;
  exitCode: number | null;
  /** Transcript text (RunScript), truncated in the report past a documented limit; full text is in `file`. */
  stdout: string | null;
  stderr: string | null;
  /** Result file, relative to the output folder, POSIX separators. */
  file: string | null;
  sha256: string | null;
  bytes: number | null;
  startedAt: string | null;
  finishedAt: string | null;
  errors: string[];
}

export interface MachineReport {
  machineId: string;
  computerDnsName: string | null;
  actionIds: string[];
  status: MachineStatus;
  error: ReportError | null;
  startedAt: string | null;
  finishedAt: string | null;
  commands: CommandReport[];
}

export interface RunReport {
  schemaVersion: 1;
  runId: string;
  runbook: string;
  startedAt: string;
  finishedAt: string | null;
  status: RunStatus;
  counts: Record<MachineStatus, number>;
  machines: MachineReport[];
}
