/**
 * The single choke point for MDE API calls: quota account → bearer token → undici request → retry policy
 * → error decoder. Composed from small pieces so each can be tested alone. Every attempt (retries
 * included: the service counts each one) holds a slot of the client's quota account until its answer is
 * read.
 *
 * Retry rules: 429 honours Retry-After (else back-off); 5xx and network errors back off with full jitter;
 * a 401 forces one token refresh. `runliveresponse` (kind "submit") is never re-sent after an ambiguous
 * failure (network error, 5xx, timeout): the service may have accepted it, so AmbiguousSubmissionError
 * goes to the caller, which looks for the action by its comment tag. 429 and 4xx are unambiguous refusals.
 */
import { type FormData, request } from "undici";
import type { TokenProvider } from "../auth/token-provider.js";
import type { Clock } from "../clock.js";
import { AmbiguousSubmissionError, CancelledError, MdeLrError, NetworkError } from "../errors.js";
import { redactError } from "../redact.js";
import { parseRetryAfter, type RetryPolicy } from "./backoff.js";
import type { HttpDispatchers } from "./dispatcher.js";
import { readCapped, toApiError } from "./error-decoder.js";
import { type CallCounter, type CallKind, emit, type HttpHooks } from "./events.js";
import type { Priority, QuotaAccount, QuotaSlot } from "./quota.js";

export interface TransportDeps {
  apiUrl: string;
  clock: Clock;
  dispatchers: HttpDispatchers;
  quota: QuotaAccount;
  retry: RetryPolicy;
  tokens: TokenProvider;
  hooks: HttpHooks;
  counter: CallCounter;
  /** Per-attempt timeout for headers and body (real ms; undici timers). Default 120 s. */
  requestTimeoutMs?: number;
}

export interface ApiRequest {
  kind: CallKind;
  method: "GET" | "POST" | "DELETE";
  /** Path under the API base (e.g. `/api/machines`), or an absolute `@odata.nextLink`. */
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  json?: unknown;
  form?: FormData;
  signal?: AbortSignal | undefined;
  /** For kind "submit": what AmbiguousSubmissionError reports. */
  submission?: { machineId: string; comment: string };
  /** Low-priority calls leave a reserve of each window to high-priority ones (polls, cancels). Default high. */
  priority?: Priority | undefined;
  /** A slot the caller already took for the first attempt (the scheduler's submissions). */
  slot?: QuotaSlot | undefined;
  /** Told when the quota account makes this call wait (service ms it waits until). */
  onQuotaWait?: ((untilMs: number) => void) | undefined;
  /** Told each time a request leaves (after its quota slot). */
  onSent?: (() => void) | undefined;
}

export interface ApiResponse {
  status: number;
  body: unknown;
}

/** OData wants `%20`, not `+`, and `$` kept readable. */
function encodeQuery(query: ApiRequest["query"]): string {
  if (!query) return "";
  const parts: string[] = [];
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined) continue;
    parts.push(`${encodeURIComponent(k).replace(/^%24/, "$")}=${encodeURIComponent(String(v))}`);
  }
  return parts.length ? `?${parts.join("&")}` : "";
}

export class HttpTransport {
  private readonly base: URL;
  constructor(private readonly deps: TransportDeps) {
    this.base = new URL(deps.apiUrl);
  }

  /**
   * Resolves a path or nextLink against the configured base. A nextLink's host is ignored on purpose: the
   * service builds it from whatever host it was called with, and sending our bearer token to any other host
   * than the one configured would leak it.
   */
  resolve(pathOrUrl: string, query?: ApiRequest["query"]): URL {
    if (/^https?:\/\//i.test(pathOrUrl)) {
      const next = new URL(pathOrUrl);
      const basePath = this.base.pathname.replace(/\/$/, "");
      const apiIdx = next.pathname.toLowerCase().indexOf("/api/");
      const path = apiIdx >= 0 ? next.pathname.slice(apiIdx) : next.pathname;
      return new URL(`${this.base.origin}${basePath}${path}${next.search}`);
    }
    const basePath = this.base.pathname.replace(/\/$/, "");
    return new URL(`${this.base.origin}${basePath}${pathOrUrl}${encodeQuery(query)}`);
  }

