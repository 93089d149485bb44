/** Progress for live views and logs: counts by phase, and why the run is waiting. */
import type { WaitReason } from "./events.js";
import { type FleetState, MINUTE } from "./state.js";

/** Progress events for live views: at most this often, in real milliseconds (a view redraws in real time). */
const PROGRESS_EVERY_REAL_MS = 250;

export class Progress {
  private lastReal = 0;
  private lastWaiting: { reason: WaitReason; at: number } | null = null;

  constructor(
    private readonly s: FleetState,
    /** Devices being downloaded right now (they count as running). */
    private readonly collecting: () => number,
  ) {}

  /** A `waiting` event when the reason changes, or at most once a service minute for the same one. */
  waiting(reason: WaitReason, untilMs: number): void {
    const now = this.s.clock.now();
    if (this.lastWaiting && this.lastWaiting.reason === reason && now - this.lastWaiting.at < MINUTE) return;
    this.lastWaiting = { reason, at: now };
    this.s.emit({ type: "waiting", reason, untilMs });
  }

  emit(force: boolean): void {
    const s = this.s;
    if (!s.o.onEvent) return;
    // Real time on purpose: this only paces a live view's redraws, never the run itself.
    const real = performance.now();
    if (!force && real - this.lastReal < PROGRESS_EVERY_REAL_MS) return;
    this.lastReal = real;
    let pending = 0;
    let running = 0;
    for (const i of s.inflight.values()) {
      if (s.records[i]!.actionStatus === "InProgress") running++;
      else pending++;
    }
    s.emit({
      type: "progress",
      done: s.doneCount,
      total: s.records.length,
      pending: pending + s.submitting.size,
      running: running + this.collecting(),
      queued: s.ready.length + s.busy.size + s.heldCount,
    });
  }
}
