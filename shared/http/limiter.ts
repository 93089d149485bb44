/**
 * Client-side quotas (mde-api.md §3.2), enforced before a request leaves, on the injected Clock so a
 * scaled benchmark clock compresses the waits too. Sliding windows: a call is admitted when every window
 * has room; otherwise the caller sleeps until the oldest call in the full window ages out.
 */
import type { Clock } from "../clock.js";

export interface Limits {
  /** `runliveresponse` calls per minute (documented 10). */
  submitPerMinute: number;
  /** Other API calls per minute (documented 100). */
  callsPerMinute: number;
  /** Other API calls per hour (documented 1,500). */
  callsPerHour: number;
}

export const DEFAULT_LIMITS: Readonly<Limits> = {
  submitPerMinute: 10,
  callsPerMinute: 100,
  callsPerHour: 1500,
};

export type QuotaClass = "submit" | "general";

interface Window {
  limit: number;
  spanMs: number;
  stamps: number[];
}

export class SlidingWindowLimiter {
  private readonly windows: Window[];

  constructor(
    private readonly clock: Clock,
    windows: { limit: number; spanMs: number }[],
  ) {
    for (const w of windows) {
      if (!(w.limit >= 1) || !Number.isFinite(w.limit))
        throw new RangeError(`limit must be ≥ 1, got ${w.limit}`);
    }
    this.windows = windows.map((w) => ({ limit: Math.floor(w.limit), spanMs: w.spanMs, stamps: [] }));
  }

  /** Service ms to wait before a call would be admitted (0 = now). */
  delayMs(): number {
    const now = this.clock.now();
    let wait = 0;
    for (const w of this.windows) {
      while (w.stamps.length > 0 && (w.stamps[0] as number) <= now - w.spanMs) w.stamps.shift();
      if (w.stamps.length >= w.limit) {
        const oldest = w.stamps[w.stamps.length - w.limit] as number;
        wait = Math.max(wait, oldest + w.spanMs - now);
      }
    }
    return wait;
  }

  /** Admits one call, sleeping as needed; `onWait` hears each wait before it starts. */
  async acquire(signal?: AbortSignal, onWait?: (ms: number) => void): Promise<void> {
    for (;;) {
      signal?.throwIfAborted();
      const wait = this.delayMs();
      if (wait <= 0) {
        const now = this.clock.now();
        for (const w of this.windows) w.stamps.push(now);
        return;
      }
      onWait?.(wait);
      // Re-check after waking: other callers may have taken the slot meanwhile.
      await this.clock.sleep(wait, signal);
    }
  }
}

/** One limiter per quota class, built from `limits`. */
export class QuotaLimiter {
  private readonly submit: SlidingWindowLimiter;
  private readonly general: SlidingWindowLimiter;

  constructor(clock: Clock, limits: Partial<Limits> = {}) {
    const l = { ...DEFAULT_LIMITS, ...limits };
    this.submit = new SlidingWindowLimiter(clock, [{ limit: l.submitPerMinute, spanMs: 60_000 }]);
    this.general = new SlidingWindowLimiter(clock, [
      { limit: l.callsPerMinute, spanMs: 60_000 },
      { limit: l.callsPerHour, spanMs: 3_600_000 },
    ]);
  }

  acquire(quota: QuotaClass, signal?: AbortSignal, onWait?: (ms: number) => void): Promise<void> {
    return (quota === "submit" ? this.submit : this.general).acquire(signal, onWait);
  }

  delayMs(quota: QuotaClass): number {
    return (quota === "submit" ? this.submit : this.general).delayMs();
  }
}
