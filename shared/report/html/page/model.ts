/**
 * What the page derives from its data: one row per device, the quota picture per second (submissions
 * per rolling minute, sessions in use, API calls per rolling minute and hour), which limit held the
 * devices back while they waited, and the filter over rows.
 */
import { type PageData, type PageDevice, SPAN_KINDS } from "../page-data.js";

export interface Row {
  /** Position in report.json's machines. */
  index: number;
  device: PageDevice;
  label: string;
  /** Lower-cased text the search box looks in; built on first search. */
  haystack?: string;
}

export interface Series {
  /** Seconds per point. */
  step: number;
  /** Point times, epoch seconds (uPlot's unit). */
  x: number[];
  submitsPerMinute: number[];
  sessions: number[];
  callsPerMinute: number[];
  callsPerHour: number[];
  waiting: number[];
}

export interface Bound {
  /** Seconds during which at least one device waited for its turn. */
  waitingSeconds: number;
  /** Share of those seconds each limit was reached. */
  shares: { key: string; label: string; share: number }[];
}

export interface Model {
  data: PageData;
  /** Epoch ms of the data's time origin and of the end of what is known. */
  t0: number;
  end: number;
  rows: Row[];
  /** Per-second arrays (index = second after t0) for hover reasons; null when no time is known. */
  perSecond: PerSecond | null;
  series: Series | null;
  bound: Bound | null;
}

interface PerSecond {
  /** Seconds per slot (1 unless the run is days long). */
  res: number;
  submits: Float64Array;
  calls: Float64Array;
  sessions: Int32Array;
  waiting: Int32Array;
  /** Rolling sums over the last minute / hour. */
  submitsMin: Float64Array;
  callsMin: Float64Array;
  callsHour: Float64Array;
}

const KIND = Object.fromEntries(SPAN_KINDS.map((k, i) => [k, i])) as Record<string, number>;
const SESSION_KINDS = new Set([KIND["submitting"], KIND["pending"], KIND["running"]]);
/** Calls the per-minute and per-hour budget covers: all but submissions (own quota) and downloads (storage). */
const BUDGET_EXEMPT = new Set(["submit", "download"]);
const MAX_SLOTS = 400_000;
const MAX_POINTS = 3_000;

export function deviceLabel(d: PageDevice): string {
  return d.computerDnsName || d.machineId || d.target?.value || "(unknown)";
}

function rolling(values: Float64Array, window: number): Float64Array {
  const out = new Float64Array(values.length);
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    sum += values[i]!;
    if (i >= window) sum -= values[i - window]!;
    out[i] = sum;
  }
  return out;
}

/** [start, end] pairs of the spans whose kind passes `keep`, touching ones joined. */
function merged(spans: number[], keep: (kind: number) => boolean): number[] {
  const out: number[] = [];
  for (let i = 0; i + 2 < spans.length; i += 3) {
    if (!keep(spans[i]!)) continue;
    const a = spans[i + 1]!;
    const b = spans[i + 2]!;
    if (out.length && out[out.length - 1]! >= a) out[out.length - 1] = Math.max(out[out.length - 1]!, b);
    else out.push(a, b);
  }
  return out;
}

/**
 * Count intervals into per-slot differences. `short`: an interval inside one slot still counts there
 * (a brief session still takes a place under the cap); otherwise it is left out (a wait of a few ms is
 * no wait).
 */
function addIntervals(diff: Int32Array, pairs: number[], slot: (ms: number) => number, short: boolean): void {
  for (let i = 0; i + 1 < pairs.length; i += 2) {
    const a = slot(pairs[i]!);
    let b = slot(pairs[i + 1]!);
    if (b <= a) {
      if (!short) continue;
      b = a + 1;
    }
    diff[a]!++;
    diff[b]!--;
  }
}

