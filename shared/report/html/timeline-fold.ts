/**
 * Folds a run's timeline.jsonl into per-device spans and actions, run-level waits and API calls per
 * second, reading the file in chunks so a long run's history is never held whole. Lines are not in
 * time order across kinds (a call bucket is written when its second is over), and a resumed run
 * appends after a gap; a torn or unreadable line is skipped (the file is informational).
 */
import fs from "node:fs";
import { StringDecoder } from "node:string_decoder";
import type { TimelineLine } from "../../run/timeline.js";
import { ACTION_OUTCOMES, SPAN_KINDS } from "./page-data.js";

/**
 * Read size. Each chunk's text, its lines and their parsed objects live until the chunk is folded, long
 * enough to be promoted: at 1 MiB they added ~8 MiB to the end of a 5,000-device run's peak RSS.
 */
const CHUNK = 64 * 1024;

export interface FoldedDevice {
  /** Flat triples (kind, start, end), absolute epoch ms. */
  spans: number[];
  /** Flat quadruples (start, end, outcome, action number), absolute epoch ms. */
  actions: number[];
  end: number | null;
  /** A `done` line was read: the timeline saw the device end (else a crash may have lost its tail). */
  done: boolean;
  /** Time of the device's last line read, absolute epoch ms. */
  lastLine: number;
  // Open state while folding:
  kind: number;
  since: number;
  action: number;
  actionStart: number | null;
  outcome: number;
  lastSubmitting: number | null;
}

export interface FoldedTimeline {
  first: number;
  last: number;
  processes: [number, string][];
  waits: [number, string, number][];
  /** Absolute second start → calls by kind. */
  calls: Map<number, Record<string, number>>;
  devices: (FoldedDevice | undefined)[];
}

const KIND = Object.fromEntries(SPAN_KINDS.map((k, i) => [k, i])) as Record<string, number>;

function spanKind(phase: string, status: string | null | undefined): number {
  switch (phase) {
    case "queued":
      return KIND["waiting"]!;
    case "held":
      return KIND["canary"]!;
    case "busy":
      return KIND["busy"]!;
    case "submitting":
      return KIND["submitting"]!;
    case "inflight":
      return status === "Pending" || !status ? KIND["pending"]! : KIND["running"]!;
    case "collecting":
      return KIND["collecting"]!;
    default:
      return -1; // done (or a phase this reader does not know): no span
  }
}

function outcomeCode(status: string | null | undefined): number {
  const i = ACTION_OUTCOMES.indexOf((status ?? "") as (typeof ACTION_OUTCOMES)[number]);
  return Math.max(i, 0);
}

function newDevice(): FoldedDevice {
  return {
    spans: [],
    actions: [],
    end: null,
    done: false,
    lastLine: Number.NEGATIVE_INFINITY,
    kind: -1,
    since: 0,
    action: -1,
    actionStart: null,
    outcome: 0,
    lastSubmitting: null,
  };
}

function closeAction(dev: FoldedDevice, t: number): void {
  if (dev.actionStart === null) return;
  dev.actions.push(dev.actionStart, t, dev.outcome, dev.action + 1);
  dev.actionStart = null;
  dev.outcome = 0;
  dev.lastSubmitting = null;
}

function applyDevice(dev: FoldedDevice, line: { t: number; p: string; a: number; s?: string | null }): void {
  const { t, p, a } = line;
  const kind = spanKind(p, line.s);
  if (kind !== dev.kind) {
    if (dev.kind >= 0) dev.spans.push(dev.kind, dev.since, t);
    dev.kind = kind;
    dev.since = t;
  }
  // An action lasts from the submission the service accepted to the end of its collection: it is open
  // while the device is inflight or collecting with the same action index.
  const inAction = p === "inflight" || p === "collecting";
  if (dev.actionStart !== null && (!inAction || a !== dev.action)) closeAction(dev, t);
  if (p === "submitting") dev.lastSubmitting = t;
  if (inAction) {
    if (dev.actionStart === null) {
      dev.actionStart = dev.lastSubmitting ?? t;
      dev.action = a;
    }
    dev.outcome = outcomeCode(line.s);
  }
  if (p === "done") {
    dev.end = t;
    dev.done = true;
  }
  dev.lastLine = Math.max(dev.lastLine, t);
}

/** null when the run has no timeline.jsonl (an older run) or it cannot be read. */
export function foldTimeline(file: string, deviceCount: number): FoldedTimeline | null {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | (fs.constants.O_NOFOLLOW ?? 0));
  } catch {
    return null;
  }
  const out: FoldedTimeline = {
    first: Number.POSITIVE_INFINITY,
    last: Number.NEGATIVE_INFINITY,
    processes: [],
    waits: [],
    calls: new Map(),
    devices: new Array(deviceCount),
  };
  const apply = (raw: string) => {
    if (raw === "") return;
    let line: TimelineLine;
    try {
      line = JSON.parse(raw) as TimelineLine;
    } catch {
      return; // a torn line (crash mid-append)
    }
    // JSON reads 1e999 as Infinity: no span may start or end there.
    if (typeof line?.t !== "number" || !Number.isFinite(line.t)) return;
    out.first = Math.min(out.first, line.t);
    out.last = Math.max(out.last, line.t);
    if ("proc" in line) out.processes.push([line.t, String(line.proc)]);
    else if ("w" in line) out.waits.push([line.t, String(line.w), Number(line.u)]);
    else if ("c" in line) {
      const bucket = out.calls.get(line.t) ?? {};
      for (const [kind, n] of Object.entries(line.c)) bucket[kind] = (bucket[kind] ?? 0) + (n ?? 0);
      out.calls.set(line.t, bucket);
    } else if ("d" in line && Number.isInteger(line.d) && line.d >= 0 && line.d < deviceCount) {
      let dev = out.devices[line.d];
      if (!dev) {
        dev = newDevice();
        out.devices[line.d] = dev;
      }
      applyDevice(dev, line);
    }
  };
  try {
    const buf = Buffer.alloc(CHUNK);
    const decoder = new StringDecoder("utf8");
    let rest = "";
    for (;;) {
      const n = fs.readSync(fd, buf, 0, CHUNK, null);
      if (n === 0) break;
      const text = rest + decoder.write(buf.subarray(0, n));
      const lines = text.split("\n");
      rest = lines.pop() ?? "";
      for (const l of lines) apply(l);
    }
    apply(rest);
  } catch {
    // Keep what was read.
  } finally {
    fs.closeSync(fd);
  }
  return out;
}

/**
 * Close what is still open: at the device's own end when the report knows it (its `done` line may be
 * in a tail a crash lost), else at `end` (devices still pending when the run stopped watching).
 */
export function closeOpen(
  folded: FoldedTimeline,
  end: number,
  endOf: (device: number) => number | null,
): void {
  folded.devices.forEach((dev, i) => {
    if (!dev) return;
    const until = dev.end ?? endOf(i) ?? end;
    if (dev.kind >= 0) {
      dev.spans.push(dev.kind, dev.since, Math.max(dev.since, until));
      dev.kind = -1;
    }
    closeAction(dev, Math.max(dev.actionStart ?? until, until));
    dev.end ??= until;
  });
}
