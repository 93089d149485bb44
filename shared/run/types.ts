/**
 * The orchestrator's contract with its front ends (CLI, GitHub Action, Pulumi provider).
 * Front ends build a `RunContext` and call `startRun` / `resumeRun` / `cancelRun` / `planRun`.
 */
import type { MdeApi } from "../api/types.js";
import type { Clock } from "../clock.js";
import type { RunReport } from "../report/types.js";
import type { Runbook } from "../runbook/types.js";

export interface RunContext {
  api: MdeApi;
  clock?: Clock;
  /** Aborting stops new submissions, cancels this run's unfinished actions, writes the report. */
  signal?: AbortSignal;
  /** Progress for live views and logs; must not throw. */
  onEvent?: (event: RunEvent) => void;
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

export type RunEvent =
  | {
      type: "planned";
      runId: string;
      devices: number;
      actions: number;
      skipped: number;
      /** The planned devices, in plan order (front ends show them before anything finishes). */
      machines?: { machineId: string; computerDnsName: string | null }[];
      /** The plan's estimate of the run's length in seconds (plan.eta.seconds). */
      etaSeconds?: number;
    }
  | { type: "submitted"; machineId: string; actionId: string; step: number }
  | { type: "status"; machineId: string; actionId: string; status: string }
  | { type: "collected"; machineId: string; step: number; file: string; bytes: number }
  | { type: "deviceDone"; machineId: string; status: string }
  | { type: "waiting"; reason: "rateLimit" | "sessionCap" | "deviceBusy" | "quota"; untilMs: number }
  | { type: "progress"; done: number; total: number; pending: number; running: number; queued: number }
  | { type: "warning"; message: string }
  | { type: "finished"; status: string };

export type { RunReport };
