/**
 * One injectable clock for every wait in the core (rate limiters, back-off, polling, deadlines)
 * and in the emulator. A scaled clock lets a benchmark run an hour of service time in seconds:
 * client and emulator must share the same scale and origin so their "service time" agrees.
 */
export interface Clock {
  /** Service time, milliseconds since the Unix epoch. */
  now(): number;
  /** Resolves after `ms` of service time; rejects with the signal's reason when aborted. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

function realSleep(realMs: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(
      () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      },
      Math.max(0, realMs),
    );
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) => realSleep(ms, signal),
};

export interface ScaledClockOptions {
  /** Service milliseconds per real millisecond (60 = one service minute per real second). */
  scale: number;
  /** Real epoch ms at which service time equals `serviceOrigin` (share it between processes). */
  realOrigin?: number;
  /** Service epoch ms at `realOrigin`; defaults to `realOrigin`. */
  serviceOrigin?: number;
}

export class ScaledClock implements Clock {
  readonly scale: number;
  readonly realOrigin: number;
  readonly serviceOrigin: number;

  constructor(options: ScaledClockOptions) {
    if (!(options.scale > 0) || !Number.isFinite(options.scale)) {
      throw new RangeError(`clock scale must be a positive number, got ${options.scale}`);
    }
    this.scale = options.scale;
    this.realOrigin = options.realOrigin ?? Date.now();
    this.serviceOrigin = options.serviceOrigin ?? this.realOrigin;
  }

  now(): number {
    return this.serviceOrigin + (Date.now() - this.realOrigin) * this.scale;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return realSleep(ms / this.scale, signal);
  }
}