function perSecond(data: PageData): PerSecond | null {
  const endMs = data.timeline.end;
  if (!(endMs > 0)) return null;
  const res = Math.max(1, Math.ceil(endMs / 1000 / MAX_SLOTS));
  const n = Math.ceil(endMs / 1000 / res) + 2;
  const slot = (ms: number) => Math.min(n - 1, Math.max(0, Math.floor(ms / 1000 / res)));
  const submits = new Float64Array(n);
  const calls = new Float64Array(n);
  const sessionDiff = new Int32Array(n + 1);
  const waitingDiff = new Int32Array(n + 1);
  const c = data.timeline.calls;
  if (c) {
    for (const [kind, counts] of Object.entries(c.kinds)) {
      const into = kind === "submit" ? submits : BUDGET_EXEMPT.has(kind) ? null : calls;
      if (!into) continue;
      counts.forEach((v, i) => {
        into[slot(c.t[i]!)]! += v;
      });
    }
  }
  for (const d of data.devices) {
    // A device's consecutive spans (submitting → pending → running) are one session: merge before counting.
    addIntervals(
      sessionDiff,
      merged(d.spans, (k) => SESSION_KINDS.has(k)),
      slot,
      true,
    );
    addIntervals(
      waitingDiff,
      merged(d.spans, (k) => k === KIND["waiting"]),
      slot,
      false,
    );
  }
  const sessions = new Int32Array(n);
  const waiting = new Int32Array(n);
  let s = 0;
  let w = 0;
  for (let i = 0; i < n; i++) {
    s += sessionDiff[i]!;
    w += waitingDiff[i]!;
    sessions[i] = s;
    waiting[i] = w;
  }
  return {
    res,
    submits,
    calls,
    sessions,
    waiting,
    submitsMin: rolling(submits, Math.max(1, Math.round(60 / res))),
    callsMin: rolling(calls, Math.max(1, Math.round(60 / res))),
    callsHour: rolling(calls, Math.max(1, Math.round(3600 / res))),
  };
}

/** Points for the charts: the maximum of each stretch, so no peak is lost when many seconds share a point. */
function series(t0: number, ps: PerSecond): Series {
  const n = ps.sessions.length;
  const per = Math.max(1, Math.ceil(n / MAX_POINTS));
  const out: Series = {
    step: per * ps.res,
    x: [],
    submitsPerMinute: [],
    sessions: [],
    callsPerMinute: [],
    callsPerHour: [],
    waiting: [],
  };
  const max = (a: ArrayLike<number>, from: number, to: number) => {
    let m = 0;
    for (let i = from; i < to; i++) m = Math.max(m, a[i]!);
    return m;
  };
  for (let i = 0; i < n; i += per) {
    const j = Math.min(n, i + per);
    out.x.push(t0 / 1000 + i * ps.res);
    out.submitsPerMinute.push(max(ps.submitsMin, i, j));
    out.sessions.push(max(ps.sessions, i, j));
    out.callsPerMinute.push(max(ps.callsMin, i, j));
    out.callsPerHour.push(max(ps.callsHour, i, j));
    out.waiting.push(max(ps.waiting, i, j));
  }
  return out;
}

/** Which limit was reached while devices waited for their turn (a limit counts from 90 % of it). */
function bound(data: PageData, ps: PerSecond): Bound | null {
  const l = data.limits;
  if (!l || !data.timeline.recorded) return null;
  const backoff = data.timeline.waits.filter((w) => w[1] === "rateLimit");
  const checks: { key: string; label: string; hit: (i: number) => boolean }[] = [
    {
      key: "sessionCap",
      label: `session cap (${l.maxConcurrentSessions} at once)`,
      hit: (i) => ps.sessions[i]! >= l.maxConcurrentSessions,
    },
    {
      key: "submitPerMinute",
      label: `submit quota (${l.submitPerMinute} a minute)`,
      hit: (i) => ps.submitsMin[i]! >= l.submitPerMinute,
    },
    {
      key: "callsPerMinute",
      label: `API calls per minute (${l.callsPerMinute})`,
      hit: (i) => ps.callsMin[i]! >= 0.9 * l.callsPerMinute,
    },
    {
      key: "callsPerHour",
      label: `API calls per hour (${l.callsPerHour})`,
      hit: (i) => ps.callsHour[i]! >= 0.9 * l.callsPerHour,
    },
    {
      key: "rateLimit",
      label: "the service's back-off (429)",
      hit: (i) => {
        const ms = i * ps.res * 1000;
        return backoff.some((w) => ms >= w[0] && ms <= w[2]);
      },
    },
  ];
  const hits = checks.map(() => 0);
  let waitingSeconds = 0;
  for (let i = 0; i < ps.waiting.length; i++) {
    if (ps.waiting[i]! <= 0) continue;
    waitingSeconds += ps.res;
    checks.forEach((c, k) => {
      if (c.hit(i)) hits[k]! += ps.res;
    });
  }
  return {
    waitingSeconds,
    shares: checks
      .map((c, k) => ({ key: c.key, label: c.label, share: waitingSeconds ? hits[k]! / waitingSeconds : 0 }))
      .sort((a, b) => b.share - a.share),
  };
}

