/**
 * A real Clock implementation for tests: discrete-event virtual time. Sleepers are queued by deadline;
 * once the event loop has settled, time jumps to the earliest deadline and those sleepers wake. Waits of
 * minutes or hours complete at once, concurrent sleepers keep their true order, and every wait is recorded.
 */
import type { Clock } from "../../shared/clock.js";

interface Sleeper {
  at: number;
  resolve: () => void;
}

export class VirtualClock implements Clock {
  readonly sleeps: number[] = [];
  private pending: Sleeper[] = [];
  private scheduled = false;
  constructor(private t = Date.UTC(2026, 0, 1)) {}

  now(): number {
    return this.t;
  }

  advance(ms: number): void {
    this.t += ms;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    this.sleeps.push(ms);
    return new Promise((resolve, reject) => {
      const sleeper: Sleeper = { at: this.t + Math.max(0, ms), resolve };
      this.pending.push(sleeper);
      signal?.addEventListener(
        "abort",
        () => {
          this.pending = this.pending.filter((s) => s !== sleeper);
          reject(signal.reason);
        },
        { once: true },
      );
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // setImmediate twice: let promise chains of just-woken sleepers register their next sleeps first.
    setImmediate(() =>
      setImmediate(() => {
        this.scheduled = false;
        if (this.pending.length === 0) return;
        const next = Math.min(...this.pending.map((s) => s.at));
        this.t = Math.max(this.t, next);
        const due = this.pending.filter((s) => s.at <= this.t);
        this.pending = this.pending.filter((s) => s.at > this.t);
        for (const s of due) s.resolve();
        if (this.pending.length > 0) this.schedule();
      }),
    );
  }
}
