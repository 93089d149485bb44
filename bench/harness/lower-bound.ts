/**
 * The lower bound T* on a fleet run's wall time (service time), set by the MDE quotas rather than by
 * this machine. Two figures, explained in bench/README.md:
 *
 * - `closedForm`: the formula, max(N/10 per min, Σd/S, (N·k + C0)/1,500 per h) + the first
 *   session's length. Exact in the long run, but for runs of a few hours its hourly term is pessimistic
 *   because an hour's 1,500 calls may be spent in the first 15 minutes.
 * - `simulated`: the best finish time any client could reach under the exact quota model (sliding or
 *   fixed windows), found by scheduling every submission and every result-link call as early as the
 *   quotas allow, with free polling and instant downloads (an oracle client). ASAP is optimal for
 *   identical unit calls under window limits; submissions stay in the given order because a client
 *   cannot know session lengths in advance.
 */

export interface QuotaModel {
  submitPerMinute: number;
  callsPerMinute: number;
  callsPerHour: number;
  concurrentSessions: number;
  /** How the service counts a window: rolling (sliding) or per calendar minute/hour (fixed). */
  windows: "sliding" | "fixed";
}

export const MDE_QUOTAS: QuotaModel = {
  submitPerMinute: 10,
  callsPerMinute: 100,
  callsPerHour: 1500,
  concurrentSessions: 50,
  windows: "sliding",
};

export interface FleetShape {
  /** Session length of each device's action (submission to final state), service ms, in submission order. */
  sessionMs: readonly number[];
  /** Result-bearing steps per device (RunScript, GetFile): one result-link call each. */
  resultSteps: number;
  /** Calls every run makes once whatever N is (machine list pages, library list/upload). */
  fixedCalls?: number;
}

export interface LowerBound {
  devices: number;
  /** The T* (ms). */
  closedFormMs: number;
  /** The oracle schedule's finish time (ms); never above `closedFormMs` by more than one window. */
  simulatedMs: number;
  /** Which closed-form term binds. */
  binding: "submissions" | "sessions" | "calls";
  terms: { submissionsMs: number; sessionsMs: number; callsMs: number; firstSessionMs: number };
}

const MINUTE = 60_000;
const HOUR = 3_600_000;

export function lowerBound(shape: FleetShape, quota: QuotaModel = MDE_QUOTAS): LowerBound {
  const n = shape.sessionMs.length;
  if (n === 0) throw new RangeError("lowerBound needs at least one device");
  if (!(shape.resultSteps >= 0)) throw new RangeError("resultSteps must be >= 0");
  const calls = n * shape.resultSteps + (shape.fixedCalls ?? 0);
  let total = 0;
  let shortest = Number.POSITIVE_INFINITY;
  for (const d of shape.sessionMs) {
    total += d;
    shortest = Math.min(shortest, d);
  }
  const terms = {
    submissionsMs: (n / quota.submitPerMinute) * MINUTE,
    sessionsMs: total / quota.concurrentSessions,
    callsMs: (calls / quota.callsPerHour) * HOUR,
    // "plus the first session's length": the shortest one keeps it a true lower bound when lengths vary.
    firstSessionMs: shortest,
  };
  const longest = Math.max(terms.submissionsMs, terms.sessionsMs, terms.callsMs);
  const binding =
    longest === terms.submissionsMs ? "submissions" : longest === terms.sessionsMs ? "sessions" : "calls";
  return {
    devices: n,
    closedFormMs: longest + terms.firstSessionMs,
    simulatedMs: simulateOracle(shape, quota),
    binding,
    terms,
  };
}

/** Earliest times a quota window admits the next call; calls are recorded in nondecreasing time. */
interface Window {
  earliest(t: number): number;
  record(t: number): void;
}

class SlidingWindow implements Window {
  private readonly times: number[] = [];
  constructor(
    private readonly limit: number,
    private readonly spanMs: number,
  ) {}
  earliest(t: number): number {
    // The call `limit` places back must have left the window (window is (t - span, t]).
    const i = this.times.length - this.limit;
    return i >= 0 ? Math.max(t, this.times[i]! + this.spanMs) : t;
  }
  record(t: number): void {
    this.times.push(t);
  }
}

class FixedWindow implements Window {
  private bucket = Number.NEGATIVE_INFINITY;
  private used = 0;
  constructor(
    private readonly limit: number,
    private readonly spanMs: number,
  ) {}
  earliest(t: number): number {
    const b = Math.floor(t / this.spanMs);
    if (b !== this.bucket || this.used < this.limit) return t;
    return (b + 1) * this.spanMs;
  }
  record(t: number): void {
    const b = Math.floor(t / this.spanMs);
    if (b !== this.bucket) {
      this.bucket = b;
      this.used = 0;
    }
    this.used++;
  }
}

function makeWindow(model: QuotaModel["windows"], limit: number, spanMs: number): Window {
  return model === "sliding" ? new SlidingWindow(limit, spanMs) : new FixedWindow(limit, spanMs);
}

/** Earliest t' >= t that every window admits (windows only push forward, so iterate to a fixed point). */
function admit(windows: Window[], t: number): number {
  for (;;) {
    let next = t;
    for (const w of windows) next = Math.max(next, w.earliest(next));
    if (next === t) return t;
    t = next;
  }
}

/** Binary min-heap of session end times (the session cap frees the earliest-ending slot first). */
class MinHeap {
  private readonly a: number[] = [];
  get size(): number {
    return this.a.length;
  }
  push(v: number): void {
    const a = this.a;
    a.push(v);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p]! <= v) break;
      a[i] = a[p]!;
      i = p;
    }
    a[i] = v;
  }
  pop(): number {
    const a = this.a;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= a.length) break;
        const r = l + 1;
        const c = r < a.length && a[r]! < a[l]! ? r : l;
        if (a[c]! >= last) break;
        a[i] = a[c]!;
        i = c;
      }
      a[i] = last;
    }
    return top;
  }
}

/** Finish time (ms from the start) of the best schedule under `quota`, polling free, downloads instant. */
export function simulateOracle(shape: FleetShape, quota: QuotaModel = MDE_QUOTAS): number {
  const submit = [makeWindow(quota.windows, quota.submitPerMinute, MINUTE)];
  const calls = [
    makeWindow(quota.windows, quota.callsPerMinute, MINUTE),
    makeWindow(quota.windows, quota.callsPerHour, HOUR),
  ];
  let clock = 0;
  for (let i = 0; i < (shape.fixedCalls ?? 0); i++) {
    clock = admit(calls, clock);
    for (const w of calls) w.record(clock);
  }
  const active = new MinHeap();
  const ends: number[] = [];
  let t = 0;
  for (const d of shape.sessionMs) {
    for (;;) {
      t = admit(submit, t);
      if (active.size < quota.concurrentSessions) break;
      t = Math.max(t, active.pop());
    }
    for (const w of submit) w.record(t);
    active.push(t + d);
    ends.push(t + d);
  }
  ends.sort((a, b) => a - b);
  let finish = ends[ends.length - 1] ?? 0;
  if (shape.resultSteps > 0) {
    let c = clock;
    for (const end of ends) {
      for (let s = 0; s < shape.resultSteps; s++) {
        c = admit(calls, Math.max(c, end));
        for (const w of calls) w.record(c);
      }
    }
    finish = Math.max(finish, c);
  }
  return finish;
}
