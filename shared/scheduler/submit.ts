/**
 * Submissions: the next action of each ready device, within `submitPerMinute`, the session cap and one
 * live response per device. Every submission's intent is journaled (and fsynced) before the request
 * leaves, so a crash leaves either nothing sent or an intent that a lookup by run tag resolves.
 */
import type { MachineAction } from "../api/types.js";
import { FINAL_ACTION_STATUSES } from "../api/types.js";
import {
  AmbiguousSubmissionError,
  ForbiddenError,
  MdeApiError,
  NetworkError,
  RateLimitError,
  UnauthorizedError,
} from "../errors.js";
import { explainServiceError, serviceFix } from "../plan/explain.js";
import type { ReportError } from "../report/types.js";
import { actionComment } from "../state/tag.js";
import { resolveIntent } from "./intent.js";
import { ownership } from "./ownership.js";
import type { Progress } from "./progress.js";
import { type FleetState, MINUTE } from "./state.js";
import type { StatusTracker } from "./status.js";

/** Network failures (no response, nothing created) tolerated per device before it is failed. */
const MAX_SUBMIT_FAILURES = 3;
export const DEFAULT_RETRY_AFTER_MS = MINUTE;
/** How far ahead of a free submit slot its intent is journaled (an fsync must not delay the request). */
const SUBMIT_LOOKAHEAD_MS = 10_000;
/** ActiveRequestAlreadyExists back-off: 30 s doubling to 5 min (a portal session may hold the device). */
export const BUSY_BASE_MS = 30_000;
export const BUSY_MAX_MS = 5 * MINUTE;

export function busyBackoffMs(busyCount: number): number {
  return Math.min(BUSY_MAX_MS, BUSY_BASE_MS * 2 ** (busyCount - 1));
}

export class Submitter {
  private pauseUntil = 0;
  /** Submissions whose intent is journaled but whose submit slot is not taken yet. */
  private preparing = 0;

  constructor(
    private readonly s: FleetState,
    private readonly status: StatusTracker,
    private readonly progress: Progress,
    /** When the session cap may free up (the next poll): what a `sessionCap` wait announces. */
    private readonly nextPollAt: (now: number) => number,
  ) {}

  /** Journal intents and start the requests for every ready device the quotas allow now. */
  submitWhatWeCan(): void {
    const s = this.s;
    const submitBudget = s.o.metered.quota.submit;
    while (s.ready.length > 0 && !s.fatal && !s.aborted) {
      const now = s.clock.now();
      if (now < this.pauseUntil) return;
      if (s.sessionsInUse() >= s.plan.options.maxConcurrentSessions) {
        this.progress.waiting("sessionCap", this.nextPollAt(now));
        return;
      }
      const i = s.ready[0]!;
      const r = s.records[i]!;
      if (r.phase !== "queued") {
        s.ready.shift();
        continue;
      }
      if (r.firstSubmitAt !== null && now >= r.firstSubmitAt + s.plan.options.timeoutMs) {
        s.ready.shift();
        s.finish(i, "timedOut", {
          code: "Timeout",
          message: `the device's timeout (${Math.round(s.plan.options.timeoutMs / 1000)} s) passed before its next action could be submitted`,
        });
        continue;
      }
      // Prepare (journal and fsync the intent of) the submissions whose slots free up within the next
      // few seconds, so each request leaves the moment its slot does; those between intent and slot
      // count as taken, so a burst never overbooks.
      if (submitBudget.freeSlots("high", now + SUBMIT_LOOKAHEAD_MS) <= this.preparing) return;
      s.ready.shift();
      // The intent is written now (journal order = program order) and made durable before the request leaves.
      r.intentAt = now;
      r.firstSubmitAt ??= now;
      r.phase = "submitting";
      s.submitting.add(i);
      s.journal.write(i, r);
      this.preparing++;
      // Not awaited: the loop goes on polling and collecting while the request is on the wire.
      s.spawn(() => this.submit(i));
    }
  }

  /** The earliest service time the loop should look at submissions again (now + a minute if never). */
  nextSubmitAt(now: number): number {
    const s = this.s;
    if (s.ready.length === 0 || this.preparing > 0) return Number.POSITIVE_INFINITY;
    if (s.sessionsInUse() >= s.plan.options.maxConcurrentSessions) return Number.POSITIVE_INFINITY;
    // Submissions still between intent and slot wake the loop themselves when they finish.
    return Math.max(
      this.pauseUntil,
      s.o.metered.quota.submit.nextAllowedAt("high", now) - SUBMIT_LOOKAHEAD_MS,
    );
  }

