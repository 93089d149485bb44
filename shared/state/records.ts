/**
 * What the fleet scheduler consumes (a packed plan) and the small per-device record it keeps.
 * The record is what the journal persists, so it stays compact and JSON-only: thousands of devices
 * must fit in memory and in the journal without anything large (stdout lives on disk, not here).
 */
import type { LiveResponseCommand, MachineActionStatus } from "../api/types.js";
import type { RunbookCustody } from "../custody/types.js";
import type { CommandStatus, MachineStatus, ReportError } from "../report/types.js";
import type { Step, Targets } from "../runbook/types.js";

/** One machine action to submit: consecutive runbook steps packed in service order. */
export interface PlannedAction {
  /** 1-based runbook step numbers, in the order of `commands`. */
  steps: number[];
  commands: LiveResponseCommand[];
}

export interface PlannedDevice {
  machineId: string;
  computerDnsName: string | null;
  actions: PlannedAction[];
}

export interface SkippedDevice {
  machineId: string;
  computerDnsName: string | null;
  code: string;
  message: string;
  /** `failed` when preflight was told to fail ineligible devices (onIneligible: fail). */
  status: "skipped" | "failed";
}

/** Where a device is in its sequence. Only `done` is final. */
export type DevicePhase =
  | "queued" // next action ready to submit
  | "held" // waiting for the canary devices
  | "submitting" // intent journaled, outcome of runliveresponse not yet known
  | "inflight" // action accepted, not final
  | "busy" // ActiveRequestAlreadyExists: waiting for the device to be free
  | "collecting" // action final, results being downloaded
  | "done";

/** Outcome of one step, kept compact (full text is on disk at `so`/`se`/`f`). */
export interface StepRecord {
  st: CommandStatus;
  /** Machine action id and command index that carried the step. */
  a: string | null;
  i: number | null;
  /** Exit code (RunScript). */
  ec: number | null;
  /** Result file (GetFile payload or raw transcript), relative to the output folder. */
  f: string | null;
  sha: string | null;
  b: number | null;
  /** stdout / stderr text files (RunScript), relative to the output folder. */
  so: string | null;
  se: string | null;
  /** SHA-256 of the stdout / stderr files, computed as they were written (for the manifest). */
  soSha: string | null;
  seSha: string | null;
  t0: string | null;
  t1: string | null;
  /**
   * Custody times (ISO-8601; absent in journals of older versions): `ts` when the carrying action was
   * submitted (the service's creationDateTimeUtc, else our intent time), `td` when our download of the
   * result finished.
   */
  ts?: string | null;
  td?: string | null;
  err: string[];
}

/** A command of a final action as the service reported it, kept until its result is collected. */
export interface FinalCommand {
  index: number;
  status: string;
  startTime: string | null;
  endTime: string | null;
  errors: string[];
}

export interface DeviceRecord {
  phase: DevicePhase;
  /** Set when phase is `done` (or `pending` when the run detached). */
  status: MachineStatus | null;
  /** Index into the device's planned actions of the current (or next) action. */
  action: number;
  actionId: string | null;
  actionIds: string[];
  /** Service ms when the current submission intent was journaled (our clock). */
  intentAt: number | null;
  /** The current action's creationDateTimeUtc (the service's clock), for polling by creation time. */
  createdAt?: number | null;
  firstSubmitAt: number | null;
  finishedAt: number | null;
  /** Last known service status of the current action. */
  actionStatus: MachineActionStatus | null;
  /** Set when the current action is final and its results are still to be collected. */
  final: {
    status: MachineActionStatus;
    commands: FinalCommand[];
    /** Who cancelled it and when, as the service recorded it (also someone else, e.g. in the portal). */
    cancelledBy?: string | null;
    cancelledAt?: string | null;
  } | null;
  /** ActiveRequestAlreadyExists: when to look again, and how many times we waited. */
  busyUntil: number | null;
  busyCount: number;
  /** Submission attempts that failed without creating an action (network), for a bounded retry. */
  submitFailures: number;
  /** We asked the service to cancel the current action (timeout or abort). */
  cancelRequested: "timeout" | "abort" | null;
  error: ReportError | null;
  /** What a person should know beyond the status (report `machines[].warnings`). */
  warnings?: string[];
  /** Keyed by 1-based step number; a missing step has not run. */
  steps: Record<string, StepRecord>;
}

/**
 * The plan of a run: enough to resume it from its folder alone. On disk, run.json holds everything but
 * the devices, written once before anything is submitted; each batch of resolved devices is appended to
 * plan.jsonl (and fsynced) before any of them is submitted (shared/state/journal.ts). Version 1 folders
 * have every device in run.json.
 */
export interface RunPlanFile {
  version: 1 | 2;
  runId: string;
  runbookName: string;
  comment: string | null;
  startedAt: string;
  /** Service ms at the start; polls look for actions created at or after it (minus skew). */
  startedAtMs: number;
  steps: Step[];
  options: {
    timeoutMs: number;
    pollIntervalMs: number;
    onActiveSession: "wait" | "fail";
    maxConcurrentSessions: number;
    canary: number;
    submitPerMinute: number;
    callsPerMinute: number;
    callsPerHour: number;
    /** v2: the blast-radius cap, for resolving what is left after a resume. */
    maxDevices?: number;
    /** v2: whether unresolved targets count against the run (default `fail`). */
    onUnresolved?: "fail" | "warn";
  };
  /** v2: the targets the run resolves (after a front end's override). */
  targets?: Targets;
  /** `selector:value` keys of the target values resolved so far (from plan.jsonl). */
  covered?: string[];
  /** false while targets are still being resolved (a run stopped mid-planning resumes resolving). */
  planComplete?: boolean;
  devices: PlannedDevice[];
  skipped: SkippedDevice[];
  unresolved: UnresolvedRecord[];
  warnings: string[];
  /** What the run ran (name, digests, path, commit), fixed at plan time; absent in older folders. */
  custody?: { runbook: RunbookCustody };
}

export interface UnresolvedRecord {
  selector: string;
  value: string;
  error: ReportError;
}

/** One line of plan.jsonl: a batch of planning, or the end of it. */
export type PlanLine =
  | {
      covered: string[];
      devices: PlannedDevice[];
      skipped: SkippedDevice[];
      unresolved: UnresolvedRecord[];
      warnings: string[];
    }
  | { complete: true };

export function newDeviceRecord(held: boolean): DeviceRecord {
  return {
    phase: held ? "held" : "queued",
    status: null,
    action: 0,
    actionId: null,
    actionIds: [],
    intentAt: null,
    createdAt: null,
    firstSubmitAt: null,
    finishedAt: null,
    actionStatus: null,
    final: null,
    busyUntil: null,
    busyCount: 0,
    submitFailures: 0,
    cancelRequested: null,
    error: null,
    steps: {},
  };
}
