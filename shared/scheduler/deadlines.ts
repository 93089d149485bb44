/**
 * Per-device deadlines: `timeout` counts from a device's first submission. Past it, an in-flight action
 * is cancelled (and given a grace to be seen final), and a device still waiting for a busy device ends
 * `timedOut`.
 */
import { MdeApiError } from "../errors.js";
import { explainServiceError } from "../plan/explain.js";
import type { Canceller } from "./cancel.js";
import { type FleetState, MINUTE } from "./state.js";

/** After a timeout cancel, how long to wait for the action to be seen final before giving up on it. */
const CANCEL_CONFIRM_GRACE_MS = 5 * MINUTE;
/** …and how long at most while no poll gets an answer at all. */
const CANCEL_CONFIRM_MAX_MS = 30 * MINUTE;

export class Deadlines {
  /** Service ms this process asked to cancel a timed-out action (its confirmation grace starts there). */
  private readonly cancelAskedAt = new Map<string, number>();

  constructor(
    private readonly s: FleetState,
    private readonly canceller: Canceller,
    /** Start of the last poll that got an answer. */
    private readonly lastPollOkAt: () => number,
  ) {}

  check(now: number): void {
    const s = this.s;
    const timeout = s.plan.options.timeoutMs;
    for (const [actionId, i] of [...s.inflight]) {
      const r = s.records[i]!;
      if (r.firstSubmitAt === null || now < r.firstSubmitAt + timeout) continue;
      const askedAt = this.cancelAskedAt.get(actionId);
      if (!r.cancelRequested || askedAt === undefined) {
        // First time past the deadline in this process — also after a resume, when an earlier process
        // journaled the cancel: the grace counts from now, not from the deadline, so a run resumed long
        // after its deadline still polls (and asks again) before giving up on the action.
        r.cancelRequested = "timeout";
        s.journal.write(i, r, true);
        this.cancelAskedAt.set(actionId, now);
        s.spawn(() => this.canceller.cancelAction(i, actionId, "timeout"));
        continue;
      }
      // The cancel was asked for but no final state was seen since (cancel or polls failing): stop
      // watching rather than hang the run; the report says what is known. Give up once a poll answered
      // since the request and the action still is not final, or — polls failing all along (throttling,
      // a broken gateway) — after a much longer bound.
      if (
        (now >= askedAt + CANCEL_CONFIRM_GRACE_MS && this.lastPollOkAt() >= askedAt) ||
        now >= askedAt + CANCEL_CONFIRM_MAX_MS
      ) {
        s.inflight.delete(actionId);
        s.finish(i, "timedOut", {
          code: "Timeout",
          message: `the device's timeout (${Math.round(timeout / 1000)} s) passed; cancelling action ${actionId} could not be confirmed (last known status ${r.actionStatus ?? "unknown"}), so the run stopped watching it`,
        });
      }
    }
    for (const i of [...s.busy]) {
      const r = s.records[i]!;
      if (r.firstSubmitAt === null || now < r.firstSubmitAt + timeout) continue;
      s.busy.delete(i);
      const explained = explainServiceError(
        new MdeApiError({
          status: 400,
          code: "ActiveRequestAlreadyExists",
          message: "Action is already in progress",
          method: "POST",
          path: `/api/machines/${s.plan.devices[i]!.machineId}/runliveresponse`,
        }),
      );
      s.finish(i, "timedOut", {
        code: "ActiveRequestAlreadyExists",
        message: `the device stayed busy with another live response until the timeout; ${explained.message}`,
      });
    }
  }

  /** The next deadline or cancel grace among in-flight actions (+∞ when none). */
  nextAt(): number {
    const s = this.s;
    const timeout = s.plan.options.timeoutMs;
    let at = Number.POSITIVE_INFINITY;
    for (const [actionId, i] of s.inflight) {
      const r = s.records[i]!;
      if (r.firstSubmitAt === null) continue;
      const askedAt = this.cancelAskedAt.get(actionId);
      at = Math.min(
        at,
        askedAt === undefined ? r.firstSubmitAt + timeout : askedAt + CANCEL_CONFIRM_GRACE_MS,
      );
    }
    return at;
  }
}
