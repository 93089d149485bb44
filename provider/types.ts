/**
 * Args and state of the Pulumi resources. State is what the dynamic-provider host stores: plain JSON
 * only (no undefined, no BigInt, no secret wrappers), because Pulumi's struct encoder rejects anything else.
 */
import type { MachineReport, MachineStatus, RunStatus } from "../shared/report/types.js";

/** The wire value Pulumi sends for a value not known yet (preview), whatever the declared type (#6310). */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** A step as written in a runbook's `commands` (e.g. `{ runScript: "collect.ps1", args: "-Fast" }`). */
export type StepInput = Record<string, unknown>;

/** Targets as written in a runbook (`machineIds`, `computerNames`, `tags`, `filter`). */
export interface TargetsInput {
  machineIds?: string[];
  computerNames?: string[];
  tags?: string[];
  filter?: string;
}

/** Checked inputs of a LiveResponseCollection, as stored in state (plus `__provider`). */
export interface CollectionInputs {
  targets?: TargetsInput;
  machineIds?: string[];
  commands: StepInput[];
  comment?: string;
  /** Run name for the report and action comments; the resource class defaults it to the resource name. */
  name?: string;
  /** Per device, submission to final state, as in runbooks (`options.timeout`): seconds or "30m". */
  timeout?: number | string;
  /** How long `create` watches before recording the run as `pending` for a refresh to finish: seconds or "10m". */
  detachAfter?: number | string;
  onActiveSession?: "wait" | "fail";
  triggers?: unknown[];
  maxDevices?: number;
  /** How often to poll machine actions: seconds or "15s". */
  pollInterval?: number | string;
  /** Further runbook `options` (canary, maxConcurrentSessions, onIneligible, limits, ...); top-level args win. */
  options?: Record<string, unknown>;
  /** Base folder for run folders, relative to the program directory. */
  outputRoot?: string;
  /** Set by the resource class: the program's Pulumi project and stack, for the run's chain of custody. */
  pulumiContext?: { project?: string; stack?: string };
  __provider?: string;
}

/** Outputs of a LiveResponseCollection, stored after the inputs. */
export interface CollectionOutputs {
  runId: string;
  status: RunStatus;
  counts: Record<MachineStatus, number>;
  machines: MachineReport[];
  /** This run's folder (report.json, summary.md, collected files), relative to the program directory. */
  outputDir: string;
  startedAt: string;
  finishedAt: string | null;
}

export type CollectionState = CollectionInputs & CollectionOutputs;

/** Checked inputs of a LibraryFile (plus `__provider`). */
export interface LibraryFileInputs {
  /** File to upload, relative to the program directory. Exactly one of `path` and `content`. */
  path?: string;
  /** Inline UTF-8 content. */
  content?: string;
  fileName: string;
  description?: string;
  parametersDescription?: string;
  hasParameters?: boolean;
  /** sha256 of the content to upload, computed by `check` so `diff` compares content without reading it. */
  contentSha256?: string;
  __provider?: string;
}

export interface LibraryFileOutputs {
  /** sha256 the library reports for the file; null when its answer carried none. */
  sha256: string | null;
  creationTime: string | null;
  lastUpdatedTime: string | null;
  createdBy: string | null;
}

export type LibraryFileState = LibraryFileInputs & LibraryFileOutputs;

export interface CheckFailure {
  property: string;
  reason: string;
}

export interface CheckResult<T> {
  inputs?: T;
  failures?: CheckFailure[];
}

export interface DiffResult {
  changes: boolean;
  replaces?: string[];
  deleteBeforeReplace?: boolean;
}
