/**
 * Cancellation: of one action (its device's timeout passed) or of the whole run (Ctrl-C, SIGTERM,
 * `mde-lr cancel`). Only this run's actions are ever cancelled: they are known by id from the journal.
 */
import { FINAL_ACTION_STATUSES } from "../api/types.js";
import { actionComment } from "../state/tag.js";
import type { Collector } from "./collect.js";
import { errorText, type FleetState } from "./state.js";
import type { StatusTracker } from "./status.js";
import type { Submitter } from "./submit.js";

/** Real ms an aborted run may spend collecting results that already exist before it reports. */
const ABORT_COLLECT_BUDGET_MS = 3_000;

export class Canceller {
  constructor(
    private readonly s: FleetState,
    private readonly status: StatusTracker,
    private readonly submitter: Submitter,
    private readonly collector: Collector,
  ) {}

  async cancelAction(i: number, actionId: string, why: "timeout" | "abort"): Promise<void> {
    const s = this.s;
    const r = s.records[i]!;
    if (r.cancelRequested !== why) {
      r.cancelRequested = why;
      s.journal.write(i, r, true);
    }
    const comment = actionComment(
      why === "timeout" ? "mde-lr: per-device timeout" : "mde-lr: run cancelled",
      s.plan.runId,
      s.currentSteps(i),
      s.o.commentPointer,
    );
    try {
      const action = await s.api.cancelMachineAction(actionId, comment);
      if (FINAL_ACTION_STATUSES.has(action.status) && s.inflight.has(actionId)) this.status.apply(i, action);
    } catch (error) {
      // 400: already final (or the cancel did not get through): look the action up, so one that finished
      // is collected like any other instead of waiting for a poll that may not come.
      s.warn(`cancelling action ${actionId} failed: ${errorText(error)}`);
      try {
        const action = await s.api.getMachineAction(actionId);
        if (FINAL_ACTION_STATUSES.has(action.status) && s.inflight.has(actionId))
          this.status.apply(i, action);
      } catch {
        // The next poll tries again.
      }
    }
    if (why === "abort" && s.inflight.has(actionId)) {
      s.inflight.delete(actionId);
      r.actionStatus = "Cancelled";
    }
  }

  /** Cancel every unfinished action of the run, keep what already finished, mark the rest cancelled. */
  async abortAll(): Promise<void> {
    const s = this.s;
    await s.drainTasks();
    // Submissions whose outcome is unknown: find them by tag first, so they can be cancelled too.
    for (const i of [...s.submitting]) await this.submitter.resolve(i, true);
    await Promise.all([...s.inflight].map(([actionId, i]) => this.cancelAction(i, actionId, "abort")));
    // Cancelling a run that had already finished changes nothing.
    if (s.records.every((r) => r.phase === "done")) return;
    // What the service finished, or what our cancel cut short, keeps its real state and the results that
    // exist: collect them now on a short budget of their own (the run's signal is already aborted; real
    // time, because the caller's grace — a runner's 7.5 s, a second Ctrl-C — is real time too).
    const budget = AbortSignal.timeout(ABORT_COLLECT_BUDGET_MS);
    for (let i = 0; i < s.records.length; i++) {
      const r = s.records[i]!;
      if (r.phase === "collecting" && r.final && !budget.aborted) await this.collector.collect(i, budget);
    }
    for (let i = 0; i < s.records.length; i++) {
      const r = s.records[i]!;
      if (r.phase === "done") continue;
      s.finish(i, "cancelled", {
        code: "Cancelled",
        message: r.actionId
          ? `the run was cancelled; action ${r.actionId} was cancelled`
          : "the run was cancelled before this device's next action was submitted",
      });
    }
    s.o.runState.cancelled = true;
    s.journal.writeRun(s.o.runState);
  }
}
