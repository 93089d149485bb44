/** The scheduler's own quota accounting and poll cadence (shared/scheduler), on a manual clock. */
import { describe, expect, it } from "vitest";
import type { Clock } from "../../shared/clock.js";
import { SlidingWindowBudget } from "../../shared/http/sliding-window.js";
import { pollIntervalMs } from "../../shared/scheduler/poll-interval.js";

/** A clock whose sleeps advance time instantly (single caller). */
function manualClock(): Clock & { t: number } {
  const c = {
    t: 1_000_000,
    now: () => c.t,
    sleep: async (ms: number) => {
      c.t += ms;
    },
  };
  return c;
}

describe("SlidingWindowBudget", () => {
  it("admits 10 per rolling minute, never 11 in any 60 s window", async () => {
    const clock = manualClock();
    const b = new SlidingWindowBudget(clock, [{ limit: 10, windowMs: 60_000 }]);
    const starts: number[] = [];
    for (let i = 0; i < 35; i++) {
      const release = await b.acquire("high");
      starts.push(clock.now());
      clock.t += 100; // the call takes 100 ms
      release();
    }
    for (const t of starts) {
      expect(starts.filter((s) => s >= t && s < t + 60_000).length).toBeLessThanOrEqual(10);
    }
    // A burst of 10, then the next 10 a minute after the first burst's answers.
    expect(starts[9]! - starts[0]!).toBeLessThan(2_000);
    expect(starts[10]! - starts[0]!).toBeGreaterThanOrEqual(60_000);
    expect(starts[34]! - starts[0]!).toBeLessThan(3 * 60_000 + 5_000);
  });

  it("keeps a reserve of each window for high-priority calls", async () => {
    const clock = manualClock();
    const b = new SlidingWindowBudget(clock, [{ limit: 100, windowMs: 60_000, lowReserve: 15 }]);
    for (let i = 0; i < 85; i++) (await b.acquire("low"))();
    expect(b.nextAllowedAt("low")).toBeGreaterThan(clock.now());
    expect(b.nextAllowedAt("high")).toBe(clock.now());
    expect(b.used(60_000)).toBe(85);
  });

  it("counts in-flight calls against the window", async () => {
    const clock = manualClock();
    const b = new SlidingWindowBudget(clock, [{ limit: 2, windowMs: 60_000 }]);
    await b.acquire("high");
    await b.acquire("high");
    expect(b.used(60_000)).toBe(2);
    expect(b.nextAllowedAt("high")).toBeGreaterThan(clock.now());
  });
});

describe("pollIntervalMs", () => {
  const base = {
    floorMs: 10_000,
    ceilingMs: 60_000,
    callsPerMinute: 100,
    callsPerHour: 1500,
    usedLastHour: 0,
    callsStillNeeded: 400,
    remainingMs: 20 * 60_000,
  };

  it("polls at the floor when the budget is ample (200 devices, 2 results each)", () => {
    expect(pollIntervalMs(base)).toBe(10_000);
  });

  it("slows down when result links will need most of the hourly budget (4,000 devices × 3 results)", () => {
    const ms = pollIntervalMs({ ...base, callsStillNeeded: 12_000, remainingMs: 10 * 3_600_000 });
    expect(ms).toBeGreaterThan(10_000);
    // Polls + links over the remaining time stay inside 1,500/h.
    const polls = (10 * 3_600_000) / ms;
    expect((polls + 12_000) / 10).toBeLessThanOrEqual(1500);
  });

  it("polls at most 30 times an hour (2 % of the budget) when links alone need it all", () => {
    expect(pollIntervalMs({ ...base, callsStillNeeded: 15_000, remainingMs: 10 * 3_600_000 })).toBe(120_000);
    expect(pollIntervalMs({ ...base, callsStillNeeded: 5_000, usedLastHour: 1400 })).toBe(120_000);
  });

  it("never polls faster than a quarter of the per-minute budget", () => {
    expect(pollIntervalMs({ ...base, floorMs: 100 })).toBeGreaterThanOrEqual(2_400);
  });
});
