/**
 * The fleet scheduler: one loop that submits, polls, collects and cancels for a whole run while
 * respecting every quota at once.
 *
 * - Submissions: `submitPerMinute` (sliding window), the session cap (`maxConcurrentSessions` actions
 *   submitted and not final), one live response per device (a device's next action only after the
 *   previous one is final and collected), canary first, 429 back-off as the service asks.
 * - Polls: one list call for all of the run's in-flight actions (`type eq 'LiveResponse' and
 *   creationDateTimeUtc ge <oldest in flight>`), never one call per action; per-id GET only for a
 *   handful the list missed. The cadence adapts (poll-interval.ts) so polls plus result links stay
 *   inside 100/min and 1,500/h.
 * - Every device change is journaled before it matters (intent before a submit, outcome after), so the
 *   run can be resumed from its folder after a crash without submitting anything twice.
 * Per-device state is a small record; results stream to disk.
 */
import type { MachineAction, MachineActionStatus, MdeApi } from "../api/types.js";
import { FINAL_ACTION_STATUSES } from "../api/types.js";
import type { Clock } from "../clock.js";
import {
  AmbiguousSubmissionError,
  ForbiddenError,
  MdeApiError,
  NetworkError,
  RateLimitError,
  UnauthorizedError,
} from "../errors.js";
import { explainServiceError } from "../plan/explain.js";
import type { MachineStatus, ReportError } from "../report/types.js";
import { collectResult } from "../results/collect.js";
import type { Journal, RunState } from "../run/journal.js";
import { actionComment, hasRunTag, odataTimestamp } from "../run/tag.js";
import type { RunEvent } from "../run/types.js";
import type { MeteredApi } from "./metered-api.js";
import { pollIntervalMs } from "./poll-interval.js";
import type { DeviceRecord, RunPlanFile, StepRecord } from "./types.js";

const MINUTE = 60_000;
/** Tolerated difference between our clock and the service's when filtering by creation time. */
const CLOCK_SKEW_MS = 10 * MINUTE;
/** At most this many in-flight actions are fetched one by one when a list poll misses them. */
const MAX_SINGLE_GETS = 5;
/** Network failures (no response, nothing created) tolerated per device before it is failed. */
const MAX_SUBMIT_FAILURES = 3;
const DEFAULT_RETRY_AFTER_MS = MINUTE;
/** How far ahead of a free submit slot its intent is journaled (an fsync must not delay the request). */
const SUBMIT_LOOKAHEAD_MS = 10_000;
/** An action still Pending this long is called out (offline device) in a warning event. */
const PENDING_WARN_MS = 5 * MINUTE;
/** After a timeout cancel, how long to wait for the action to be seen final before giving up on it. */
const CANCEL_CONFIRM_GRACE_MS = 5 * MINUTE;
/** …and how long at most while no poll gets an answer at all. */
const CANCEL_CONFIRM_MAX_MS = 30 * MINUTE;
/** Real ms an aborted run may spend collecting results that already exist before it reports. */
const ABORT_COLLECT_BUDGET_MS = 3_000;
/** ActiveRequestAlreadyExists back-off: 30 s doubling to 5 min (a portal session may hold the device). */
const BUSY_BASE_MS = 30_000;
const BUSY_MAX_MS = 5 * MINUTE;
/** Simultaneous result downloads. */
const COLLECT_CONCURRENCY = 8;
/** Progress events for live views: at most this often, in real milliseconds (a view redraws in real time). */
const PROGRESS_EVERY_REAL_MS = 250;

export interface FleetSchedulerOptions {
  plan: RunPlanFile;
  records: DeviceRecord[];
  journal: Journal;
  runState: RunState;
  metered: MeteredApi;
  clock: Clock;
  outDir: string;
  folderOf: (device: number) => string;
  signal?: AbortSignal;
  onEvent?: (event: RunEvent) => void;
  detachAfterMs?: number;
}

export interface FleetOutcome {
  cancelled: boolean;
  detached: boolean;
  /** A run-wide failure (e.g. the credentials were refused) that stopped the run. */
  fatal: unknown;
}

export class FleetScheduler {
  private readonly plan: RunPlanFile;
  private readonly records: DeviceRecord[];
  private readonly api: MdeApi;
  private readonly clock: Clock;
  private readonly ready: number[] = [];
  private readonly inflight = new Map<string, number>();
  private readonly submitting = new Set<number>();
  private readonly busy = new Set<number>();
  private readonly collectQueue: number[] = [];
  private readonly tasks = new Set<Promise<void>>();
  private collecting = 0;
  private doneCount = 0;
  private pauseSubmitsUntil = 0;
  private lastPollAt = Number.NEGATIVE_INFINITY;
  /** Service ms this process asked to cancel a timed-out action (its confirmation grace starts there). */
  private readonly cancelAskedAt = new Map<string, number>();
  /** Start of the last poll that got an answer. */
  private lastPollOkAt = Number.NEGATIVE_INFINITY;
  private pollBackoffUntil = 0;
  private widenPoll = false;
  private requestor: string | null = null;
  private actionsLeft = 0;
  private linksLeft = 0;
  private avgActionMs = MINUTE;
  private fatal: unknown = null;
  private woken = false;
  private wakeCtl: AbortController | null = null;
  private lastProgressReal = 0;
  private readonly canaryCount: number;
  private heldCount = 0;
  /** Submissions whose intent is journaled but whose submit slot is not taken yet. */
  private preparing = 0;
  private polling = false;
  private readonly warnedPending = new Set<string>();
  private lastWaiting: { reason: string; at: number } | null = null;

