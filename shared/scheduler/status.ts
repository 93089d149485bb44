/**
 * What the service says about one of the run's actions (a poll, a submission answer, a cancel answer):
 * record it, and once the action is final hand the device to collection.
 */
import { FINAL_ACTION_STATUSES, type MachineAction } from "../api/types.js";
import { type FleetState, MINUTE } from "./state.js";

/** An action still Pending this long is called out (offline device) in a warning event. */
const PENDING_WARN_MS = 5 * MINUTE;

export class StatusTracker {
  private readonly warnedPending = new Set<string>();

  constructor(private readonly s: FleetState) {}

  apply(i: number, action: MachineAction): void {
    const s = this.s;
    const r = s.records[i]!;
    if (r.actionId !== action.id || r.phase !== "inflight") return;
    s.noteRequestor(action.requestor);
    const final = FINAL_ACTION_STATUSES.has(action.status);
    if (
      action.status === "Pending" &&
      r.intentAt !== null &&
      s.clock.now() - r.intentAt >= PENDING_WARN_MS &&
      !this.warnedPending.has(action.id)
    ) {
      this.warnedPending.add(action.id);
      const d = s.plan.devices[i]!;
      s.warn(
        `${d.computerDnsName ?? d.machineId}: action ${action.id} is still Pending after ${Math.round(PENDING_WARN_MS / MINUTE)} min; the device is probably offline. The service keeps it queued (up to its queue window) unless the per-device timeout (${Math.round(s.plan.options.timeoutMs / MINUTE)} min) cancels it first; detach and resume later if you do not want to wait.`,
      );
    }
    if (final) this.warnedPending.delete(action.id);
    if (r.actionStatus !== action.status) {
      r.actionStatus = action.status;
      s.emit({ type: "status", machineId: action.machineId, actionId: action.id, status: action.status });
      if (!final) s.journal.write(i, r);
    }
    if (!final) return;
    s.inflight.delete(action.id);
    if (r.intentAt !== null) {
      const took = Math.max(0, s.clock.now() - r.intentAt);
      s.avgActionMs = s.avgActionMs * 0.8 + took * 0.2;
    }
    r.final = {
      status: action.status,
      commands: action.commands.map((c) => ({
        index: c.index,
        status: c.commandStatus,
        startTime: c.startTime,
        endTime: c.endTime,
        errors: c.errors ?? [],
      })),
      cancelledBy: action.cancellationRequestor ?? null,
      cancelledAt: action.cancellationDateTimeUtc ?? null,
    };
    r.phase = "collecting";
    s.journal.write(i, r, true);
    // An aborting run collects on its own short budget (cancel.ts), not through the queue.
    if (r.cancelRequested === "abort") return;
    s.collectQueue.push(i);
    s.wake();
  }
}
