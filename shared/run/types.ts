/**
 * The orchestrator's contract with its front ends (CLI, GitHub Action, Pulumi provider).
 * Front ends build a `RunContext` and call `startRun` / `resumeRun` / `cancelRun` / `planRun`.
 */
import type { MdeApi } from "../api/types.js";
import type { Clock } from "../clock.js";
import type { Initiator } from "../custody/types.js";
import type { RunReport } from "../report/types.js";
import type { Runbook } from "../runbook/types.js";
import type { RunEvent } from "../scheduler/events.js";

export interface RunContext {
  api: MdeApi;
  clock?: Clock;
  /** Aborting stops new submissions, cancels this run's unfinished actions, writes the report. */
  signal?: AbortSignal;
  /** Progress for live views and logs; must not throw. */
  onEvent?: (event: RunEvent) => void;
  /**
   * Who this process is (plain data, never a secret): recorded as one session of the run's chain of
   * custody by startRun, resumeRun and cancelRun, and kept with the run's state. Default `{ kind: "api" }`.
   */
  initiator?: Initiator;
  /**
   * A short pointer back to this process for every action it submits or cancels (the action: its
   * workflow run's URL), placed between the runbook's comment and the run tag. A resumed run's new
   * submissions carry the resuming process's pointer, not the original one.
   */
  commentPointer?: string | null;
  /**
   * Wraps the synchronous writing at the end of a run, a cancel or a detach (journal snapshot, manifest,
   * report.json, summary.md, report.html): it must call `write` once and return its result. For a
   * process's own memory policy: mde-lr and the action pass `reportBurst` (shared/runtime/heap-policy.ts).
   * A library host leaves it unset, and its heap is left alone.
   */
  aroundReport?: <T>(write: () => T) => T;
}

export interface StartRunOptions {
  runbook: Runbook;
  /** Folder the runbook's relative paths (library files) resolve from. */
  baseDir: string;
  /** Output folder: journal, report.json, summary.md, manifest.sha256, per-device folders. */
  outDir: string;
  /** Overrides the runbook's targets. */
  machineIds?: string[];
  /**
   * Stop watching once this much service time has passed without every device finishing; the report
   * says `pending` and `resumeRun` picks it up. The run detaches at a clean point: no submission whose
   * outcome is still unknown and no result download in progress. Actions already submitted keep running
   * in the service; devices whose next action was not submitted yet are submitted by `resumeRun`.
   * Default: wait to the end.
   */
  detachAfterMs?: number;
}

export type { RunEvent, RunReport };
