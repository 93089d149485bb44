/** Progress and accounting hooks of the HTTP layer (benchmarks count calls by kind). */

/** What a call is for; the quota class follows from it (`submit` → runliveresponse quota). */
export type CallKind = "submit" | "poll" | "cancel" | "link" | "download" | "machines" | "library";
export const CALL_KINDS: readonly CallKind[] = [
  "submit",
  "poll",
  "cancel",
  "link",
  "download",
  "machines",
  "library",
];

export interface RequestEvent {
  kind: CallKind;
  method: string;
  /** Path only; never the query of a signed URL. */
  path: string;
  attempt: number;
}

export interface ResponseEvent extends RequestEvent {
  status: number;
  durationMs: number;
}

export interface RetryEvent extends RequestEvent {
  reason: "429" | "5xx" | "network" | "401";
  delayMs: number;
  status?: number;
}

export interface RateLimitedEvent {
  kind: CallKind;
  quota: "submit" | "general";
  waitMs: number;
}

/** A new API token was obtained from Entra (never carries the token). */
export interface TokenEvent {
  /** Service ms the token is valid for, as Entra stated it. */
  lifetimeMs: number;
  /** Service time at which it will be replaced. */
  refreshAt: number;
  reason: "initial" | "expiring" | "forced";
}

export interface HttpHooks {
  /** Sign-in produced a fresh token. */
  onToken?: (event: TokenEvent) => void;
  onRequest?: (event: RequestEvent) => void;
  onResponse?: (event: ResponseEvent) => void;
  onRetry?: (event: RetryEvent) => void;
  /** The client-side limiter made a call wait. */
  onRateLimited?: (event: RateLimitedEvent) => void;
}

/** Counts requests sent (attempts, retries included) per kind. */
export class CallCounter {
  private readonly counts = new Map<CallKind, number>();
  add(kind: CallKind): void {
    this.counts.set(kind, (this.counts.get(kind) ?? 0) + 1);
  }
  snapshot(): Record<CallKind, number> {
    const out = {} as Record<CallKind, number>;
    for (const k of CALL_KINDS) out[k] = this.counts.get(k) ?? 0;
    return out;
  }
}

/** Calls a hook without letting a faulty listener break the request. */
export function emit<T>(hook: ((event: T) => void) | undefined, event: T): void {
  if (!hook) return;
  try {
    hook(event);
  } catch {
    // Hooks are observers only.
  }
}
