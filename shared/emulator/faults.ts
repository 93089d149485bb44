/** Seeded fault injection (429 storms, 5xx, connection resets, truncated/slow downloads). */
import { Prng } from "./prng.js";
import type { FaultSpec } from "./types.js";

export type ApiFault =
  | { kind: "none" }
  | { kind: "throttle"; retryAfter: boolean; retryAfterMs: number }
  | { kind: "serverError" }
  | { kind: "resetBefore" }
  | { kind: "resetAfter" };

export class FaultInjector {
  private spec: FaultSpec;
  private rng: Prng;

  /** `throttleStorms[].startMs` counts from `startedAt` (the emulator's start, service ms). */
  constructor(
    spec: FaultSpec | undefined,
    seed: number,
    private readonly startedAt: number,
  ) {
    this.spec = spec ?? {};
    this.rng = new Prng(spec?.seed ?? seed);
  }

  update(spec: FaultSpec): void {
    this.spec = { ...this.spec, ...spec };
    if (spec.seed !== undefined) this.rng = new Prng(spec.seed);
  }

  get tokenLifetimeMs(): number {
    return this.spec.tokenLifetimeMs ?? 3_599_000;
  }

  get slowChunkDelayMs(): number {
    return this.spec.slowChunkDelayMs ?? 200;
  }

  forApiCall(now: number): ApiFault {
    const elapsed = now - this.startedAt;
    for (const storm of this.spec.throttleStorms ?? []) {
      if (elapsed >= storm.startMs && elapsed < storm.startMs + storm.durationMs) {
        return {
          kind: "throttle",
          retryAfter: storm.retryAfter,
          retryAfterMs: storm.startMs + storm.durationMs - elapsed,
        };
      }
    }
    if (this.rng.chance(this.spec.serverErrorRate ?? 0)) return { kind: "serverError" };
    if (this.rng.chance(this.spec.connectionResetRate ?? 0)) {
      return this.rng.chance(this.spec.resetAfterProcessingShare ?? 0.5)
        ? { kind: "resetAfter" }
        : { kind: "resetBefore" };
    }
    return { kind: "none" };
  }

  forDownload(): { truncate: boolean; slow: boolean } {
    return {
      truncate: this.rng.chance(this.spec.truncatedBodyRate ?? 0),
      slow: this.rng.chance(this.spec.slowBodyRate ?? 0),
    };
  }
}
