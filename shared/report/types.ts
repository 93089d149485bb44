/**
 * report.json, schema version 3 (documented in docs/report.md and shipped as schema/report.schema.json).
 * Plain JSON only: no undefined (use null), no BigInt — the Pulumi provider stores parts of it in state.
 * Version 1 and 2 reports are still read (io.ts upgrades them).
 */
import type { CommandType } from "../api/types.js";
import type { Custody } from "../custody/types.js";

export type {
  AppIdentity,
  Custody,
  CustodySession,
  GitOrigin,
  Initiator,
  InitiatorKind,
  RunbookCustody,
  SessionRole,
} from "../custody/types.js";

/** 3 since the chain of custody (`custody`, per-result `submittedAt` / `downloadedAt`). */
export const REPORT_SCHEMA_VERSION = 3;

/** `pending`: the run was left (detached, deadline of the caller) with actions still queued; `resume` finishes it. */
export type RunStatus = "succeeded" | "failed" | "partial" | "cancelled" | "pending";

export type MachineStatus =
  | "succeeded" // every action Succeeded and every result was collected
  | "failed" // an action Failed / a command failed / a result could not be collected
  | "timedOut" // the service answered TimeOut, or our per-device deadline passed
  | "cancelled" // cancelled (by us or someone else)
  | "skipped" // preflight refused it (inactive, unsupported OS, ...); nothing was submitted
  | "pending" // still queued or running when the run stopped watching
  | "unresolved"; // a requested target (id, name, tag, filter) that reached no device; nothing ran

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
  /** When the command ended, as the service reported it (its `endTime`). */
  finishedAt: string | null;
  /**
   * Custody: when the action carrying this step was submitted (the service's creationDateTimeUtc), and
   * when our download of its result finished; null when unknown (not submitted, no result, or a report
   * upgraded from version 1 or 2).
   */
  submittedAt: string | null;
  downloadedAt: string | null;
  errors: string[];
  /** Full stdout / stderr text files (RunScript), relative to the output folder. */
  stdoutFile?: string | null;
  stderrFile?: string | null;
  /** true when `stdout` / `stderr` above is an excerpt (REPORT_EXCERPT_BYTES); the file has it all. */
  stdoutTruncated?: boolean;
  stderrTruncated?: boolean;
}

export interface MachineReport {
  /** null for an unresolved computer name, tag or filter (no device to name). */
  machineId: string | null;
  computerDnsName: string | null;
  /** For `unresolved` entries: what was asked for (`selector` machineIds, computerNames, tags or filter). */
  target?: { selector: string; value: string } | null;
  actionIds: string[];
  status: MachineStatus;
  error: ReportError | null;
  startedAt: string | null;
  finishedAt: string | null;
  commands: CommandReport[];
  /** The device's folder (collected files and transcripts), relative to the output folder. */
  folder?: string | null;
  /** What a person should know about this device beyond its status (e.g. who cancelled its action). */
  warnings?: string[];
}

export interface RunReport {
  schemaVersion: 3;
  runId: string;
  runbook: string;
  startedAt: string;
  finishedAt: string | null;
  status: RunStatus;
  counts: Record<MachineStatus, number>;
  machines: MachineReport[];
  /** The comment sent with every action (the user's comment; each action adds its run tag). */
  comment?: string | null;
  /** MDE API calls this run made, by kind (submit, poll, cancel, link, download, machines, library). */
  apiCalls?: Record<string, number>;
  /**
   * Target values that reached no device (typo, deleted device, lookup failed); each also has its own
   * `machines` entry with status `unresolved`.
   */
  unresolved?: { selector: string; value: string; error: ReportError }[];
  /**
   * `fail` (default): unresolved targets count against the run like failed devices; `warn`: they are
   * reported but the run can still succeed (runbook `options.onUnresolved`).
   */
  onUnresolved?: "fail" | "warn";
  /** A failure of the run itself (not of one device), e.g. an unexpected error that stopped it. */
  error?: ReportError | null;
  /** Planning notes (e.g. OS versions that need a KB), one line each. */
  warnings?: string[];
  /**
   * Chain of custody: who started, resumed and cancelled the run, the service's requestors, what runbook
   * it ran. null in a report upgraded from version 1 or 2 (they did not record it).
   */
  custody: Custody | null;
}

/** stdout / stderr excerpts in report.json are cut at this many bytes (UTF-8); the files keep the rest. */
export const REPORT_EXCERPT_BYTES = 4096;
