/**
 * `timeline.jsonl`: an append-only history of a run for report.html — every device phase and action
 * status change, the run's waits (quota, session cap, 429s, busy devices) and the MDE API calls per
 * second, all on the run's (service) clock. The journal cannot give this: it is compacted, so only the
 * latest record per device survives.
 *
 * The file is informational, never read to resume a run: lines are buffered and appended without fsync
 * (at most TIMELINE_FLUSH_BYTES or TIMELINE_FLUSH_REAL_MS of them are held), so a crash may lose the
 * tail while the journal already has the devices further along (a resume never replays a finished
 * device); the page then draws what was lost from report.json's times and says so
 * (shared/report/html/device-row.ts). Memory stays bounded by the fleet size (the last state per
 * device, to drop repeated writes), never by the run's length. Any failure to write it switches the
 * recorder off: a run must never fail because its timeline could not be written.
 *
 * Lines (`t` is service ms since the epoch):
 * - `{"t","proc":"run"|"resume"|"cancel","v":1}` a process started appending (one per start, resume, cancel)
 * - `{"t","d","p","a","s"?,"id"?,"r"?}` device `d` (index in run.json `devices`) entered phase `p`
 *   (DevicePhase) with its action index `a`; `s` the action's service status while inflight/collecting,
 *   `id` its action id, `r` the device's final status once `done`
 * - `{"t","w","u"}` the run waited for reason `w` (RunEvent `waiting`) until `u`
 * - `{"t","c":{kind:n}}` MDE API calls by kind (CallKind) made in the second that starts at `t`
 */
import fs from "node:fs";
import path from "node:path";
import type { MachineActionStatus } from "../api/types.js";
import type { Clock } from "../clock.js";
import type { MachineStatus } from "../report/types.js";
import { resolveInside } from "../results/paths.js";
import type { CallKind } from "../scheduler/metered-api.js";
import type { JournalObserver } from "../state/journal.js";
import type { DevicePhase, DeviceRecord } from "../state/records.js";
import type { RunContext, RunEvent } from "./types.js";

export const TIMELINE_FILE = "timeline.jsonl";
export const TIMELINE_VERSION = 1;
/** Appends happen once this much is buffered, or this often (real time), whichever comes first. */
export const TIMELINE_FLUSH_BYTES = 64 * 1024;
export const TIMELINE_FLUSH_REAL_MS = 250;
/** Before the run's folder holds a run (planning), at most this much is held; planning is short. */
const MAX_UNATTACHED_BYTES = 1024 * 1024;

export type TimelineProcess = "run" | "resume" | "cancel";
export type WaitReason = Extract<RunEvent, { type: "waiting" }>["reason"];

export type TimelineLine =
  | { t: number; proc: TimelineProcess; v: number }
  | {
      t: number;
      d: number;
      p: DevicePhase;
      a: number;
      s?: MachineActionStatus | null;
      id?: string | null;
      r?: MachineStatus | null;
    }
  | { t: number; w: WaitReason; u: number }
  | { t: number; c: Partial<Record<CallKind, number>> };

export class TimelineRecorder implements JournalObserver {
  private fd: number | null = null;
  private buffer: string[] = [];
  private bufferBytes = 0;
  private timer: NodeJS.Timeout | null = null;
  private off = false;
  private closed = false;
  /** Last written state per device, so the journal's repeated writes of one state add no line. */
  private readonly last: string[] = [];
  private bucketAt = -1;
  private bucket: Partial<Record<CallKind, number>> = {};

  constructor(
    private readonly outDir: string,
    private readonly clock: Clock,
    proc: TimelineProcess,
  ) {
    this.push({ t: clock.now(), proc, v: TIMELINE_VERSION });
  }

  /** A context whose `onEvent` also records the run's waits (the caller's listener still sees everything). */
  observe(ctx: RunContext): RunContext {
    const listener = ctx.onEvent;
    return {
      ...ctx,
      onEvent: (event) => {
        this.event(event);
        listener?.(event);
      },
    };
  }

