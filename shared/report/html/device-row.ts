/**
 * One device's timeline row for report.html: the spans and actions timeline.jsonl recorded, with the
 * stretches it lost drawn from report.json's times instead.
 *
 * The timeline is appended without fsync and the journal with it, so a kill -9 can leave a device
 * further along in the journal than in the timeline — even done, and a resume never replays a
 * finished device (it may write only the device's `done` line, or nothing). Two of report.json's
 * times are on the timeline's clock exactly: the first submission (`startedAt`, the time of the
 * `submitting` line) and the device's end (`finishedAt`, the time of the `done` line). Where the
 * timeline lacks either, it lost lines: the stretch from that time to the nearest line it does have
 * is drawn from the report's submission, command and end times (as for a run with no timeline), and
 * the device says so. Nothing is stretched over a gap, and no time is made up.
 */
import type { MachineLike } from "./data.js";
import { ACTION_OUTCOMES, SPAN_KINDS } from "./page-data.js";
import type { FoldedDevice } from "./timeline-fold.js";

export interface DeviceRow {
  /** Flat triples (kind, start, end), absolute epoch ms. */
  spans: number[];
  /** Flat quadruples (start, end, outcome, action number), absolute epoch ms. */
  actions: number[];
  /** Stretches drawn from report.json although the run recorded a timeline: [start, end] pairs. */
  lost: [number, number][];
}

const K = Object.fromEntries(SPAN_KINDS.map((k, i) => [k, i])) as Record<(typeof SPAN_KINDS)[number], number>;

export function ms(iso: string | null | undefined): number | null {
  if (!iso) return null;
  const t = Date.parse(iso);
  return Number.isFinite(t) ? t : null;
}

/** Spans and actions of a device from report.json's times alone. */
export function reconstruct(m: MachineLike, end: number): { spans: number[]; actions: number[] } {
  const spans: number[] = [];
  const actions: number[] = [];
  const start = ms(m.startedAt);
  if (start === null) return { spans, actions };
  const finish = ms(m.finishedAt) ?? end;
  const starts = m.commands.map((c) => ms(c.startedAt)).filter((t): t is number => t !== null);
  const ends = m.commands.map((c) => ms(c.finishedAt)).filter((t): t is number => t !== null);
  const clamp = (t: number) => Math.min(finish, Math.max(start, t));
  if (starts.length === 0) spans.push(K.pending, start, finish);
  else {
    const first = clamp(Math.min(...starts));
    const last = ends.length ? clamp(Math.max(...ends)) : finish;
    if (first > start) spans.push(K.pending, start, first);
    spans.push(K.running, first, Math.max(first, last));
    if (finish > last) spans.push(K.collecting, last, finish);
  }
  const ids = m.actionIds?.length ? m.actionIds : [...new Set(m.commands.map((c) => c.actionId))];
  ids.forEach((id, n) => {
    const mine = m.commands.filter((c) => c.actionId === id);
    if (mine.length === 0) return;
    const a0 = mine.map((c) => ms(c.startedAt)).filter((t): t is number => t !== null);
    const a1 = mine.map((c) => ms(c.finishedAt)).filter((t): t is number => t !== null);
    const s = a0.length ? clamp(Math.min(...a0)) : start;
    const e = a1.length ? clamp(Math.max(...a1)) : finish;
    const outcome = mine.every((c) => c.status === "succeeded")
      ? "Succeeded"
      : mine.some((c) => c.status === "failed")
        ? "Failed"
        : mine.some((c) => c.status === "cancelled")
          ? "Cancelled"
          : "";
    actions.push(s, Math.max(s, e), ACTION_OUTCOMES.indexOf(outcome), n + 1);
  });
  return { spans, actions };
}

/** The device's row: as recorded where the timeline has it, from the report where it lost lines. */
export function deviceRow(f: FoldedDevice | undefined, m: MachineLike, end: number): DeviceRow {
  const start = ms(m.startedAt);
  if (start === null) {
    // Never submitted (or the report has no times): only the timeline can tell where it waited.
    return { spans: f?.spans ?? [], actions: f?.actions ?? [], lost: [] };
  }
  // The reconstruction is built only where it is used: a 5,000-device page must not make it for all.
  if (!f || f.spans.length === 0) {
    const known = reconstruct(m, end);
    return { ...known, lost: [[known.spans[1]!, known.spans.at(-1)!]] };
  }
  const lost = lostStretches(f, start, ms(m.finishedAt));
  if (lost.length === 0) return { spans: f.spans, actions: f.actions, lost };
  const known = reconstruct(m, end);
  const spans = [...outside(f.spans, lost), ...lost.flatMap(([a, b]) => inside(known.spans, a, b))];
  return { spans: byStart(spans), actions: mergeActions(f.actions, known.actions), lost };
}

