/**
 * The service's quotas as the client enforces them (mde-api.md §3.2). Tenants do get other quotas and the
 * documentation revisions disagree, so every number here is only a default: a runbook's `options.limits`
 * (or a front end's override) replaces it, up or down, for the whole run.
 */

export interface Limits {
  /** `runliveresponse` calls per minute (documented 10). */
  submitPerMinute: number;
  /** Other API calls per minute (documented 100). */
  callsPerMinute: number;
  /** Other API calls per hour (documented 1,500). */
  callsPerHour: number;
}

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  submitPerMinute: 10,
  callsPerMinute: 100,
  callsPerHour: 1500,
});

/**
 * Stated limits over a base (the client's current limits, by default the documented ones). A value that
 * was not stated adapts to the stated ones, so only numbers a user wrote can contradict each other: a
 * stated 2,000/min lifts the unstated hourly default to at least 2,000/h, a stated 50/h lowers the unstated
 * per-minute default to 50.
 */
export function resolveLimits(stated: Partial<Limits>, base: Readonly<Limits> = DEFAULT_LIMITS): Limits {
  const out: Limits = { ...base, ...stated };
  if (stated.callsPerMinute !== undefined && stated.callsPerHour === undefined)
    out.callsPerHour = Math.max(out.callsPerHour, out.callsPerMinute);
  if (stated.callsPerHour !== undefined && stated.callsPerMinute === undefined)
    out.callsPerMinute = Math.min(out.callsPerMinute, out.callsPerHour);
  return out;
}
