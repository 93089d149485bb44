/**
 * How often to poll a run's in-flight actions. One poll is one list call for the whole run, so its cost
 * does not grow with the fleet; what competes with it for the 100/min + 1,500/h budget is the result
 * links (k per device), which dominate the hourly budget on big runs. The rule: first reserve what the
 * links still to come will need over the run's remaining time, then spread what is left over polls,
 * never faster than the floor (the runbook's pollIntervalMs) nor slower than the ceiling.
 */

export interface PollBudgetInput {
  /** Runbook's pollIntervalMs: the fastest we ever poll. */
  floorMs: number;
  /** Slowest we ever poll while actions are in flight (detection latency costs wall time). */
  ceilingMs: number;
  callsPerMinute: number;
  callsPerHour: number;
  /** Calls counted by the budget in the trailing hour. */
  usedLastHour: number;
  /** Result links (and other non-poll calls) the rest of the run still needs. */
  callsStillNeeded: number;
  /** Estimated service time the run still needs. */
  remainingMs: number;
}

const MINUTE = 60_000;
const HOUR = 3_600_000;
/** Share of the per-minute budget polls may take, so links keep flowing. */
const POLL_MINUTE_SHARE = 0.25;
/** Keep a margin under the hourly quota for calls we do not plan (retries, cancels, lookups). */
const HOURLY_SAFETY = 0.92;
/** Poll cadence when links need the whole hourly budget: 30 polls/h, 2 % of it. */
const LINK_BOUND_INTERVAL_MS = 2 * MINUTE;

export function pollIntervalMs(input: PollBudgetInput): number {
  const floor = Math.max(input.floorMs, MINUTE / Math.max(1, input.callsPerMinute * POLL_MINUTE_SHARE));
  const remaining = Math.max(input.remainingMs, floor);
  const hourly = input.callsPerHour * HOURLY_SAFETY;
  // Steady state: the hourly quota refills at `hourly` per hour.
  const byRate = (hourly * remaining) / HOUR - input.callsStillNeeded;
  // A short run may also spend what is left of the current hour at once (nothing is assumed to roll off).
  const byBurst =
    remaining <= HOUR ? hourly - input.usedLastHour - input.callsStillNeeded : Number.NEGATIVE_INFINITY;
  const polls = Math.max(byRate, byBurst);
  // Links alone need the whole budget (a link-bound run): poll rarely; a backlog of finished actions
  // keeps the links busy anyway, and each poll taken from them would stretch the run.
  if (!(polls > 0)) return Math.max(floor, input.ceilingMs, LINK_BOUND_INTERVAL_MS);
  return Math.min(Math.max(floor, remaining / polls), Math.max(floor, input.ceilingMs));
}