/**
 * Where the timeline lost the device's lines: from its first submission to the next line it has,
 * when it has no `submitting` line at that time; from its last line to its end, when it has no
 * `done` line although the report has the end. Overlapping stretches are joined.
 */
function lostStretches(f: FoldedDevice, start: number, finish: number | null): [number, number][] {
  const out: [number, number][] = [];
  if (!hasSpanAt(f.spans, K.submitting, start)) {
    const after = spanStarts(f.spans).find((t) => t > start);
    out.push([start, after ?? f.spans.at(-1)!]);
  }
  // A last line before the first submission still holds until then: queued or held ends by submitting.
  if (finish !== null && !f.done) out.push([Math.max(f.lastLine, start), finish]);
  return joined(out.filter(([a, b]) => b > a));
}

/** Within a millisecond: report.json's ISO times drop the fraction a scaled clock's line may have. */
function hasSpanAt(spans: number[], kind: number, t: number): boolean {
  for (let i = 0; i + 2 < spans.length; i += 3) {
    if (spans[i] === kind && Math.abs(spans[i + 1]! - t) < 1) return true;
  }
  return false;
}

function spanStarts(spans: number[]): number[] {
  const out: number[] = [];
  for (let i = 0; i + 2 < spans.length; i += 3) out.push(spans[i + 1]!);
  return out;
}

function joined(stretches: [number, number][]): [number, number][] {
  const out: [number, number][] = [];
  for (const [a, b] of [...stretches].sort((x, y) => x[0] - y[0])) {
    const last = out.at(-1);
    if (last && a <= last[1]) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
  }
  return out;
}

/** The spans with the `lost` stretches cut out (what the timeline recorded outside them). */
function outside(spans: number[], lost: [number, number][]): number[] {
  let out = spans;
  for (const [g0, g1] of lost) {
    const next: number[] = [];
    for (let i = 0; i + 2 < out.length; i += 3) {
      const [kind, a, b] = [out[i]!, out[i + 1]!, out[i + 2]!];
      if (b <= g0 || a >= g1) next.push(kind, a, b);
      else {
        if (a < g0) next.push(kind, a, g0);
        if (b > g1) next.push(kind, g1, b);
      }
    }
    out = next;
  }
  return out;
}

/** The spans' parts inside [from, to], empty parts left out. */
function inside(spans: number[], from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = 0; i + 2 < spans.length; i += 3) {
    const a = Math.max(spans[i + 1]!, from);
    const b = Math.min(spans[i + 2]!, to);
    if (b > a) out.push(spans[i]!, a, b);
  }
  return out;
}

/** Triples in time order; disjoint by construction, so ties keep their order (a zero-length span first). */
function byStart(spans: number[]): number[] {
  const triples: number[][] = [];
  for (let i = 0; i + 2 < spans.length; i += 3) triples.push(spans.slice(i, i + 3));
  return triples.sort((x, y) => x[1]! - y[1]!).flat();
}

/**
 * Each action as long as both sources say it lasted (both are facts about it), with the outcome the
 * timeline saw, else the report's (a lost tail never showed it final).
 */
function mergeActions(recorded: number[], known: number[]): number[] {
  const byNumber = new Map<number, number[]>();
  for (let i = 0; i + 3 < known.length; i += 4) byNumber.set(known[i + 3]!, known.slice(i, i + 4));
  for (let i = 0; i + 3 < recorded.length; i += 4) {
    const [s, e, outcome, n] = recorded.slice(i, i + 4) as [number, number, number, number];
    const other = byNumber.get(n);
    byNumber.set(
      n,
      other ? [Math.min(s, other[0]!), Math.max(e, other[1]!), outcome || other[2]!, n] : [s, e, outcome, n],
    );
  }
  return [...byNumber.keys()].sort((a, b) => a - b).flatMap((n) => byNumber.get(n)!);
}
