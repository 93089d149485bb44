/**
 * The client's one quota account: every MDE API call of a client takes a slot here before it leaves
 * (transport.ts), and a run's scheduler plans with the same windows (when to submit, how often to poll).
 * Configured once per run from the runbook's limits (`configure`); the client's own limits apply only
 * when nothing else is said.
 */
import type { Clock } from "../clock.js";
import { DEFAULT_LIMITS, type Limits, resolveLimits } from "../config/limits.js";
import { type Priority, SlidingWindowBudget, type WindowLimit } from "./sliding-window.js";

export type QuotaClass = "submit" | "general";

/** A slot taken ahead of a call (the scheduler takes submit slots itself, before journaling). */
export interface QuotaSlot {
  release(): void;
}

const MINUTE = 60_000;
const HOUR = 3_600_000;

export class QuotaAccount {
  /** `runliveresponse`: `submitPerMinute`. */
  readonly submit: SlidingWindowBudget;
  /** Every other MDE endpoint: `callsPerMinute` and `callsPerHour` (downloads go to storage, not MDE). */
  readonly calls: SlidingWindowBudget;
  /** What the client was created with (the documented quotas unless it was told otherwise). */
  private readonly base: Limits;
  private current: Limits;

  constructor(
    private readonly clock: Clock,
    limits: Partial<Limits> = {},
  ) {
    this.base = resolveLimits(limits, DEFAULT_LIMITS);
    this.current = this.base;
    this.submit = new SlidingWindowBudget(clock, submitWindows(this.current));
    this.calls = new SlidingWindowBudget(clock, callWindows(this.current));
  }

  get limits(): Readonly<Limits> {
    return this.current;
  }

  /** The limits `configure(stated)` would set: the stated ones over the client's own. */
  resolve(stated: Partial<Limits>): Limits {
    return resolveLimits(stated, this.base);
  }

  /**
   * Set the limits for a run: the stated ones, up or down, over the client's own (never over an earlier
   * run's). Calls already made keep counting in their windows.
   */
  configure(stated: Partial<Limits>): Readonly<Limits> {
    this.current = this.resolve(stated);
    this.submit.setLimits(submitWindows(this.current));
    this.calls.setLimits(callWindows(this.current));
    return this.current;
  }

  /** Wait for a slot of this class, take it, and return it (release when the call has ended). */
  async acquire(
    quota: QuotaClass,
    priority: Priority,
    signal?: AbortSignal,
    onWait?: (untilMs: number) => void,
  ): Promise<QuotaSlot> {
    const release = await (quota === "submit" ? this.submit : this.calls).acquire(priority, signal, onWait);
    return { release };
  }

  /** Service ms until a call of this class could start (0 = now). */
  delayMs(quota: QuotaClass, priority: Priority = "high"): number {
    const now = this.clock.now();
    return (quota === "submit" ? this.submit : this.calls).nextAllowedAt(priority, now) - now;
  }
}

function submitWindows(l: Limits): WindowLimit[] {
  return [{ limit: l.submitPerMinute, windowMs: MINUTE }];
}

/**
 * Low-priority calls (result links, machines, library) leave a few calls of each window to polls and
 * cancels: 10 % of a minute, 2 % of an hour (the link-bound poll cadence, scheduler/poll-interval.ts).
 */
function callWindows(l: Limits): WindowLimit[] {
  return [
    { limit: l.callsPerMinute, windowMs: MINUTE, lowReserve: Math.ceil(l.callsPerMinute * 0.1) },
    { limit: l.callsPerHour, windowMs: HOUR, lowReserve: Math.ceil(l.callsPerHour * 0.02) },
  ];
}

export { DEFAULT_LIMITS, type Limits } from "../config/limits.js";
export type { Priority } from "./sliding-window.js";