  constructor(private readonly o: FleetSchedulerOptions) {
    this.plan = o.plan;
    this.records = o.records;
    this.api = o.metered.api;
    this.clock = o.clock;
    this.canaryCount = Math.min(o.plan.options.canary, o.plan.devices.length);
  }

  async run(): Promise<FleetOutcome> {
    this.restoreQueues();
    const watchStart = this.clock.now();
    const signal = this.o.signal;
    const onAbort = () => this.wake();
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      for (;;) {
        if (signal?.aborted) {
          await this.abortAll();
          return { cancelled: true, detached: false, fatal: null };
        }
        if (this.fatal) {
          await this.drainTasks();
          this.failUnstarted(explainServiceError(this.fatal));
          return { cancelled: false, detached: false, fatal: this.fatal };
        }
        const now = this.clock.now();
        this.checkCanary();
        this.checkDeadlines(now);
        this.wakeBusyDevices(now);
        this.submitWhatWeCan();
        if (!this.polling && this.pollDue(this.clock.now())) {
          // Not awaited either: a slow list call must not hold back the next submission slot.
          this.polling = true;
          this.spawn(async () => {
            try {
              await this.poll();
            } finally {
              this.polling = false;
            }
          });
        }
        this.startCollections();
        this.emitProgress(false);
        if (this.doneCount === this.records.length && this.tasks.size === 0) break;
        if (
          this.o.detachAfterMs !== undefined &&
          this.clock.now() - watchStart >= this.o.detachAfterMs &&
          this.submitting.size === 0 &&
          this.collecting === 0 &&
          this.collectQueue.length === 0
        ) {
          await this.drainTasks();
          return { cancelled: false, detached: true, fatal: null };
        }
        await this.sleepUntil(this.nextWakeAt(watchStart));
      }
      await this.drainTasks();
      this.emitProgress(true);
      return { cancelled: false, detached: false, fatal: null };
    } finally {
      signal?.removeEventListener("abort", onAbort);
    }
  }

  /** Cancel this run's unfinished actions (only those: they are known by id from the journal). */
  async abortAll(): Promise<void> {
    this.restoreQueuesIfNeeded();
    await this.drainTasks();
    // Submissions whose outcome is unknown: find them by tag first, so they can be cancelled too.
    for (const i of [...this.submitting]) await this.resolveIntent(i, true);
    const cancels: Promise<void>[] = [];
    for (const [actionId, i] of this.inflight) {
      cancels.push(this.cancelAction(i, actionId, "abort"));
    }
    await Promise.all(cancels);
    // Cancelling a run that had already finished changes nothing.
    if (this.records.every((r) => r.phase === "done")) return;
    // What the service finished, or what our cancel cut short, keeps its real state and the results that
    // exist: collect them now on a short budget of their own (the run's signal is already aborted; real
    // time, because the caller's grace — a runner's 7.5 s, a second Ctrl-C — is real time too).
    const budget = AbortSignal.timeout(ABORT_COLLECT_BUDGET_MS);
    for (let i = 0; i < this.records.length; i++) {
      const r = this.records[i]!;
      if (r.phase === "collecting" && r.final && !budget.aborted) await this.collectDevice(i, budget);
    }
    for (let i = 0; i < this.records.length; i++) {
      const r = this.records[i]!;
      if (r.phase === "done") continue;
      this.finish(i, "cancelled", {
        code: "Cancelled",
        message: r.actionId
          ? `the run was cancelled; action ${r.actionId} was cancelled`
          : "the run was cancelled before this device's next action was submitted",
      });
    }
    this.o.runState.cancelled = true;
    this.o.journal.writeRun(this.o.runState);
  }

  // ---------------------------------------------------------------------------------------------
  // Queues

  private restored = false;

  private restoreQueuesIfNeeded(): void {
    if (!this.restored) this.restoreQueues();
  }

  private restoreQueues(): void {
    if (this.restored) return;
    this.restored = true;
    this.records.forEach((r, i) => {
      const device = this.plan.devices[i]!;
      if (r.phase !== "done") {
        const start =
          r.phase === "collecting" ? r.action + 1 : r.phase === "inflight" ? r.action + 1 : r.action;
        this.actionsLeft += Math.max(0, device.actions.length - start);
        for (let a = r.action; a < device.actions.length; a++)
          this.linksLeft += resultCount(device.actions[a]!);
      }
      switch (r.phase) {
        case "queued":
          this.ready.push(i);
          break;
        case "submitting":
          this.submitting.add(i);
          this.spawn(() => this.resolveIntent(i, false));
          break;
        case "inflight":
          if (r.actionId) this.inflight.set(r.actionId, i);
          else this.setPhase(i, "queued", true);
          break;
        case "busy":
          this.busy.add(i);
          break;
        case "collecting":
          this.collectQueue.push(i);
          break;
        case "done":
          this.doneCount++;
          break;
        case "held":
          this.heldCount++;
          break;
      }
    });
  }

  private setPhase(i: number, phase: DeviceRecord["phase"], durable = false): void {
    const r = this.records[i]!;
    if (r.phase === "held" && phase !== "held") this.heldCount--;
    r.phase = phase;
    if (phase === "queued") this.ready.push(i);
    this.o.journal.write(i, r, durable);
  }

  private checkCanary(): void {
    if (this.canaryCount === 0 || this.heldCount === 0) return;
    let allDone = true;
    let failed: number | null = null;
    for (let i = 0; i < this.canaryCount; i++) {
      const r = this.records[i]!;
      if (r.phase !== "done") allDone = false;
      else if (r.status !== "succeeded" && failed === null) failed = i;
    }
    if (failed !== null) {
      const who = this.plan.devices[failed]!;
      for (let i = this.canaryCount; i < this.records.length; i++) {
        if (this.records[i]!.phase !== "held") continue;
        this.finish(i, "cancelled", {
          code: "CanaryFailed",
          message: `not run: canary device ${who.computerDnsName ?? who.machineId} did not succeed (${this.records[failed]!.status}), so the run did not fan out`,
        });
      }
      return;
    }
    if (!allDone) return;
    for (let i = this.canaryCount; i < this.records.length; i++) {
      if (this.records[i]!.phase === "held") this.setPhase(i, "queued");
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Submissions

  private sessionsInUse(): number {
    return this.inflight.size + this.submitting.size;
  }

  private submitWhatWeCan(): void {
    while (this.ready.length > 0 && !this.fatal && !this.o.signal?.aborted) {
      const now = this.clock.now();
      if (now < this.pauseSubmitsUntil) return;
      if (this.sessionsInUse() >= this.plan.options.maxConcurrentSessions) {
        this.emitWaiting("sessionCap", this.lastPollAt + this.currentPollInterval(now));
        return;
      }
      const i = this.ready[0]!;
      const r = this.records[i]!;
      if (r.phase !== "queued") {
        this.ready.shift();
        continue;
      }
      if (r.firstSubmitAt !== null && now >= r.firstSubmitAt + this.plan.options.timeoutMs) {
        this.ready.shift();
        this.finish(i, "timedOut", {
          code: "Timeout",
          message: `the device's timeout (${Math.round(this.plan.options.timeoutMs / 1000)} s) passed before its next action could be submitted`,
        });
        continue;
      }
      // Prepare (journal and fsync the intent of) the submissions whose slots free up within the next
      // few seconds, so each request leaves the moment its slot does; those between intent and slot
      // count as taken, so a burst never overbooks.
      if (this.o.metered.submitBudget.freeSlots("high", now + SUBMIT_LOOKAHEAD_MS) <= this.preparing) return;
      this.ready.shift();
      // The intent is written now (journal order = program order) and made durable before the request leaves.
      this.beginIntent(i, now);
      this.preparing++;
      // Not awaited: the loop goes on polling and collecting while the request is on the wire.
      this.spawn(() => this.submit(i));
    }
  }

  private beginIntent(i: number, now: number): void {
    const r = this.records[i]!;
    r.intentAt = now;
    r.firstSubmitAt ??= now;
    r.phase = "submitting";
    this.submitting.add(i);
    this.o.journal.write(i, r);
  }

  private async submit(i: number): Promise<void> {
    const r = this.records[i]!;
    const device = this.plan.devices[i]!;
    const action = device.actions[r.action]!;
    const comment = actionComment(this.plan.comment, this.plan.runId, action.steps);
    let created: MachineAction;
    let release: () => void = () => {};
    try {
      try {
        // From here on a crash leaves an intent that resume resolves by tag before anything is re-sent.
        await this.o.journal.sync();
        this.o.signal?.throwIfAborted();
        // The slot is taken only now, so the fsync is not part of the call's time in the rolling window
        // (every ms a call holds its slot delays the next minute's burst by as much).
        release = await this.o.metered.submitBudget.acquire("high", this.o.signal);
      } catch (error) {
        if (!this.o.signal?.aborted) throw error;
        // Aborted before the request left: certainly not submitted.
        this.submitting.delete(i);
        r.intentAt = null;
        r.phase = "queued";
        this.o.journal.write(i, r, true);
        return;
      } finally {
        this.preparing--;
      }
      // No abort signal: a submission cut off mid-flight is ambiguous; let it finish, then cancel it.
      created = await this.api.runLiveResponse(device.machineId, {
        Commands: action.commands,
        Comment: comment,
      });
    } catch (error) {
      release();
      this.submitFailed(i, error);
      return;
    }
    release();
    this.accepted(i, created);
  }

  private accepted(i: number, action: MachineAction): void {
    const r = this.records[i]!;
    this.submitting.delete(i);
    this.busy.delete(i);
    r.phase = "inflight";
    r.actionId = action.id;
    if (!r.actionIds.includes(action.id)) r.actionIds.push(action.id);
    r.actionStatus = action.status;
    r.createdAt = Date.parse(action.creationDateTimeUtc) || null;
    r.busyUntil = null;
    r.submitFailures = 0;
    this.o.journal.write(i, r, true);
    this.inflight.set(action.id, i);
    this.actionsLeft = Math.max(0, this.actionsLeft - 1);
    if (this.requestor === null && action.requestor) this.requestor = action.requestor;
    this.emit({
      type: "submitted",
      machineId: action.machineId,
      actionId: action.id,
      step: this.currentSteps(i)[0]!,
    });
    this.emit({ type: "status", machineId: action.machineId, actionId: action.id, status: action.status });
    if (FINAL_ACTION_STATUSES.has(action.status)) this.applyStatus(i, action);
  }

  private submitFailed(i: number, error: unknown): void {
    const r = this.records[i]!;
    const now = this.clock.now();
    if (error instanceof AmbiguousSubmissionError) {
      // The service may have created it: stay "submitting" (holding a session) until a lookup says.
      this.spawn(() => this.resolveIntent(i, false));
      return;
    }
    this.submitting.delete(i);
    r.intentAt = null;
    if (error instanceof RateLimitError) {
      const until = now + (error.retryAfterMs ?? DEFAULT_RETRY_AFTER_MS);
      this.pauseSubmitsUntil = Math.max(this.pauseSubmitsUntil, until);
      r.phase = "queued";
      this.o.journal.write(i, r, true);
      this.ready.unshift(i);
      this.emit({ type: "waiting", reason: "rateLimit", untilMs: until });
      return;
    }
    if (error instanceof MdeApiError && error.code === "ActiveRequestAlreadyExists") {
      if (this.plan.options.onActiveSession === "fail") {
        this.finish(i, "failed", explainServiceError(error));
        return;
      }
      r.busyCount++;
      const until = now + Math.min(BUSY_MAX_MS, BUSY_BASE_MS * 2 ** (r.busyCount - 1));
      r.busyUntil = until;
      r.phase = "busy";
      this.busy.add(i);
      this.o.journal.write(i, r, true);
      this.emit({ type: "waiting", reason: "deviceBusy", untilMs: until });
      return;
    }
    if (error instanceof UnauthorizedError || (error instanceof ForbiddenError && error.kind === "auth")) {
      // The credentials are refused for every device alike: stop the run instead of failing them one by one.
      r.phase = "queued";
      this.o.journal.write(i, r, true);
      this.ready.unshift(i);
      this.fatal = error;
      return;
    }
    if (error instanceof NetworkError && r.submitFailures + 1 < MAX_SUBMIT_FAILURES) {
      r.submitFailures++;
      r.phase = "queued";
      this.o.journal.write(i, r, true);
      this.ready.push(i);
      return;
    }
    this.finish(i, "failed", explainServiceError(error));
  }

  /**
   * An intent whose outcome is unknown (ambiguous answer, or a crash between journal and answer):
   * look for the action by its run tag before anything is submitted again.
   */
  private async resolveIntent(i: number, aborting: boolean): Promise<void> {
    const r = this.records[i]!;
    const device = this.plan.devices[i]!;
    const steps = this.currentSteps(i);
    const since = (r.intentAt ?? this.plan.startedAtMs) - CLOCK_SKEW_MS;
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const found = await this.api.listMachineActions(
          {
            filter: `machineId eq '${device.machineId}' and creationDateTimeUtc ge ${odataTimestamp(since)}`,
            top: 10_000,
          },
          aborting ? {} : { signal: this.o.signal },
        );
        const mine = found.find((a) => hasRunTag(a.requestorComment, this.plan.runId, steps));
        if (mine) {
          this.accepted(i, mine);
          return;
        }
      } catch (error) {
        if (this.o.signal?.aborted && !aborting) return;
        this.emit({
          type: "warning",
          message: `looking up ${device.machineId}'s submission failed: ${errorText(error)}`,
        });
      }
      // The service may list a just-created action a moment late: look once more before re-submitting.
      if (attempt === 0) {
        try {
          await this.clock.sleep(5_000, aborting ? undefined : this.o.signal);
        } catch {
          return;
        }
      }
    }
    this.submitting.delete(i);
    r.intentAt = null;
    if (aborting) {
      r.phase = "queued";
      this.o.journal.write(i, r, true);
      return;
    }
    r.phase = "queued";
    this.o.journal.write(i, r, true);
    this.ready.unshift(i);
    this.wake();
  }

  // ---------------------------------------------------------------------------------------------
  // Busy devices, deadlines, cancellation

  private wakeBusyDevices(now: number): void {
    for (const i of [...this.busy]) {
      const r = this.records[i]!;
      if (r.busyUntil !== null && r.busyUntil > now) continue;
      this.busy.delete(i);
      r.busyUntil = null;
      this.spawn(() => this.checkBusy(i));
    }
  }

  /** Is the device free now (no Pending/InProgress live response listed)? If not, wait again. */
  private async checkBusy(i: number): Promise<void> {
    const r = this.records[i]!;
    const device = this.plan.devices[i]!;
    let stillBusy = false;
    try {
      const actions = await this.api.listMachineActions(
        { filter: `machineId eq '${device.machineId}' and type eq 'LiveResponse'`, top: 50 },
        { signal: this.o.signal },
      );
      stillBusy = actions.some((a) => a.status === "Pending" || a.status === "InProgress");
    } catch (error) {
      if (this.o.signal?.aborted) return;
      this.emit({
        type: "warning",
        message: `checking whether ${device.machineId} is free failed: ${errorText(error)}`,
      });
    }
    if (r.phase !== "busy") return;
    if (stillBusy) {
      r.busyCount++;
      r.busyUntil = this.clock.now() + Math.min(BUSY_MAX_MS, BUSY_BASE_MS * 2 ** (r.busyCount - 1));
      this.busy.add(i);
      this.o.journal.write(i, r);
      return;
    }
    // Not listed as busy (a portal session is invisible to the API): try again; the service decides.
    this.setPhase(i, "queued");
  }

  private checkDeadlines(now: number): void {
    const timeout = this.plan.options.timeoutMs;
    for (const [actionId, i] of [...this.inflight]) {
      const r = this.records[i]!;
      if (r.firstSubmitAt === null || now < r.firstSubmitAt + timeout) continue;
      const askedAt = this.cancelAskedAt.get(actionId);
      if (!r.cancelRequested || askedAt === undefined) {
        // First time past the deadline in this process — also after a resume, when an earlier process
        // journaled the cancel: the grace counts from now, not from the deadline, so a run resumed long
        // after its deadline still polls (and asks again) before giving up on the action.
        r.cancelRequested = "timeout";
        this.o.journal.write(i, r, true);
        this.cancelAskedAt.set(actionId, now);
        this.spawn(() => this.cancelAction(i, actionId, "timeout"));
        continue;
      }
      // The cancel was asked for but no final state was seen since (cancel or polls failing): stop
      // watching rather than hang the run; the report says what is known.
      // Give up once a poll answered since the request and the action still is not final, or — polls
      // failing all along (throttling, a broken gateway) — after a much longer bound.
      if (
        (now >= askedAt + CANCEL_CONFIRM_GRACE_MS && this.lastPollOkAt >= askedAt) ||
        now >= askedAt + CANCEL_CONFIRM_MAX_MS
      ) {
        this.inflight.delete(actionId);
        this.finish(i, "timedOut", {
          code: "Timeout",
          message: `the device's timeout (${Math.round(timeout / 1000)} s) passed; cancelling action ${actionId} could not be confirmed (last known status ${r.actionStatus ?? "unknown"}), so the run stopped watching it`,
        });
      }
    }
    for (const i of [...this.busy]) {
      const r = this.records[i]!;
      if (r.firstSubmitAt === null || now < r.firstSubmitAt + timeout) continue;
      this.busy.delete(i);
      const explained = explainServiceError(
        new MdeApiError({
          status: 400,
          code: "ActiveRequestAlreadyExists",
          message: "Action is already in progress",
          method: "POST",
          path: `/api/machines/${this.plan.devices[i]!.machineId}/runliveresponse`,
        }),
      );
      this.finish(i, "timedOut", {
        code: "ActiveRequestAlreadyExists",
        message: `the device stayed busy with another live response until the timeout; ${explained.message}`,
      });
    }
  }

  private async cancelAction(i: number, actionId: string, why: "timeout" | "abort"): Promise<void> {
    const r = this.records[i]!;
    if (r.cancelRequested !== why) {
      r.cancelRequested = why;
      this.o.journal.write(i, r, true);
    }
    const comment = actionComment(
      why === "timeout" ? "mde-lr: per-device timeout" : "mde-lr: run cancelled",
      this.plan.runId,
      this.currentSteps(i),
    );
    try {
      const action = await this.api.cancelMachineAction(actionId, comment);
      if (FINAL_ACTION_STATUSES.has(action.status) && this.inflight.has(actionId))
        this.applyStatus(i, action);
    } catch (error) {
      // 400: already final (or the cancel did not get through): look the action up, so one that finished
      // is collected like any other instead of waiting for a poll that may not come.
      this.emit({ type: "warning", message: `cancelling action ${actionId} failed: ${errorText(error)}` });
      try {
        const action = await this.api.getMachineAction(actionId);
        if (FINAL_ACTION_STATUSES.has(action.status) && this.inflight.has(actionId))
          this.applyStatus(i, action);
      } catch {
        // The next poll tries again.
      }
    }
    if (why === "abort" && this.inflight.has(actionId)) {
      this.inflight.delete(actionId);
      r.actionStatus = "Cancelled";
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Polling

  private pollDue(now: number): boolean {
    if (this.inflight.size === 0 || now < this.pollBackoffUntil) return false;
    return now >= this.lastPollAt + this.currentPollInterval(now);
  }

  private currentPollInterval(now: number): number {
    const o = this.plan.options;
    const submitMs = (this.actionsLeft / Math.max(1, o.submitPerMinute)) * MINUTE;
    const sessionMs = (this.actionsLeft * this.avgActionMs) / Math.max(1, o.maxConcurrentSessions);
    const linkMs = (this.linksLeft / Math.max(1, o.callsPerHour)) * 60 * MINUTE;
    const remainingMs = Math.max(submitMs, sessionMs, linkMs) + this.avgActionMs;
    return pollIntervalMs({
      floorMs: o.pollIntervalMs,
      ceilingMs: MINUTE,
      callsPerMinute: o.callsPerMinute,
      callsPerHour: o.callsPerHour,
      usedLastHour: this.o.metered.callBudget.used(60 * MINUTE, now),
      callsStillNeeded: this.linksLeft,
      remainingMs,
    });
  }

  /** One list call for every in-flight action of the run. */
  private async poll(): Promise<void> {
    const started = this.clock.now();
    this.lastPollAt = started;
    // The oldest in-flight action's creation time on the service's own clock (exact, so the list holds
    // little beyond the run's live actions); our clock minus a skew margin when that is not known.
    let oldest = Number.POSITIVE_INFINITY;
    for (const i of this.inflight.values()) {
      const r = this.records[i]!;
      oldest = Math.min(oldest, r.createdAt ?? (r.intentAt ?? this.plan.startedAtMs) - CLOCK_SKEW_MS);
    }
    if (!Number.isFinite(oldest)) oldest = this.plan.startedAtMs - CLOCK_SKEW_MS;
    const since = this.widenPoll ? oldest - 6 * CLOCK_SKEW_MS : oldest - 1_000;
    let filter = `type eq 'LiveResponse' and creationDateTimeUtc ge ${odataTimestamp(since)}`;
    if (this.requestor && !this.widenPoll)
      filter += ` and requestor eq '${this.requestor.replace(/'/g, "''")}'`;
    let actions: MachineAction[];
    try {
      actions = await this.api.listMachineActions({ filter, top: 10_000 }, { signal: this.o.signal });
      this.lastPollOkAt = started;
    } catch (error) {
      if (this.o.signal?.aborted) return;
      if (error instanceof RateLimitError) {
        this.pollBackoffUntil = this.clock.now() + (error.retryAfterMs ?? DEFAULT_RETRY_AFTER_MS);
        this.emit({ type: "waiting", reason: "rateLimit", untilMs: this.pollBackoffUntil });
      } else if (error instanceof MdeApiError && error.status === 400 && this.requestor) {
        // The requestor filter was refused: poll without it from now on.
        this.requestor = null;
      } else {
        this.emit({ type: "warning", message: `polling actions failed: ${errorText(error)}` });
      }
      return;
    }
    const seen = new Set<string>();
    for (const a of actions) {
      const i = this.inflight.get(a.id);
      if (i === undefined) continue;
      seen.add(a.id);
      this.applyStatus(i, a);
    }
    const missing: [string, number][] = [];
    for (const [id, i] of this.inflight) {
      if (!seen.has(id) && (this.records[i]!.intentAt ?? 0) < started) missing.push([id, i]);
    }
    if (missing.length > MAX_SINGLE_GETS) {
      // The list missed many of ours: drop the requestor filter first (requestor format varies,
      // mde-api.md §8.11), then widen the creation-time window.
      if (this.requestor) this.requestor = null;
      else this.widenPoll = true;
      return;
    }
    this.widenPoll = false;
    for (const [id, i] of missing) {
      try {
        this.applyStatus(i, await this.api.getMachineAction(id, { signal: this.o.signal }));
      } catch (error) {
        if (this.o.signal?.aborted) return;
        this.emit({ type: "warning", message: `getting action ${id} failed: ${errorText(error)}` });
      }
    }
  }

  private applyStatus(i: number, action: MachineAction): void {
    const r = this.records[i]!;
    if (r.actionId !== action.id || r.phase !== "inflight") return;
    if (
      action.status === "Pending" &&
      r.intentAt !== null &&
      this.clock.now() - r.intentAt >= PENDING_WARN_MS &&
      !this.warnedPending.has(action.id)
    ) {
      this.warnedPending.add(action.id);
      const d = this.plan.devices[i]!;
      this.emit({
        type: "warning",
        message: `${d.computerDnsName ?? d.machineId}: action ${action.id} is still Pending after ${Math.round(PENDING_WARN_MS / MINUTE)} min; the device is probably offline. The service keeps it queued (up to its queue window) unless the per-device timeout (${Math.round(this.plan.options.timeoutMs / MINUTE)} min) cancels it first; detach and resume later if you do not want to wait.`,
      });
    }
    if (FINAL_ACTION_STATUSES.has(action.status)) this.warnedPending.delete(action.id);
    if (r.actionStatus !== action.status) {
      r.actionStatus = action.status;
      this.emit({ type: "status", machineId: action.machineId, actionId: action.id, status: action.status });
      if (!FINAL_ACTION_STATUSES.has(action.status)) this.o.journal.write(i, r);
    }
    if (!FINAL_ACTION_STATUSES.has(action.status)) return;
    this.inflight.delete(action.id);
    if (r.intentAt !== null) {
      const took = Math.max(0, this.clock.now() - r.intentAt);
      this.avgActionMs = this.avgActionMs * 0.8 + took * 0.2;
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
    };
    if (r.cancelRequested === "abort") {
      r.phase = "collecting";
      this.o.journal.write(i, r, true);
      return;
    }
    r.phase = "collecting";
    this.o.journal.write(i, r, true);
    this.collectQueue.push(i);
    this.wake();
  }

  // ---------------------------------------------------------------------------------------------
  // Collection

  private startCollections(): void {
    while (this.collecting < COLLECT_CONCURRENCY && this.collectQueue.length > 0 && !this.o.signal?.aborted) {
      const i = this.collectQueue.shift()!;
      this.collecting++;
      this.spawn(async () => {
        try {
          await this.collectDevice(i);
        } finally {
          this.collecting--;
        }
      });
    }
  }

  private async collectDevice(i: number, signal: AbortSignal | undefined = this.o.signal): Promise<void> {
    const r = this.records[i]!;
    const device = this.plan.devices[i]!;
    const action = device.actions[r.action]!;
    const final = r.final;
    const actionId = r.actionId;
    if (!final || !actionId) return;
    for (let idx = 0; idx < action.steps.length; idx++) {
      const stepNo = action.steps[idx]!;
      if (r.steps[String(stepNo)]) continue; // collected before a crash
      const step = this.plan.steps[stepNo - 1]!;
      const cmd = final.commands.find((c) => c.index === idx);
      const rec: StepRecord = {
        st: "notRun",
        a: actionId,
        i: idx,
        ec: null,
        f: null,
        sha: null,
        b: null,
        so: null,
        se: null,
        soSha: null,
        seSha: null,
        t0: cmd?.startTime ?? null,
        t1: cmd?.endTime ?? null,
        err: cmd?.errors ?? [],
      };
      if (cmd?.status === "Completed") {
        rec.st = "succeeded";
        if (step.type !== "PutFile") {
          try {
            const got = await collectResult({
              api: this.api,
              clock: this.clock,
              outDir: this.o.outDir,
              deviceFolder: this.o.folderOf(i),
              actionId,
              index: idx,
              step: stepNo,
              kind:
                step.type === "GetFile"
                  ? { type: "GetFile", path: step.path }
                  : { type: "RunScript", scriptName: step.scriptName },
              ...(signal ? { signal } : {}),
            });
            rec.f = got.file;
            rec.sha = got.sha256;
            rec.b = got.bytes;
            rec.ec = got.exitCode;
            rec.so = got.stdoutFile;
            rec.se = got.stderrFile;
            rec.soSha = got.stdoutSha256;
            rec.seSha = got.stderrSha256;
            if (got.exitCode !== null && got.exitCode !== 0) {
              rec.st = "failed";
              rec.err = [...rec.err, `script exited with code ${got.exitCode}`];
            }
            this.emit({
              type: "collected",
              machineId: device.machineId,
              step: stepNo,
              file: got.file,
              bytes: got.bytes,
            });
          } catch (error) {
            if (signal?.aborted) return;
            rec.st = "failed";
            rec.err = [...rec.err, `result could not be collected: ${errorText(error)}`];
          }
          this.linksLeft = Math.max(0, this.linksLeft - 1);
        }
      } else if (cmd?.status === "Failed") {
        rec.st = "failed";
        if (step.type !== "PutFile") this.linksLeft = Math.max(0, this.linksLeft - 1);
      } else {
        rec.st = final.status === "Cancelled" || final.status === "TimeOut" ? "cancelled" : "notRun";
        if (step.type !== "PutFile") this.linksLeft = Math.max(0, this.linksLeft - 1);
      }
      r.steps[String(stepNo)] = rec;
      this.o.journal.write(i, r);
    }
    this.afterAction(i, final.status);
    this.wake();
  }

  /** The current action is final and collected: run the device's next action, or finish it. */
  private afterAction(i: number, status: MachineActionStatus): void {
    const r = this.records[i]!;
    const device = this.plan.devices[i]!;
    r.final = null;
    if (status === "Succeeded") {
      if (r.action + 1 < device.actions.length) {
        r.action++;
        r.actionId = null;
        r.actionStatus = null;
        r.intentAt = null;
        r.createdAt = null;
        this.setPhase(i, "queued");
        return;
      }
      const failedStep = Object.entries(r.steps).find(([, s]) => s.st === "failed");
      if (failedStep) {
        const [n, s] = failedStep;
        this.finish(i, "failed", {
          code: "CommandFailed",
          message: `step ${n}: ${s.err.join("; ") || "failed"}`,
        });
      } else {
        this.finish(i, "succeeded", null);
      }
      return;
    }
    if (status === "TimeOut") {
      this.finish(i, "timedOut", {
        code: "TimeOut",
        message:
          "the service timed the action out (an offline device's queued action expires after the queue window, or a command ran too long)",
      });
      return;
    }
    if (status === "Cancelled") {
      if (r.cancelRequested === "timeout") {
        this.finish(i, "timedOut", {
          code: "Timeout",
          message: `the device's timeout (${Math.round(this.plan.options.timeoutMs / 1000)} s) passed; action ${r.actionId} was cancelled`,
        });
      } else {
        this.finish(i, "cancelled", {
          code: "Cancelled",
          message:
            r.cancelRequested === "abort"
              ? `the run was cancelled; action ${r.actionId} was cancelled`
              : `action ${r.actionId} was cancelled outside this run`,
        });
      }
      return;
    }
    const failedCmd = Object.values(r.steps).find((s) => s.a === r.actionId && s.st === "failed");
    this.finish(i, "failed", {
      code: "ActionFailed",
      message: failedCmd?.err.length ? failedCmd.err.join("; ") : `action ${r.actionId} failed`,
    });
  }

  private finish(i: number, status: MachineStatus, error: ReportError | null): void {
    const r = this.records[i]!;
    if (r.phase === "done") return;
    const device = this.plan.devices[i]!;
    if (r.actionId) this.inflight.delete(r.actionId);
    this.submitting.delete(i);
    this.busy.delete(i);
    // Actions of this device that will never be submitted no longer need budget.
    const nextAction =
      r.phase === "queued" || r.phase === "held" || r.phase === "busy" ? r.action : r.action + 1;
    for (let a = nextAction; a < device.actions.length; a++) {
      this.actionsLeft = Math.max(0, this.actionsLeft - 1);
      this.linksLeft = Math.max(0, this.linksLeft - resultCount(device.actions[a]!));
    }
    if (r.phase === "held") this.heldCount--;
    r.phase = "done";
    r.status = status;
    r.error = error;
    r.finishedAt = this.clock.now();
    r.busyUntil = null;
    this.o.journal.write(i, r, true);
    this.o.journal.maybeCompact(this.records.length, () => this.records, this.o.runState);
    this.doneCount++;
    this.emit({ type: "deviceDone", machineId: device.machineId, status });
  }

  /** After a fatal error: devices with nothing in flight fail with its explanation; in-flight ones stay pending. */
  private failUnstarted(error: ReportError): void {
    for (let i = 0; i < this.records.length; i++) {
      const r = this.records[i]!;
      if (r.phase === "queued" || r.phase === "held" || r.phase === "busy") this.finish(i, "failed", error);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Plumbing

  private currentSteps(i: number): number[] {
    const r = this.records[i]!;
    return this.plan.devices[i]!.actions[r.action]?.steps ?? [];
  }

  private spawn(work: () => Promise<void>): void {
    const p = work()
      .catch((error: unknown) => {
        this.emit({ type: "warning", message: `internal: ${errorText(error)}` });
      })
      .finally(() => {
        this.tasks.delete(p);
        this.wake();
      });
    this.tasks.add(p);
  }

  private async drainTasks(): Promise<void> {
    while (this.tasks.size > 0) await Promise.all([...this.tasks]);
  }

  private nextWakeAt(watchStart: number): number {
    const now = this.clock.now();
    let at = now + MINUTE;
    if (this.inflight.size > 0)
      at = Math.min(at, Math.max(this.pollBackoffUntil, this.lastPollAt + this.currentPollInterval(now)));
    // Submissions still between intent and slot wake the loop themselves when they finish.
    if (
      this.ready.length > 0 &&
      this.preparing === 0 &&
      this.sessionsInUse() < this.plan.options.maxConcurrentSessions
    ) {
      at = Math.min(
        at,
        Math.max(
          this.pauseSubmitsUntil,
          this.o.metered.submitBudget.nextAllowedAt("high", now) - SUBMIT_LOOKAHEAD_MS,
        ),
      );
    }
    for (const i of this.busy) at = Math.min(at, this.records[i]!.busyUntil ?? now);
    const timeout = this.plan.options.timeoutMs;
    for (const [actionId, i] of this.inflight) {
      const r = this.records[i]!;
      if (r.firstSubmitAt === null) continue;
      const askedAt = this.cancelAskedAt.get(actionId);
      at = Math.min(
        at,
        askedAt === undefined ? r.firstSubmitAt + timeout : askedAt + CANCEL_CONFIRM_GRACE_MS,
      );
    }
    if (this.o.detachAfterMs !== undefined)
      at = Math.min(at, Math.max(now, watchStart + this.o.detachAfterMs));
    return at;
  }

  private wake(): void {
    this.woken = true;
    this.wakeCtl?.abort();
  }

  private async sleepUntil(at: number): Promise<void> {
    if (this.woken) {
      this.woken = false;
      return;
    }
    const ms = at - this.clock.now();
    // Always yield to the event loop: I/O callbacks (fsync, sockets) must run between two turns.
    if (ms <= 0) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      return;
    }
    const ctl = new AbortController();
    this.wakeCtl = ctl;
    try {
      await this.clock.sleep(ms, ctl.signal);
    } catch {
      // woken early
    } finally {
      this.wakeCtl = null;
      this.woken = false;
    }
  }

  /** A `waiting` event when the reason changes, or at most once a service minute for the same one. */
  private emitWaiting(reason: "rateLimit" | "sessionCap" | "deviceBusy" | "quota", untilMs: number): void {
    const now = this.clock.now();
    if (this.lastWaiting && this.lastWaiting.reason === reason && now - this.lastWaiting.at < MINUTE) return;
    this.lastWaiting = { reason, at: now };
    this.emit({ type: "waiting", reason, untilMs });
  }

  private emit(event: RunEvent): void {
    try {
      this.o.onEvent?.(event);
    } catch {
      // A listener must not break the run.
    }
  }

  private emitProgress(force: boolean): void {
    if (!this.o.onEvent) return;
    // Real time on purpose: this only paces a live view's redraws, never the run itself.
    const real = performance.now();
    if (!force && real - this.lastProgressReal < PROGRESS_EVERY_REAL_MS) return;
    this.lastProgressReal = real;
    const queued = this.ready.length + this.busy.size + this.heldCount;
    let pending = 0;
    let running = 0;
    for (const i of this.inflight.values()) {
      if (this.records[i]!.actionStatus === "InProgress") running++;
      else pending++;
    }
    this.emit({
      type: "progress",
      done: this.doneCount,
      total: this.records.length,
      pending: pending + this.submitting.size,
      running: running + this.collecting,
      queued,
    });
  }
}

/** Result-bearing commands (RunScript, GetFile) in an action: one result link each. */
export function resultCount(action: { commands: { type: string }[] }): number {
  return action.commands.filter((c) => c.type !== "PutFile").length;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