export function buildModel(data: PageData): Model {
  const t0 = data.timeline.t0;
  const rows = data.devices.map((device, index) => ({ index, device, label: deviceLabel(device) }));
  const ps = perSecond(data);
  return {
    data,
    t0,
    end: t0 + data.timeline.end,
    rows,
    perSecond: ps,
    series: ps ? series(t0, ps) : null,
    bound: ps ? bound(data, ps) : null,
  };
}

/** Why a device that was waiting for its turn at `ms` (after t0) could not go: every reason that applied. */
export function waitReasons(model: Model, ms: number): string[] {
  const ps = model.perSecond;
  const l = model.data.limits;
  const reasons: string[] = [];
  for (const w of model.data.timeline.waits) {
    if (ms >= w[0] - 1000 && ms <= w[2] && w[1] !== "sessionCap") {
      reasons.push(
        w[1] === "rateLimit"
          ? "the service asked to slow down (429)"
          : w[1] === "quota"
            ? "API call budget spent"
            : w[1] === "deviceBusy"
              ? "a device was busy with another session"
              : w[1],
      );
    }
  }
  if (ps && l) {
    const i = Math.min(ps.sessions.length - 1, Math.max(0, Math.floor(ms / 1000 / ps.res)));
    if (ps.sessions[i]! >= l.maxConcurrentSessions) {
      reasons.push(`session cap: ${ps.sessions[i]} of ${l.maxConcurrentSessions} sessions in use`);
    }
    if (ps.submitsMin[i]! >= l.submitPerMinute) {
      reasons.push(
        `submit quota: ${ps.submitsMin[i]} submissions in the last minute (limit ${l.submitPerMinute})`,
      );
    }
    if (ps.callsMin[i]! >= 0.9 * l.callsPerMinute) {
      reasons.push(`API calls: ${ps.callsMin[i]} in the last minute (limit ${l.callsPerMinute})`);
    }
    if (ps.callsHour[i]! >= 0.9 * l.callsPerHour) {
      reasons.push(`API calls: ${ps.callsHour[i]} in the last hour (limit ${l.callsPerHour})`);
    }
  }
  return [...new Set(reasons)];
}

export interface Filter {
  status: string;
  text: string;
}

function haystack(row: Row): string {
  if (row.haystack === undefined) {
    const d = row.device;
    const parts: (string | null | undefined)[] = [
      row.label,
      d.machineId,
      d.computerDnsName,
      d.status,
      d.error?.code,
      d.error?.message,
      d.target?.value,
      ...d.warnings,
      ...d.actionIds,
    ];
    for (const c of d.commands) {
      parts.push(c.name, c.type, c.status, c.stdout, c.stderr, c.sha256, c.file, ...c.errors);
    }
    row.haystack = parts.filter(Boolean).join("\n").toLowerCase();
  }
  return row.haystack;
}

export function matches(row: Row, filter: Filter): boolean {
  if (filter.status && row.device.status !== filter.status) return false;
  const text = filter.text.trim().toLowerCase();
  if (!text) return true;
  const hay = haystack(row);
  return text.split(/\s+/).every((word) => hay.includes(word));
}
