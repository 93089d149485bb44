/**
 * Retry timing. Hand-written rather than undici's RetryAgent/RetryHandler because those schedule with
 * real timers (no injectable Clock, so scaled benchmark time would not apply) and decide retryability by
 * method alone, while we must never re-send `runliveresponse` after an ambiguous failure.
 */

export interface RetryOptions {
  /** Total attempts per call, first included (default 6). */
  maxAttempts: number;
  /** First back-off ceiling in ms (default 1 s); doubles per attempt. */
  baseDelayMs: number;
  /** Ceiling for any computed back-off (default 60 s). */
  maxDelayMs: number;
  /** Longest Retry-After we will honour before giving up with RateLimitError (default 10 min). */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY: Readonly<RetryOptions> = {
  maxAttempts: 6,
  baseDelayMs: 1000,
  maxDelayMs: 60_000,
  maxRetryAfterMs: 600_000,
};

export class RetryPolicy {
  readonly options: RetryOptions;
  constructor(
    options: Partial<RetryOptions> = {},
    private readonly random: () => number = Math.random,
  ) {
    this.options = { ...DEFAULT_RETRY, ...options };
    if (!(this.options.maxAttempts >= 1)) throw new RangeError("retry.maxAttempts must be ≥ 1");
  }

  /** True when attempt number `attempt` (1-based, just failed) may be followed by another. */
  canRetry(attempt: number): boolean {
    return attempt < this.options.maxAttempts;
  }

  /** "Full jitter" exponential back-off: uniform in [0, min(max, base·2^(attempt-1))]. */
  backoffMs(attempt: number): number {
    const ceiling = Math.min(
      this.options.maxDelayMs,
      this.options.baseDelayMs * 2 ** Math.max(0, attempt - 1),
    );
    return Math.floor(this.random() * ceiling);
  }

  /** Delay after a 429: the server's Retry-After when given, else our back-off. */
  rateLimitDelayMs(attempt: number, retryAfterMs: number | undefined): number {
    return retryAfterMs ?? this.backoffMs(attempt);
  }
}

/**
 * Parses Retry-After: delta-seconds (what MDE sends, §3.2) or an HTTP date measured against `nowMs`.
 * Returns undefined when absent or unparsable.
 */
export function parseRetryAfter(value: string | string[] | undefined, nowMs: number): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined) return undefined;
  const t = v.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Math.round(Number(t) * 1000);
  const date = Date.parse(t);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - nowMs);
}
