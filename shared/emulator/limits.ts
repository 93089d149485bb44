/**
 * Call quotas (mde-api.md §3.2, §7.18) per application, on the emulator clock. Sliding windows: a call
 * is refused while the window already holds `limit` accepted calls, and `Retry-After` is the time until
 * the oldest of them leaves the window, so calls made before it elapses keep getting 429. Refused
 * calls do not consume quota (the docs do not say; this is the lenient reading).
 */
export class SlidingWindow {
  private readonly stamps: number[] = [];
  private head = 0;

  constructor(
    public limit: number,
    public readonly windowMs: number,
  ) {}

  /** Service ms to wait before a call would be accepted; 0 = accepted now. */
  waitMs(now: number): number {
    if (this.unlimited()) return 0;
    while (this.head < this.stamps.length && (this.stamps[this.head] ?? 0) <= now - this.windowMs)
      this.head++;
    if (this.head > 1024 && this.head * 2 > this.stamps.length) {
      this.stamps.splice(0, this.head);
      this.head = 0;
    }
    if (this.stamps.length - this.head < this.limit) return 0;
    const oldest = this.stamps[this.stamps.length - this.limit] ?? now;
    return Math.max(1, oldest + this.windowMs - now);
  }

  take(now: number): void {
    if (!this.unlimited()) this.stamps.push(now);
  }

  /** Benchmarks lift quotas to huge numbers: keep no per-call stamps then. */
  private unlimited(): boolean {
    return !Number.isFinite(this.limit) || this.limit >= 1e9;
  }
}

export interface QuotaLimits {
  submitPerMinute: number;
  callsPerMinute: number;
  callsPerHour: number;
}

export class RateLimiter {
  private readonly perApp = new Map<
    string,
    { submit: SlidingWindow; minute: SlidingWindow; hour: SlidingWindow }
  >();

  constructor(private limits: QuotaLimits) {}

  update(limits: QuotaLimits): void {
    this.limits = limits;
    for (const w of this.perApp.values()) {
      w.submit.limit = limits.submitPerMinute;
      w.minute.limit = limits.callsPerMinute;
      w.hour.limit = limits.callsPerHour;
    }
  }

  /** Accepts (and counts) the call, or returns the service ms the caller must wait. */
  check(appId: string, isSubmit: boolean, now: number): number {
    let w = this.perApp.get(appId);
    if (!w) {
      w = {
        submit: new SlidingWindow(this.limits.submitPerMinute, 60_000),
        minute: new SlidingWindow(this.limits.callsPerMinute, 60_000),
        hour: new SlidingWindow(this.limits.callsPerHour, 3_600_000),
      };
      this.perApp.set(appId, w);
    }
    const windows = isSubmit ? [w.submit] : [w.minute, w.hour];
    let wait = 0;
    for (const window of windows) wait = Math.max(wait, window.waitMs(now));
    if (wait > 0) return wait;
    for (const window of windows) window.take(now);
    return 0;
  }
}
