/**
 * Sliding-window call budgets, driven by the injectable Clock: the one implementation behind every quota
 * the client keeps (quota.ts). The HTTP layer takes a slot for every request it sends; the scheduler
 * reads the same windows to *plan* inside them (poll cadence, when to journal a submission's intent).
 *
 * A call is counted from the moment it starts until it ends (it holds a slot while in flight) and then at
 * its end time: the service counts a call when it arrives, which is never later than when we see the
 * answer, so spacing by end times keeps every service-side window within the limit.
 */
import type { Clock } from "../clock.js";

export interface WindowLimit {
  limit: number;
  windowMs: number;
  /**
   * Calls of this window low-priority callers leave to high-priority ones (polls and cancels must not
   * starve behind a burst of result links). Small and absolute: on a link-bound run every call the
   * links cannot use stretches the run.
   */
  lowReserve?: number;
}

export type Priority = "high" | "low";

export class SlidingWindowBudget {
  /** End times of finished calls, ascending, pruned past the longest window. */
  private readonly log: number[] = [];
  private head = 0;
  private inFlight = 0;
  private limits: WindowLimit[] = [];
  private longest = 0;

  /** @param limits every window that applies (e.g. 100/min and 1,500/h). */
  constructor(
    private readonly clock: Clock,
    limits: WindowLimit[],
  ) {
    this.setLimits(limits);
  }

  /**
   * New limits for the same windows of calls: calls already made keep counting (a run that raises or
   * lowers its quotas after planning must not forget what planning spent).
   */
  setLimits(limits: WindowLimit[]): void {
    for (const l of limits) {
      if (!Number.isFinite(l.limit) || l.limit < 1) throw new RangeError(`limit must be ≥ 1, got ${l.limit}`);
    }
    this.limits = limits.map((l) => ({ ...l, limit: Math.floor(l.limit) }));
    this.longest = Math.max(...this.limits.map((l) => l.windowMs));
  }

  /** Calls counted in the trailing `windowMs` (finished in it, or still in flight). */
  used(windowMs: number, now = this.clock.now()): number {
    this.prune(now);
    let n = 0;
    for (let i = this.log.length - 1; i >= this.head; i--) {
      if (this.log[i]! > now - windowMs) n++;
      else break;
    }
    return n + this.inFlight;
  }

  /** Earliest service time a call of this priority may start (now when it may start now). */
  nextAllowedAt(priority: Priority = "high", now = this.clock.now()): number {
    this.prune(now);
    let at = now;
    for (const { limit, windowMs, lowReserve = 0 } of this.limits) {
      const cap = priority === "low" ? Math.max(1, limit - lowReserve) : limit;
      const used = this.used(windowMs, now);
      if (used < cap) continue;
      // Need (used - cap + 1) finished entries to leave the window; in-flight calls cannot.
      const finished = this.log.length - this.head;
      const mustExpire = used - cap + 1;
      if (mustExpire > finished) {
        at = Math.max(at, now + 50);
        continue;
      }
      const inWindow = used - this.inFlight;
      const idx = this.log.length - inWindow + (mustExpire - 1);
      at = Math.max(at, this.log[idx]! + windowMs + 1);
    }
    return at;
  }

  /**
   * How many calls of this priority could start at `at` (now or later) if nothing else starts before:
   * lets a caller prepare work (journal an intent) just ahead of the slot it will get.
   */
  freeSlots(priority: Priority = "high", at = this.clock.now()): number {
    this.prune(Math.min(at, this.clock.now()));
    let free = Number.POSITIVE_INFINITY;
    for (const { limit, windowMs, lowReserve = 0 } of this.limits) {
      const cap = priority === "low" ? Math.max(1, limit - lowReserve) : limit;
      let used = this.inFlight;
      for (let i = this.log.length - 1; i >= this.head && this.log[i]! > at - windowMs; i--) used++;
      free = Math.min(free, cap - used);
    }
    return Math.max(0, free);
  }

  /** Take a slot now if one is free (synchronously), else null. */
  tryAcquire(priority: Priority = "high"): (() => void) | null {
    const now = this.clock.now();
    if (this.nextAllowedAt(priority, now) > now) return null;
    return this.take();
  }

  /** Wait for a slot, take it, and return the function that records the call's end. */
  async acquire(
    priority: Priority,
    signal?: AbortSignal,
    onWait?: (untilMs: number) => void,
  ): Promise<() => void> {
    for (;;) {
      const now = this.clock.now();
      const at = this.nextAllowedAt(priority, now);
      if (at <= now) break;
      onWait?.(at);
      await this.clock.sleep(at - now, signal);
    }
    return this.take();
  }

  private take(): () => void {
    this.inFlight++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inFlight--;
      this.log.push(this.clock.now());
    };
  }

  private prune(now: number): void {
    while (this.head < this.log.length && this.log[this.head]! <= now - this.longest) this.head++;
    if (this.head > 1024 && this.head * 2 > this.log.length) {
      this.log.splice(0, this.head);
      this.head = 0;
    }
  }
}
