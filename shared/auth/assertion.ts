/**
 * Client-assertion callback wrapper for federated sign-in (GitHub OIDC). MSAL calls the callback on every
 * acquire; a GitHub ID token lives about 5 minutes, so each one is reused for ~4 minutes and then fetched
 * fresh. Wall-clock time on purpose: the GitHub token's `exp` is real time even when the service clock is
 * scaled for a benchmark.
 */
import { type Clock, systemClock } from "../clock.js";
import { registerSecret } from "../redact.js";

export const ASSERTION_REUSE_MS = 4 * 60_000;

export function memoiseAssertion(
  fetchAssertion: () => Promise<string>,
  reuseMs = ASSERTION_REUSE_MS,
  clock: Clock = systemClock,
): { get: () => Promise<string>; invalidate: () => void } {
  let cached: { value: string; at: number } | undefined;
  let inflight: Promise<string> | undefined;
  const get = (): Promise<string> => {
    if (cached && clock.now() - cached.at < reuseMs) return Promise.resolve(cached.value);
    inflight ??= fetchAssertion()
      .then((value) => {
        registerSecret(value);
        cached = { value, at: clock.now() };
        return value;
      })
      .finally(() => {
        inflight = undefined;
      });
    return inflight;
  };
  return {
    get,
    invalidate: () => {
      cached = undefined;
    },
  };
}