  async send(req: ApiRequest): Promise<ApiResponse> {
    const { clock, quota: account, hooks } = this.deps;
    const url = this.resolve(req.path, req.query);
    const quota = req.kind === "submit" ? "submit" : "general";
    let refreshed = false;
    let forceRefresh = false;

    let given = req.slot;
    for (let attempt = 1; ; attempt++) {
      const base = { kind: req.kind, method: req.method, path: url.pathname, attempt };
      const slot =
        given ??
        (await this.guard(req.signal, () =>
          account.acquire(quota, req.priority ?? "high", req.signal, (untilMs) => {
            emit(hooks.onRateLimited, { kind: req.kind, quota, waitMs: untilMs - clock.now() });
            req.onQuotaWait?.(untilMs);
          }),
        ));
      given = undefined;
      try {
        const outcome = await this.attempt(req, url, base, { forceRefresh, refreshed });
        if (outcome.done) return outcome.response;
        forceRefresh = outcome.forceRefresh;
        refreshed = outcome.refreshed;
        if (outcome.retry === "refresh") attempt--;
        slot.release();
        if (outcome.delayMs > 0) await this.sleep(outcome.delayMs, req.signal);
      } finally {
        slot.release();
      }
    }
  }

  /** One attempt: its answer, or how to retry. Throws the call's final error. */
  private async attempt(
    req: ApiRequest,
    url: URL,
    base: { kind: CallKind; method: string; path: string; attempt: number },
    auth: { forceRefresh: boolean; refreshed: boolean },
  ): Promise<
    | { done: true; response: ApiResponse }
    | {
        done: false;
        retry: "refresh" | "backoff";
        delayMs: number;
        forceRefresh: boolean;
        refreshed: boolean;
      }
  > {
    const { clock, retry, tokens, hooks, counter, dispatchers } = this.deps;
    const timeout = this.deps.requestTimeoutMs ?? 120_000;
    const attempt = base.attempt;
    const again = (delayMs: number) =>
      ({ done: false, retry: "backoff", delayMs, forceRefresh: false, refreshed: auth.refreshed }) as const;
    {
      const token = await this.guard(req.signal, () =>
        tokens.getToken({ forceRefresh: auth.forceRefresh, signal: req.signal }),
      );

      const headers: Record<string, string> = {
        authorization: `Bearer ${token}`,
        accept: "application/json",
      };
      let body: string | FormData | undefined;
      if (req.json !== undefined) {
        headers["content-type"] = "application/json";
        body = JSON.stringify(req.json);
      } else if (req.form) {
        body = req.form;
      }

      // Checked here so an abort before sending is a clean cancel, never an ambiguous submission.
      if (req.signal?.aborted) {
        throw new CancelledError(`${req.method} ${url.pathname} cancelled`, { cause: req.signal.reason });
      }
      counter.add(req.kind);
      req.onSent?.();
      emit(hooks.onRequest, base);
      const started = clock.now();
      let res: Awaited<ReturnType<typeof request>>;
      try {
        res = await request(url, {
          method: req.method,
          headers,
          body,
          dispatcher: dispatchers.for(url),
          signal: req.signal,
          headersTimeout: timeout,
          bodyTimeout: timeout,
        });
      } catch (error) {
        if (req.kind === "submit" && req.submission) {
          // An abort while the submission is in flight is as ambiguous as a dropped connection: the service
          // may already have the action, and the caller must find (and maybe cancel) it by its comment tag.
          throw new AmbiguousSubmissionError(req.submission.machineId, req.submission.comment, {
            cause: req.signal?.aborted
              ? new CancelledError("cancelled while submitting", { cause: req.signal.reason })
              : new NetworkError(redactError(error), errorCode(error)),
          });
        }
        if (req.signal?.aborted) {
          throw new CancelledError(`${req.method} ${url.pathname} cancelled`, { cause: req.signal.reason });
        }
        if (!retry.canRetry(attempt)) {
          throw new NetworkError(
            `${req.method} ${url.pathname} failed after ${attempt} attempt(s): ${redactError(error)}`,
            errorCode(error),
          );
        }
        const delayMs = retry.backoffMs(attempt);
        emit(hooks.onRetry, { ...base, reason: "network", delayMs });
        return again(delayMs);
      }

      const status = res.statusCode;
      emit(hooks.onResponse, { ...base, status, durationMs: clock.now() - started });

      if (status >= 200 && status < 300) {
        try {
          const text = await readBody(res.body);
          return { done: true, response: { status, body: text === "" ? undefined : JSON.parse(text) } };
        } catch (error) {
          if (req.kind === "submit" && req.submission) {
            // Accepted (2xx) but the body was lost (or the caller aborted while it streamed): the action
            // exists and only its lookup by comment tag can tell the caller its id.
            throw new AmbiguousSubmissionError(req.submission.machineId, req.submission.comment, {
              cause: new NetworkError(redactError(error)),
            });
          }
          if (req.signal?.aborted) throw new CancelledError(`${req.method} ${url.pathname} cancelled`);
          if (!retry.canRetry(attempt)) {
            throw new NetworkError(
              `${req.method} ${url.pathname}: unreadable response: ${redactError(error)}`,
            );
          }
          const delayMs = retry.backoffMs(attempt);
          emit(hooks.onRetry, { ...base, reason: "network", delayMs, status });
          return again(delayMs);
        }
      }

      const text = await readCapped(res.body);
      if (status === 401 && tokens.canRefresh && !auth.refreshed) {
        // One forced refresh per call: the cached token may have been revoked or expired early.
        emit(hooks.onRetry, { ...base, reason: "401", delayMs: 0, status });
        return { done: false, retry: "refresh", delayMs: 0, forceRefresh: true, refreshed: true };
      }
      if (status === 429) {
        const retryAfterMs = parseRetryAfter(res.headers["retry-after"], clock.now());
        const delayMs = retry.rateLimitDelayMs(attempt, retryAfterMs);
        if (retry.canRetry(attempt) && delayMs <= retry.options.maxRetryAfterMs) {
          emit(hooks.onRetry, { ...base, reason: "429", delayMs, status });
          return again(delayMs);
        }
        throw toApiError(
          { kind: req.kind, method: req.method, path: url.pathname, status, retryAfterMs },
          text,
        );
      }
      if (status >= 500) {
        if (req.kind === "submit" && req.submission) {
          throw new AmbiguousSubmissionError(req.submission.machineId, req.submission.comment, {
            cause: toApiError({ kind: req.kind, method: req.method, path: url.pathname, status }, text),
          });
        }
        if (retry.canRetry(attempt)) {
          const delayMs = retry.backoffMs(attempt);
          emit(hooks.onRetry, { ...base, reason: "5xx", delayMs, status });
          return again(delayMs);
        }
      }
      throw toApiError({ kind: req.kind, method: req.method, path: url.pathname, status }, text);
    }
  }

  private async sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
    await this.guard(signal, () => this.deps.clock.sleep(ms, signal));
  }

  /** Maps an abort during a wait to CancelledError; passes our own errors through. */
  private async guard<T>(signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      if (signal?.aborted && !(error instanceof MdeLrError && error.kind !== "cancelled")) {
        throw new CancelledError("cancelled", { cause: signal.reason });
      }
      throw error;
    }
  }
}

async function readBody(body: AsyncIterable<Uint8Array>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks).toString("utf8");
}

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}
