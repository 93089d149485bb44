/**
 * Polling: one list call for all of the run's in-flight actions (`type eq 'LiveResponse' and
 * creationDateTimeUtc ge <oldest in flight>`), never one call per action; per-id GET only for a handful
 * the list missed. The cadence adapts (poll-interval.ts) so polls plus result links stay inside the
 * per-minute and per-hour call quotas.
 */
import type { MachineAction } from "../api/types.js";
import { MdeApiError, RateLimitError } from "../errors.js";
import { odataTimestamp } from "../state/tag.js";
import { CLOCK_SKEW_MS } from "./intent.js";
import { pollIntervalMs } from "./poll-interval.js";
import { errorText, type FleetState, MINUTE } from "./state.js";
import type { StatusTracker } from "./status.js";
import { DEFAULT_RETRY_AFTER_MS } from "./submit.js";

/** At most this many in-flight actions are fetched one by one when a list poll misses them. */
const MAX_SINGLE_GETS = 5;

export class Poller {
  private lastPollAt = Number.NEGATIVE_INFINITY;
  /** Start of the last poll that got an answer. */
  lastOkAt = Number.NEGATIVE_INFINITY;
  private backoffUntil = 0;
  private widen = false;
  private running = false;

  constructor(
    private readonly s: FleetState,
    private readonly status: StatusTracker,
  ) {}

  /** Start a poll when one is due. Not awaited: a slow list call must not hold back the next submission slot. */
  maybeStart(): void {
    if (this.running || !this.due(this.s.clock.now())) return;
    this.running = true;
    this.s.spawn(async () => {
      try {
        await this.poll();
      } finally {
        this.running = false;
      }
    });
  }

  /** When the next poll is due (+∞ with nothing in flight). */
  nextAt(now: number): number {
    if (this.s.inflight.size === 0) return Number.POSITIVE_INFINITY;
    return Math.max(this.backoffUntil, this.lastPollAt + this.interval(now));
  }

  /** When the session cap may free up: the next poll is when a finished action is seen. */
  nextSeenAt(now: number): number {
    return this.lastPollAt + this.interval(now);
  }

  private due(now: number): boolean {
    if (this.s.inflight.size === 0 || now < this.backoffUntil) return false;
    return now >= this.lastPollAt + this.interval(now);
  }

  private interval(now: number): number {
    const s = this.s;
    const o = s.plan.options;
    const submitMs = (s.actionsLeft / Math.max(1, o.submitPerMinute)) * MINUTE;
    const sessionMs = (s.actionsLeft * s.avgActionMs) / Math.max(1, o.maxConcurrentSessions);
    const linkMs = (s.linksLeft / Math.max(1, o.callsPerHour)) * 60 * MINUTE;
    const remainingMs = Math.max(submitMs, sessionMs, linkMs) + s.avgActionMs;
    return pollIntervalMs({
      floorMs: o.pollIntervalMs,
      ceilingMs: MINUTE,
      callsPerMinute: o.callsPerMinute,
      callsPerHour: o.callsPerHour,
      usedLastHour: s.o.metered.quota.calls.used(60 * MINUTE, now),
      callsStillNeeded: s.linksLeft,
      remainingMs,
    });
  }

  private async poll(): Promise<void> {
    const s = this.s;
    const started = s.clock.now();
    this.lastPollAt = started;
    // The oldest in-flight action's creation time on the service's own clock (exact, so the list holds
    // little beyond the run's live actions); our clock minus a skew margin when that is not known.
    let oldest = Number.POSITIVE_INFINITY;
    for (const i of s.inflight.values()) {
      const r = s.records[i]!;
      oldest = Math.min(oldest, r.createdAt ?? (r.intentAt ?? s.plan.startedAtMs) - CLOCK_SKEW_MS);
    }
    if (!Number.isFinite(oldest)) oldest = s.plan.startedAtMs - CLOCK_SKEW_MS;
    const since = this.widen ? oldest - 6 * CLOCK_SKEW_MS : oldest - 1_000;
    let filter = `type eq 'LiveResponse' and creationDateTimeUtc ge ${odataTimestamp(since)}`;
    if (s.requestor && !this.widen) filter += ` and requestor eq '${s.requestor.replace(/'/g, "''")}'`;
    let actions: MachineAction[];
    try {
      actions = await s.api.listMachineActions({ filter, top: 10_000 }, { signal: s.signal });
      this.lastOkAt = started;
    } catch (error) {
      if (s.aborted) return;
      if (error instanceof RateLimitError) {
        this.backoffUntil = s.clock.now() + (error.retryAfterMs ?? DEFAULT_RETRY_AFTER_MS);
        s.emit({ type: "waiting", reason: "rateLimit", untilMs: this.backoffUntil });
      } else if (error instanceof MdeApiError && error.status === 400 && s.requestor) {
        // The requestor filter was refused: poll without it from now on.
        s.requestor = null;
      } else {
        s.warn(`polling actions failed: ${errorText(error)}`);
      }
      return;
    }
    const seen = new Set<string>();
    for (const a of actions) {
      const i = s.inflight.get(a.id);
      if (i === undefined) continue;
      seen.add(a.id);
      this.status.apply(i, a);
    }
    const missing: [string, number][] = [];
    for (const [id, i] of s.inflight) {
      if (!seen.has(id) && (s.records[i]!.intentAt ?? 0) < started) missing.push([id, i]);
    }
    if (missing.length > MAX_SINGLE_GETS) {
      // The list missed many of ours: drop the requestor filter first (requestor format varies,
      // mde-api.md §8.11), then widen the creation-time window.
      if (s.requestor) s.requestor = null;
      else this.widen = true;
      return;
    }
    this.widen = false;
    for (const [id, i] of missing) {
      try {
        this.status.apply(i, await s.api.getMachineAction(id, { signal: s.signal }));
      } catch (error) {
        if (s.aborted) return;
        s.warn(`getting action ${id} failed: ${errorText(error)}`);
      }
    }
  }
}
