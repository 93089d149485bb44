/**
 * The fleet scheduler: one loop that submits, polls, collects and cancels for a whole run while
 * respecting every quota at once. The loop owns the turn order; each concern lives in a room of its own:
 *
 * - state.ts      records, the queues that index them by phase, run-wide counters, journaling
 * - submit.ts     submissions within `submitPerMinute`, the session cap and one session per device
 *   intent.ts     finding an action by run tag when a submission's outcome is unknown
 * - poll.ts       one list call for every in-flight action, at an adaptive cadence
 *   status.ts     what an answer about an action means for its device
 * - collect.ts    result downloads, then outcome.ts: next action or the device's final status
 * - cancel.ts     timeout cancels and aborting the whole run
 * - deadlines.ts  per-device timeouts; busy.ts devices held by another session; canary.ts
 * - progress.ts   progress and waiting events
 *
 * Every device change is journaled before it matters (intent before a submit, outcome after), so the
 * run can be resumed from its folder after a crash without submitting anything twice.
 */
import { explainServiceError } from "../plan/explain.js";
import type { ReportError } from "../report/types.js";
import { BusyDevices } from "./busy.js";
import { checkCanary } from "./canary.js";
import { Canceller } from "./cancel.js";
import { Collector } from "./collect.js";
import { Deadlines } from "./deadlines.js";
import { Poller } from "./poll.js";
import { Progress } from "./progress.js";
import { type FleetSchedulerOptions, FleetState, MINUTE } from "./state.js";
import { StatusTracker } from "./status.js";
import { Submitter } from "./submit.js";

export type { FleetSchedulerOptions } from "./state.js";
export { resultCount } from "./state.js";

export interface FleetOutcome {
  cancelled: boolean;
  detached: boolean;
  /** A run-wide failure (e.g. the credentials were refused) that stopped the run. */
  fatal: unknown;
}

export class FleetScheduler {
  private readonly s: FleetState;
  private readonly collector: Collector;
  private readonly poller: Poller;
  private readonly submitter: Submitter;
  private readonly canceller: Canceller;
  private readonly deadlines: Deadlines;
  private readonly busy: BusyDevices;
  private readonly progress: Progress;
  private indexed = false;

  constructor(private readonly o: FleetSchedulerOptions) {
    const s = new FleetState(o);
    this.s = s;
    const status = new StatusTracker(s);
    this.collector = new Collector(s);
    this.progress = new Progress(s, () => this.collector.active);
    this.poller = new Poller(s, status);
    this.submitter = new Submitter(s, status, this.progress, (now) => this.poller.nextSeenAt(now));
    this.canceller = new Canceller(s, status, this.submitter, this.collector);
    this.deadlines = new Deadlines(s, this.canceller, () => this.poller.lastOkAt);
    this.busy = new BusyDevices(s);
  }

  async run(): Promise<FleetOutcome> {
    const s = this.s;
    this.index();
    this.consumeFeed();
    const watchStart = s.clock.now();
    const signal = s.signal;
    const onAbort = () => s.wake();
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      for (;;) {
        if (signal?.aborted) {
          await this.canceller.abortAll();
          return { cancelled: true, detached: false, fatal: null };
        }
        if (s.fatal) {
          await s.drainTasks();
          this.failUnstarted(explainServiceError(s.fatal));
          return { cancelled: false, detached: false, fatal: s.fatal };
        }
        const now = s.clock.now();
        checkCanary(s);
        this.deadlines.check(now);
        this.busy.wake(now);
        this.submitter.submitWhatWeCan();
        this.poller.maybeStart();
        this.collector.start();
        this.progress.emit(false);
        if (s.allDone() && !s.busyWithTasks) break;
        if (this.mayDetach(watchStart)) {
          await s.drainTasks();
          return { cancelled: false, detached: true, fatal: null };
        }
        await s.sleepUntil(this.nextWakeAt(watchStart));
      }
      await s.drainTasks();
      this.progress.emit(true);
      return { cancelled: false, detached: false, fatal: null };
    } finally {
      signal?.removeEventListener("abort", onAbort);
    }
  }

  /** Cancel this run's unfinished actions (only those: they are known by id from the journal). */
  async abortAll(): Promise<void> {
    this.index();
    await this.canceller.abortAll();
  }

  /** Planning still running: its batches join the run as a background task (the loop ends after it). */
  private consumeFeed(): void {
    const feed = this.o.feed;
    if (!feed) return;
    this.s.spawn(async () => {
      for await (const devices of feed) {
        if (devices.length > 0) this.s.addDevices(devices);
      }
    });
  }

  private index(): void {
    if (this.indexed) return;
    this.indexed = true;
    this.s.index((i) => this.s.spawn(() => this.submitter.resolve(i, false)));
  }

  /** Detach at a clean point: no submission with an unknown outcome, no download in progress. */
  private mayDetach(watchStart: number): boolean {
    const s = this.s;
    return (
      this.o.detachAfterMs !== undefined &&
      s.clock.now() - watchStart >= this.o.detachAfterMs &&
      s.submitting.size === 0 &&
      this.collector.idle
    );
  }

  private nextWakeAt(watchStart: number): number {
    const now = this.s.clock.now();
    let at = Math.min(
      now + MINUTE,
      this.poller.nextAt(now),
      this.submitter.nextSubmitAt(now),
      this.busy.nextAt(now),
      this.deadlines.nextAt(),
    );
    if (this.o.detachAfterMs !== undefined)
      at = Math.min(at, Math.max(now, watchStart + this.o.detachAfterMs));
    return at;
  }

  /** After a fatal error: devices with nothing in flight fail with its explanation; in-flight ones stay pending. */
  private failUnstarted(error: ReportError): void {
    const s = this.s;
    for (let i = 0; i < s.records.length; i++) {
      const r = s.records[i]!;
      if (r.phase === "queued" || r.phase === "held" || r.phase === "busy") s.finish(i, "failed", error);
    }
  }
}
