/**
 * Client-assertion callback wrapper for federated sign-in (GitHub OIDC). MSAL calls the callback on every
 * acquire; a GitHub ID token lives about 5 minutes, so each one is reused for at most ~4 minutes, and never
 * closer than a minute to its own `exp` (clock skew and the exchange's round trip), then fetched fresh.
 * Measured on the client's Clock: in production that is the wall clock GitHub's `exp` uses; under a scaled
 * benchmark clock the only issuer is the emulator, whose ID tokens live on that same clock.
 */
import { type Clock, systemClock } from "../clock.js";
import { registerSecret } from "../redact.js";

export const ASSERTION_REUSE_MS = 4 * 60_000;
export const ASSERTION_EXPIRY_MARGIN_MS = 60_000;

/** `exp` of a JWT in epoch ms, or undefined for anything that is not a readable JWT. */
export function jwtExpiryMs(token: string): number | undefined {
  const payload = token.split(".")[1];
  if (!payload) return undefined;
  try {
    const exp = (JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as { exp?: unknown }).exp;
    return typeof exp === "number" && Number.isFinite(exp) ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

export function memoiseAssertion(
  fetchAssertion: () => Promise<string>,
  reuseMs = ASSERTION_REUSE_MS,
  clock: Clock = systemClock,
): { get: () => Promise<string>; invalidate: () => void } {
  let cached: { value: string; reuseUntil: number } | undefined;
  let inflight: Promise<string> | undefined;
  const get = (): Promise<string> => {
    if (cached && clock.now() < cached.reuseUntil) return Promise.resolve(cached.value);
    inflight ??= fetchAssertion()
      .then((value) => {
        registerSecret(value);
        const exp = jwtExpiryMs(value) ?? Number.POSITIVE_INFINITY;
        cached = { value, reuseUntil: Math.min(clock.now() + reuseMs, exp - ASSERTION_EXPIRY_MARGIN_MS) };
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
