import { describe, expect, it } from "vitest";
import { lowerBound, MDE_QUOTAS, type QuotaModel, simulateOracle } from "../../bench/harness/lower-bound.js";

const MIN = 60_000;
const HOUR = 3_600_000;
const fixed = (n: number, d: number) => Array.from({ length: n }, () => d);

describe("lowerBound (closed form, the issue's T*)", () => {
  it("is submission-bound for 100 devices, 4-minute sessions, one result each", () => {
    const b = lowerBound({ sessionMs: fixed(100, 4 * MIN), resultSteps: 1 });
    expect(b.binding).toBe("submissions");
    expect(b.terms).toEqual({
      submissionsMs: 10 * MIN,
      sessionsMs: 8 * MIN,
      callsMs: 4 * MIN,
      firstSessionMs: 4 * MIN,
    });
    expect(b.closedFormMs).toBe(14 * MIN);
  });

  it("is session-bound when sessions are long, using the sum of the lengths", () => {
    const b = lowerBound({ sessionMs: [...fixed(50, 10 * MIN), ...fixed(50, 30 * MIN)], resultSteps: 1 });
    expect(b.binding).toBe("sessions");
    expect(b.terms.sessionsMs).toBe(40 * MIN);
    expect(b.closedFormMs).toBe(50 * MIN); // + the shortest session
  });

  it("is call-bound for 5,000 devices with three results each", () => {
    const b = lowerBound({ sessionMs: fixed(5000, MIN), resultSteps: 3, fixedCalls: 2 });
    expect(b.binding).toBe("calls");
    expect(b.terms.callsMs).toBeCloseTo((15_002 / 1500) * HOUR, 6);
  });

  it("rejects an empty fleet", () => {
    expect(() => lowerBound({ sessionMs: [], resultSteps: 1 })).toThrow(RangeError);
  });
});

describe("simulateOracle (best schedule under the exact quota windows)", () => {
  it("submits ten per rolling minute and ends with the last batch's session", () => {
    // Batches at 0, 1, ..., 9 min; the last ends at 13 min; ten link calls per minute never wait.
    expect(simulateOracle({ sessionMs: fixed(100, 4 * MIN), resultSteps: 1 })).toBe(13 * MIN);
  });

  it("holds submissions at the session cap until the earliest session ends", () => {
    const q: QuotaModel = { ...MDE_QUOTAS, concurrentSessions: 2 };
    expect(simulateOracle({ sessionMs: fixed(10, 10 * MIN), resultSteps: 0 }, q)).toBe(50 * MIN);
  });

  it.each(["sliding", "fixed"] as const)(
    "spends the hour's 1,500 calls early, then waits (%s windows)",
    (windows) => {
      const q: QuotaModel = { ...MDE_QUOTAS, submitPerMinute: 1e9, concurrentSessions: 1e9, windows };
      // 100 calls per minute: the 1,500th at 14 min; the 1,501st when the hour frees up; the 3,000th 14 min later.
      expect(simulateOracle({ sessionMs: fixed(3000, 0), resultSteps: 1 }, q)).toBe(HOUR + 14 * MIN);
    },
  );

  it("beats the closed form's hourly term for runs of about an hour (sliding windows)", () => {
    const b = lowerBound({ sessionMs: fixed(1000, 4 * MIN), resultSteps: 3 });
    expect(b.binding).toBe("calls");
    expect(b.closedFormMs).toBe(124 * MIN);
    // 30 link calls a minute from minute 4: the hour's 1,500 are spent by minute 53; each later call
    // waits for the one 1,500 places back to leave the rolling hour, so the 3,000th goes at 53 + 60.
    expect(b.simulatedMs).toBe(113 * MIN);
  });

  it("counts the run's fixed calls against the same windows", () => {
    const q: QuotaModel = { ...MDE_QUOTAS, submitPerMinute: 1e9, concurrentSessions: 1e9 };
    expect(simulateOracle({ sessionMs: fixed(100, 0), resultSteps: 1, fixedCalls: 100 }, q)).toBe(MIN);
  });
});