  /** Start appending once the folder holds the run (its journal exists): lines so far are kept. */
  attach(journal: { observer: JournalObserver | null }): void {
    journal.observer = this;
    this.guard(() => {
      const file = resolveInside(this.outDir, TIMELINE_FILE);
      // A crash mid-append leaves a line without its newline; the next one must not be glued to it.
      const torn = endsWithoutNewline(file);
      this.fd = fs.openSync(
        file,
        fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT | (fs.constants.O_NOFOLLOW ?? 0),
        0o644,
      );
      if (torn) fs.writeSync(this.fd, "\n");
      this.flush();
    });
  }

  /** JournalObserver: a device record was journaled. */
  record(device: number, r: DeviceRecord): void {
    if (this.off || this.closed) return;
    const active = r.phase === "inflight" || r.phase === "collecting";
    const s = active ? r.actionStatus : null;
    const key = `${r.phase}|${r.action}|${s ?? ""}|${r.status ?? ""}`;
    if (this.last[device] === key) return;
    this.last[device] = key;
    // The record's own times where it has them, so the timeline agrees exactly with report.json.
    const t =
      r.phase === "done" && r.finishedAt !== null
        ? r.finishedAt
        : r.phase === "submitting" && r.intentAt !== null
          ? r.intentAt
          : this.clock.now();
    this.push({
      t,
      d: device,
      p: r.phase,
      a: r.action,
      ...(active ? { s, id: r.actionId } : {}),
      ...(r.phase === "done" ? { r: r.status } : {}),
    });
  }

  /** An MDE API call of `kind` is being made now (after its budget let it through). */
  call = (kind: CallKind): void => {
    if (this.off || this.closed) return;
    const second = Math.floor(this.clock.now() / 1000) * 1000;
    if (second !== this.bucketAt) {
      this.endBucket();
      this.bucketAt = second;
    }
    this.bucket[kind] = (this.bucket[kind] ?? 0) + 1;
  };

  event(event: RunEvent): void {
    if (event.type !== "waiting" || this.off || this.closed) return;
    this.push({ t: this.clock.now(), w: event.reason, u: event.untilMs });
  }

  /** JournalObserver: the journal was closed (the run's process is done with the folder). */
  close(): void {
    if (this.closed) return;
    this.endBucket();
    this.flush();
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.fd !== null) {
      const fd = this.fd;
      this.fd = null;
      this.guard(() => fs.closeSync(fd));
    }
    this.buffer = [];
  }

  private endBucket(): void {
    if (this.bucketAt < 0) return;
    this.push({ t: this.bucketAt, c: this.bucket });
    this.bucketAt = -1;
    this.bucket = {};
  }

  private push(line: TimelineLine): void {
    if (this.off) return;
    const text = `${JSON.stringify(line)}\n`;
    this.buffer.push(text);
    this.bufferBytes += text.length;
    if (this.fd === null) {
      // Not attached yet (still planning): drop the oldest rather than grow without bound.
      while (this.bufferBytes > MAX_UNATTACHED_BYTES && this.buffer.length > 1) {
        this.bufferBytes -= this.buffer.shift()!.length;
      }
      return;
    }
    if (this.bufferBytes >= TIMELINE_FLUSH_BYTES) this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.flush();
      }, TIMELINE_FLUSH_REAL_MS);
      this.timer.unref();
    }
  }

  private flush(): void {
    if (this.fd === null || this.buffer.length === 0) return;
    const text = this.buffer.join("");
    this.buffer = [];
    this.bufferBytes = 0;
    const fd = this.fd;
    this.guard(() => fs.writeSync(fd, text));
  }

  private guard(body: () => void): void {
    try {
      body();
    } catch {
      // Informational only: stop recording rather than disturb the run.
      this.off = true;
      this.buffer = [];
      this.bufferBytes = 0;
    }
  }
}

function endsWithoutNewline(file: string): boolean {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | (fs.constants.O_NOFOLLOW ?? 0));
  } catch {
    return false;
  }
  try {
    const size = fs.fstatSync(fd).size;
    if (size === 0) return false;
    const last = Buffer.alloc(1);
    fs.readSync(fd, last, 0, 1, size - 1);
    return last[0] !== 10;
  } finally {
    fs.closeSync(fd);
  }
}

/** `timeline.jsonl` of a run folder, if it has one. */
export function timelinePath(outDir: string): string {
  return resolveInside(path.resolve(outDir), TIMELINE_FILE);
}