  private async submit(i: number): Promise<void> {
    const s = this.s;
    const r = s.records[i]!;
    const device = s.plan.devices[i]!;
    const action = device.actions[r.action]!;
    const comment = actionComment(s.plan.comment, s.plan.runId, action.steps, s.o.commentPointer);
    let created: MachineAction;
    let release: () => void = () => {};
    try {
      try {
        // From here on a crash leaves an intent that resume resolves by tag before anything is re-sent.
        await s.journal.sync();
        s.signal?.throwIfAborted();
        // The slot is taken only now, so the fsync is not part of the call's time in the rolling window
        // (every ms a call holds its slot delays the next minute's burst by as much).
        release = await s.o.metered.quota.submit.acquire("high", s.signal);
      } catch (error) {
        if (!s.aborted) throw error;
        // Aborted before the request left: certainly not submitted.
        s.submitting.delete(i);
        r.intentAt = null;
        r.phase = "queued";
        s.journal.write(i, r, true);
        return;
      } finally {
        this.preparing--;
      }
      // No abort signal: a submission cut off mid-flight is ambiguous; let it finish, then cancel it.
      created = await s.api.runLiveResponse(
        device.machineId,
        { Commands: action.commands, Comment: comment },
        { slot: { release } },
      );
    } catch (error) {
      release();
      this.failed(i, error);
      return;
    }
    release();
    const owner = ownership(created, s.plan.runId, action.steps, action.commands);
    if (owner === "ours") this.accepted(i, created);
    else if (owner === "foreign") this.foreignAnswer(i, created);
    // The answer does not say whose it is: find our action by its tag, as after an unclear answer.
    else s.spawn(() => this.resolve(i, false));
  }

  /**
   * The service answered with an action that is not this run's (someone else's pending one): never take
   * it as ours — the device is busy with it; wait or fail per onActiveSession, and say so.
   */
  private foreignAnswer(i: number, action: MachineAction): void {
    const s = this.s;
    const d = s.plan.devices[i]!;
    const why = `the service answered the submission to ${d.computerDnsName ?? d.machineId} with action ${action.id}, which is not this run's (requested by ${action.requestor ?? "unknown"}, comment ${JSON.stringify(action.requestorComment ?? "")}); the device is busy with it`;
    s.warn(why);
    this.deviceBusy(i, {
      code: "ActiveRequestAlreadyExists",
      message: `${why}; ${serviceFix("ActiveRequestAlreadyExists")}`,
    });
  }

  /** Another live response holds the device: wait (back-off) or fail it, per onActiveSession. */
  private deviceBusy(i: number, error: ReportError): void {
    const s = this.s;
    const r = s.records[i]!;
    s.submitting.delete(i);
    r.intentAt = null;
    if (s.plan.options.onActiveSession === "fail") {
      s.finish(i, "failed", error);
      return;
    }
    r.busyCount++;
    const until = s.clock.now() + busyBackoffMs(r.busyCount);
    r.busyUntil = until;
    r.phase = "busy";
    s.busy.add(i);
    s.journal.write(i, r, true);
    s.emit({ type: "waiting", reason: "deviceBusy", untilMs: until });
  }

  /** The service took the action (answered, or found by its tag after an unclear answer). */
  accepted(i: number, action: MachineAction): void {
    const s = this.s;
    const r = s.records[i]!;
    s.submitting.delete(i);
    s.busy.delete(i);
    r.phase = "inflight";
    r.actionId = action.id;
    if (!r.actionIds.includes(action.id)) r.actionIds.push(action.id);
    r.actionStatus = action.status;
    r.createdAt = Date.parse(action.creationDateTimeUtc) || null;
    r.busyUntil = null;
    r.submitFailures = 0;
    s.journal.write(i, r, true);
    s.inflight.set(action.id, i);
    s.actionsLeft = Math.max(0, s.actionsLeft - 1);
    if (s.requestor === null && action.requestor) s.requestor = action.requestor;
    s.noteRequestor(action.requestor);
    s.emit({
      type: "submitted",
      machineId: action.machineId,
      actionId: action.id,
      step: s.currentSteps(i)[0]!,
    });
    s.emit({ type: "status", machineId: action.machineId, actionId: action.id, status: action.status });
    if (FINAL_ACTION_STATUSES.has(action.status)) this.status.apply(i, action);
  }

  /** Look up an intent whose outcome is unknown; re-queue the device when nothing was created. */
  resolve(i: number, aborting: boolean): Promise<void> {
    return resolveIntent(this.s, i, aborting, (action) => this.accepted(i, action));
  }

  private failed(i: number, error: unknown): void {
    const s = this.s;
    const r = s.records[i]!;
    const now = s.clock.now();
    if (error instanceof AmbiguousSubmissionError) {
      // The service may have created it: stay "submitting" (holding a session) until a lookup says.
      s.spawn(() => this.resolve(i, false));
      return;
    }
    s.submitting.delete(i);
    r.intentAt = null;
    if (error instanceof RateLimitError) {
      const until = now + (error.retryAfterMs ?? DEFAULT_RETRY_AFTER_MS);
      this.pauseUntil = Math.max(this.pauseUntil, until);
      r.phase = "queued";
      s.journal.write(i, r, true);
      s.ready.unshift(i);
      s.emit({ type: "waiting", reason: "rateLimit", untilMs: until });
      return;
    }
    if (error instanceof MdeApiError && error.code === "ActiveRequestAlreadyExists") {
      this.deviceBusy(i, explainServiceError(error));
      return;
    }
    if (error instanceof UnauthorizedError || (error instanceof ForbiddenError && error.kind === "auth")) {
      // The credentials are refused for every device alike: stop the run instead of failing them one by one.
      r.phase = "queued";
      s.journal.write(i, r, true);
      s.ready.unshift(i);
      s.fatal = error;
      return;
    }
    if (error instanceof NetworkError && r.submitFailures + 1 < MAX_SUBMIT_FAILURES) {
      r.submitFailures++;
      r.phase = "queued";
      s.journal.write(i, r, true);
      s.ready.push(i);
      return;
    }
    s.finish(i, "failed", explainServiceError(error));
  }
}
