import { describe, expect, it } from "vitest";
import { parseRetryAfter, RetryPolicy } from "../../shared/http/backoff.js";
import { QuotaLimiter, SlidingWindowLimiter } from "../../shared/http/limiter.js";
import { VirtualClock } from "./virtual-clock.js";

describe("SlidingWindowLimiter", () => {
  it("admits the limit per window, then waits until the oldest call ages out", async () => {
    const clock = new VirtualClock();
    const start = clock.now();
    const limiter = new SlidingWindowLimiter(clock, [{ limit: 10, spanMs: 60_000 }]);
    const admitted: number[] = [];
    for (let i = 0; i < 25; i++) {
      await limiter.acquire();
      admitted.push(clock.now() - start);
    }
    expect(admitted.slice(0, 10).every((t) => t === 0)).toBe(true);
    expect(admitted[10]).toBe(60_000);
    expect(admitted[20]).toBe(120_000);
    // Never more than 10 in any 60 s window.
    for (let i = 10; i < admitted.length; i++)
      expect((admitted[i] as number) - (admitted[i - 10] as number)).toBeGreaterThanOrEqual(60_000);
  });

  it("enforces the hourly budget on top of the per-minute one", async () => {
    const clock = new VirtualClock();
    const start = clock.now();
    const q = new QuotaLimiter(clock, { callsPerMinute: 100, callsPerHour: 150 });
    const waits: number[] = [];
    for (let i = 0; i < 151; i++) await q.acquire("general", undefined, (ms) => waits.push(ms));
    // 100 now, 50 after a minute, the 151st only after the hour.
    expect(clock.now() - start).toBe(3_600_000);
    expect(waits.length).toBeGreaterThan(0);
    expect(q.delayMs("submit")).toBe(0);
  });

  it("keeps quotas separate and concurrent callers within the limit", async () => {
    const clock = new VirtualClock();
    const start = clock.now();
    const q = new QuotaLimiter(clock, { submitPerMinute: 3 });
    const times: number[] = [];
    await Promise.all(
      Array.from({ length: 7 }, () => q.acquire("submit").then(() => times.push(clock.now() - start))),
    );
    times.sort((a, b) => a - b);
    expect(times.filter((t) => t < 60_000)).toHaveLength(3);
    expect(times.filter((t) => t >= 60_000 && t < 120_000)).toHaveLength(3);
    await q.acquire("general");
  });

  it("stops waiting when aborted", async () => {
    const clock = new VirtualClock();
    const limiter = new SlidingWindowLimiter(clock, [{ limit: 1, spanMs: 60_000 }]);
    await limiter.acquire();
    const ac = new AbortController();
    ac.abort(new Error("stop"));
    await expect(limiter.acquire(ac.signal)).rejects.toThrow("stop");
  });
});

describe("RetryPolicy", () => {
  it("backs off exponentially with full jitter, bounded", () => {
    const max = new RetryPolicy({ baseDelayMs: 1000, maxDelayMs: 8000 }, () => 0.999999);
    expect([1, 2, 3, 4, 5, 6].map((a) => max.backoffMs(a))).toEqual([999, 1999, 3999, 7999, 7999, 7999]);
    const min = new RetryPolicy({}, () => 0);
    expect(min.backoffMs(5)).toBe(0);
    const p = new RetryPolicy({ maxAttempts: 3 });
    expect([1, 2, 3].map((a) => p.canRetry(a))).toEqual([true, true, false]);
    expect(p.rateLimitDelayMs(1, 7000)).toBe(7000);
    expect(() => new RetryPolicy({ maxAttempts: 0 })).toThrow(RangeError);
  });

  it("parses Retry-After seconds and HTTP dates", () => {
    expect(parseRetryAfter("12", 0)).toBe(12_000);
    expect(parseRetryAfter(undefined, 0)).toBeUndefined();
    expect(parseRetryAfter("soon", 0)).toBeUndefined();
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(parseRetryAfter("Thu, 01 Jan 2026 00:00:30 GMT", now)).toBe(30_000);
    expect(parseRetryAfter(["5"], 0)).toBe(5000);
  });
});
