import { describe, expect, it } from "vitest";
import { parseRetryAfter, RetryPolicy } from "../../shared/http/backoff.js";
import { QuotaAccount } from "../../shared/http/quota.js";
import { VirtualClock } from "./virtual-clock.js";

/** A call that takes a slot and ends at once (the account counts a call at its end). */
async function call(q: QuotaAccount, cls: "submit" | "general", onWait?: (until: number) => void) {
  (await q.acquire(cls, "high", undefined, onWait)).release();
}

describe("QuotaAccount", () => {
  it("admits the limit per window, then waits until the oldest call ages out", async () => {
    const clock = new VirtualClock();
    const start = clock.now();
    const q = new QuotaAccount(clock, { submitPerMinute: 10 });
    const admitted: number[] = [];
    for (let i = 0; i < 25; i++) {
      await call(q, "submit");
      admitted.push(clock.now() - start);
    }
    expect(admitted.slice(0, 10).every((t) => t === 0)).toBe(true);
    expect(admitted[10]).toBeGreaterThanOrEqual(60_000);
    expect(admitted[10]).toBeLessThan(60_100);
    // Never more than 10 in any 60 s window.
    for (let i = 10; i < admitted.length; i++)
      expect((admitted[i] as number) - (admitted[i - 10] as number)).toBeGreaterThan(60_000);
  });

  it("enforces the hourly budget on top of the per-minute one", async () => {
    const clock = new VirtualClock();
    const start = clock.now();
    const q = new QuotaAccount(clock, { callsPerMinute: 100, callsPerHour: 150 });
    const waits: number[] = [];
    for (let i = 0; i < 151; i++) await call(q, "general", (until) => waits.push(until));
    // 100 now, 50 after a minute, the 151st only after the hour.
    expect(clock.now() - start).toBeGreaterThan(3_600_000);
    expect(clock.now() - start).toBeLessThan(3_600_100);
    expect(waits.length).toBeGreaterThan(0);
    expect(q.delayMs("submit")).toBe(0);
  });

  it("keeps quotas separate and concurrent callers within the limit", async () => {
    const clock = new VirtualClock();
    const start = clock.now();
    const q = new QuotaAccount(clock, { submitPerMinute: 3 });
    const times: number[] = [];
    await Promise.all(
      Array.from({ length: 7 }, () => call(q, "submit").then(() => times.push(clock.now() - start))),
    );
    times.sort((a, b) => a - b);
    expect(times.filter((t) => t < 60_000)).toHaveLength(3);
    expect(times.filter((t) => t >= 60_000 && t < 120_000)).toHaveLength(3);
    await call(q, "general");
  });

  it("raises and lowers its limits per run, over the client's own, keeping the calls already made", async () => {
    const clock = new VirtualClock();
    const q = new QuotaAccount(clock, { submitPerMinute: 5 });
    for (let i = 0; i < 5; i++) await call(q, "submit");
    // A run stating 300/min may go on at once; the 5 calls already made still count.
    expect(q.configure({ submitPerMinute: 300 }).submitPerMinute).toBe(300);
    expect(q.delayMs("submit")).toBe(0);
    expect(q.submit.used(60_000)).toBe(5);
    // Lowered below what was spent in the window: the next call waits for the window to move.
    q.configure({ submitPerMinute: 2 });
    expect(q.delayMs("submit")).toBeGreaterThan(59_000);
    // A later run that states nothing gets the client's own limits back, not the last run's.
    expect(q.configure({}).submitPerMinute).toBe(5);
    expect(q.configure({}).callsPerHour).toBe(1500);
  });

  it("lets unstated limits adapt to stated ones instead of contradicting them", () => {
    const q = new QuotaAccount(new VirtualClock());
    expect(q.resolve({ callsPerMinute: 2000 })).toEqual({
      submitPerMinute: 10,
      callsPerMinute: 2000,
      callsPerHour: 2000,
    });
    expect(q.resolve({ callsPerHour: 50 })).toEqual({
      submitPerMinute: 10,
      callsPerMinute: 50,
      callsPerHour: 50,
    });
    expect(q.resolve({ callsPerMinute: 1000, callsPerHour: 60000 })).toEqual({
      submitPerMinute: 10,
      callsPerMinute: 1000,
      callsPerHour: 60000,
    });
  });

  it("stops waiting when aborted", async () => {
    const clock = new VirtualClock();
    const q = new QuotaAccount(clock, { submitPerMinute: 1 });
    await call(q, "submit");
    const ac = new AbortController();
    ac.abort(new Error("stop"));
    await expect(q.acquire("submit", "high", ac.signal)).rejects.toThrow("stop");
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
