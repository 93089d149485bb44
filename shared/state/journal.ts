/**
 * The run's crash-safe state in its output folder.
 *
 * - `run.json`: the plan, written once (atomic write + rename + fsync) before anything is submitted.
 * - `plan.jsonl`: append-only; each batch of resolved devices (with the target values it settled) is
 *   fsynced before any of its devices is submitted, then `{"complete":true}` when resolution ends. Replay
 *   appends the batches to run.json's (then empty) device list, so a device's index never changes.
 * - `journal.jsonl`: append-only; every change of a device record is one line `{"s":seq,"d":i,"r":{...}}`
 *   (the whole small record, so replay is "last line per device wins"). Lines around a submission are
 *   fsynced before the call (intent) and after it (action id), so a crash at any point leaves either
 *   no intent (nothing was sent) or an intent that `resumeRun` resolves by looking the action up by tag.
 * - `journal.snapshot.json`: compaction. When the journal grows past a few lines per device, every
 *   record is written to the snapshot (atomically, with the last sequence number it covers) and the
 *   journal restarts empty. A crash between the two is harmless: replay skips lines the snapshot covers.
 * A torn last line (crash mid-append) is ignored on replay.
 */
import fs from "node:fs";
import path from "node:path";
import type { CustodyState } from "../custody/types.js";
import { InputError } from "../errors.js";
import { shareActions } from "../plan/pack.js";
import { jsonChunks } from "../results/json-chunks.js";
import { resolveInside } from "../results/paths.js";
import { ensureOutputRoot, fsyncDir, writeFileAtomicSync } from "../results/safe-fs.js";
import type { DeviceRecord, PlanLine, RunPlanFile } from "./records.js";

export const PLAN_FILE = "run.json";
export const PLAN_BATCHES_FILE = "plan.jsonl";
export const JOURNAL_FILE = "journal.jsonl";
export const SNAPSHOT_FILE = "journal.snapshot.json";

/** Run-level facts that must survive a crash (e.g. that the run was cancelled). */
export interface RunState {
  cancelled: boolean;
  finishedAt: string | null;
  /** API calls by kind, summed over every process that worked on the run (start, resumes, cancel). */
  apiCalls: Record<string, number>;
  /** Who worked on the run (one session per process) and the service's requestors; absent before v3 reports. */
  custody?: CustodyState;
}

interface Snapshot {
  seq: number;
  run: RunState;
  records: (DeviceRecord | null)[];
}

type JournalLine = { s: number; d: number; r: DeviceRecord } | { s: number; run: RunState };

export interface LoadedRun {
  plan: RunPlanFile;
  run: RunState;
  /** Indexed like `plan.devices`; null for a device with no line yet. */
  records: (DeviceRecord | null)[];
}

/** Sees every device record written and the journal's close (the timeline recorder); must not throw. */
export interface JournalObserver {
  record(device: number, record: DeviceRecord): void;
  close(): void;
}

export class Journal {
  observer: JournalObserver | null = null;
  private fd: number;
  private seq: number;
  private linesSinceCompaction: number;
  private readonly journalPath: string;
  private readonly snapshotPath: string;

  private constructor(outDir: string, seq: number, lines: number) {
    this.journalPath = resolveInside(outDir, JOURNAL_FILE);
    this.snapshotPath = resolveInside(outDir, SNAPSHOT_FILE);
    this.fd = openAppend(this.journalPath);
    this.seq = seq;
    this.linesSinceCompaction = lines;
  }

  /** Start a new run's state in `outDir`; refuses a folder that already holds a run. */
  static create(outDir: string, plan: RunPlanFile): Journal {
    const root = ensureOutputRoot(outDir);
    const planPath = resolveInside(root, PLAN_FILE);
    if (fs.existsSync(planPath)) {
      throw new InputError(
        "outDir",
        `${root} already holds a run (${PLAN_FILE}); resume it with resumeRun / \`mde-lr resume\`, or choose an empty folder`,
      );
    }
    writeFileAtomicSync(planPath, JSON.stringify(plan));
    return new Journal(root, 0, 0);
  }

  /** Open an existing run's state for resuming (replays snapshot + journal). */
  static open(outDir: string): { journal: Journal; loaded: LoadedRun } {
    const loaded = Journal.load(outDir);
    const root = path.resolve(outDir);
    const { seq, lines } = scan(root);
    // Batches appended after a resume must not sit behind a torn line (replay stops there).
    cutTornTail(resolveInside(root, PLAN_BATCHES_FILE));
    return { journal: new Journal(root, seq, lines), loaded };
  }

  /** Read a run's state without opening it for writing. */
  static load(outDir: string): LoadedRun {
    const root = path.resolve(outDir);
    const planPath = resolveInside(root, PLAN_FILE);
    if (!fs.existsSync(planPath)) {
      throw new InputError(
        "outDir",
        `${root} holds no run (${PLAN_FILE} is missing); pass the run's output folder`,
      );
    }
    const plan = loadPlan(root);
    shareActions(plan.devices);
    const records: (DeviceRecord | null)[] = plan.devices.map(() => null);
    let run: RunState = { cancelled: false, finishedAt: null, apiCalls: {} };
    let covered = 0;
    const snapshotPath = resolveInside(root, SNAPSHOT_FILE);
    if (fs.existsSync(snapshotPath)) {
      const snap = JSON.parse(fs.readFileSync(snapshotPath, "utf8")) as Snapshot;
      covered = snap.seq;
      run = snap.run;
      snap.records.forEach((r, i) => {
        if (i < records.length) records[i] = r;
      });
    }
    for (const line of readLines(resolveInside(root, JOURNAL_FILE))) {
      if (line.s <= covered) continue;
      if ("run" in line) run = line.run;
      else if (line.d >= 0 && line.d < records.length) records[line.d] = line.r;
    }
    return { plan, run, records };
  }

  /**
   * Append a batch of planning (or its end) to plan.jsonl; resolves once it is on disk, which must be
   * before any device of the batch is submitted.
   */
  async appendPlan(line: PlanLine): Promise<void> {
    this.planFd ??= openAppend(this.planPath);
    fs.writeSync(this.planFd, `${JSON.stringify(line)}\n`);
    const fd = this.planFd;
    await new Promise<void>((resolve, reject) => fs.fdatasync(fd, (e) => (e ? reject(e) : resolve())));
  }

  private planFd: number | null = null;
  private get planPath(): string {
    return resolveInside(path.dirname(this.journalPath), PLAN_BATCHES_FILE);
  }

  /**
   * Append a device's record. The write itself is synchronous (it is in the file before the next
   * statement runs, so journal order is program order); `durable` also starts an fdatasync in the
   * background. Callers that must not go on before the line is on disk (a submission intent) await
   * `sync()`, which never blocks the event loop: a blocking fsync per line would stall every timer
   * of a scaled-clock run and every other device's work.
   */
  write(device: number, record: DeviceRecord, durable = false): void {
    this.append({ s: ++this.seq, d: device, r: record }, false);
    this.observer?.record(device, record);
    if (durable) void this.sync().catch(() => {});
  }

  /** Resolves once everything appended so far is on disk (coalesces concurrent callers). */
  sync(): Promise<void> {
    const target = this.seq;
    if (this.syncedSeq >= target) return Promise.resolve();
    if (!this.syncing) this.syncing = this.runSync();
    return this.syncing.then(() => (this.syncedSeq >= target ? undefined : this.sync()));
  }

  private syncedSeq = 0;
  private syncing: Promise<void> | null = null;

  private async runSync(): Promise<void> {
    const upTo = this.seq;
    const fd = this.fd;
    try {
      await new Promise<void>((resolve, reject) => fs.fdatasync(fd, (e) => (e ? reject(e) : resolve())));
      this.syncedSeq = Math.max(this.syncedSeq, upTo);
    } finally {
      this.syncing = null;
    }
  }

  writeRun(run: RunState): void {
    this.append({ s: ++this.seq, run }, true);
    this.syncedSeq = this.seq;
  }

  /** Compact when the journal holds more than `factor` lines per device (plus slack). */
  maybeCompact(deviceCount: number, records: () => (DeviceRecord | null)[], run: RunState, factor = 4): void {
    if (this.linesSinceCompaction < deviceCount * factor + 256) return;
    this.compact(records(), run);
  }

  compact(records: (DeviceRecord | null)[], run: RunState): void {
    const snap: Snapshot = { seq: this.seq, run, records };
    // The snapshot is fsynced by writeFileAtomicSync, so everything up to `seq` is durable.
    writeFileAtomicSync(this.snapshotPath, jsonChunks(snap, 0, 2));
    this.syncedSeq = Math.max(this.syncedSeq, this.seq);
    // An fdatasync in flight on the old fd would fail once it is closed: keep the old fd open until it ends.
    const old = this.fd;
    if (this.syncing) void this.syncing.finally(() => fs.closeSync(old)).catch(() => {});
    else fs.closeSync(old);
    // Restart the journal empty via rename so a crash never leaves it half-truncated.
    writeFileAtomicSync(this.journalPath, "");
    this.fd = openAppend(this.journalPath);
    this.linesSinceCompaction = 0;
  }

  close(): void {
    this.observer?.close();
    if (this.planFd !== null) {
      fs.closeSync(this.planFd);
      this.planFd = null;
    }
    const fd = this.fd;
    fs.fsyncSync(fd);
    this.syncedSeq = this.seq;
    if (this.syncing) void this.syncing.finally(() => fs.closeSync(fd)).catch(() => {});
    else fs.closeSync(fd);
  }

  private append(line: JournalLine, durable: boolean): void {
    fs.writeSync(this.fd, `${JSON.stringify(line)}\n`);
    if (durable) fs.fdatasyncSync(this.fd);
    this.linesSinceCompaction++;
  }
}

function openAppend(file: string): number {
  const existed = fs.existsSync(file);
  const fd = fs.openSync(
    file,
    fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT | (fs.constants.O_NOFOLLOW ?? 0),
    0o644,
  );
  if (!existed) fsyncDir(path.dirname(file));
  return fd;
}

function* readLines(file: string): Generator<JournalLine> {
  if (!fs.existsSync(file)) return;
  const text = fs.readFileSync(file, "utf8");
  const parts = text.split("\n");
  // The last part has no newline after it: either "" or a torn line.
  parts.pop();
  for (const raw of parts) {
    if (raw === "") continue;
    try {
      yield JSON.parse(raw) as JournalLine;
    } catch {
      // A torn line from a crash mid-append: everything after it is unreliable too.
      return;
    }
  }
}

/**
 * Sequence number and line count of an existing journal; a torn tail (crash mid-append) is cut off
 * so lines appended after a resume are never hidden behind it.
 */
function scan(root: string): { seq: number; lines: number } {
  let seq = 0;
  const lines = 0;
  const snapshotPath = resolveInside(root, SNAPSHOT_FILE);
  if (fs.existsSync(snapshotPath)) {
    seq = (JSON.parse(fs.readFileSync(snapshotPath, "utf8")) as Snapshot).seq;
  }
  const file = resolveInside(root, JOURNAL_FILE);
  if (!fs.existsSync(file)) return { seq, lines };
  const buf = fs.readFileSync(file);
  const whole = wholeLines(buf);
  for (const line of whole.lines as JournalLine[]) seq = Math.max(seq, line.s);
  if (whole.good < buf.length) fs.truncateSync(file, whole.good);
  return { seq, lines: lines + whole.lines.length };
}

/** A run's plan (run.json with every batch of plan.jsonl), read only. Throws when run.json is unreadable. */
export function loadPlan(outDir: string): RunPlanFile {
  const root = path.resolve(outDir);
  const plan = JSON.parse(fs.readFileSync(resolveInside(root, PLAN_FILE), "utf8")) as RunPlanFile;
  mergePlanBatches(plan, resolveInside(root, PLAN_BATCHES_FILE));
  return plan;
}

/**
 * Replays plan.jsonl onto run.json's plan. A torn last line (crash mid-append) is dropped: its devices
 * were never submitted (the line is fsynced first) and its target values are resolved again on resume.
 */
function mergePlanBatches(plan: RunPlanFile, file: string): void {
  if (plan.version === 1 || !fs.existsSync(file)) {
    plan.planComplete = plan.version === 1 || plan.planComplete === true;
    plan.covered ??= [];
    return;
  }
  const covered: string[] = [...(plan.covered ?? [])];
  for (const raw of fs.readFileSync(file, "utf8").split("\n")) {
    if (raw === "") continue;
    let line: PlanLine;
    try {
      line = JSON.parse(raw) as PlanLine;
    } catch {
      break;
    }
    if ("complete" in line) {
      plan.planComplete = true;
      continue;
    }
    covered.push(...line.covered);
    plan.devices.push(...line.devices);
    plan.skipped.push(...line.skipped);
    plan.unresolved.push(...line.unresolved);
    plan.warnings.push(...line.warnings);
  }
  plan.covered = covered;
  plan.planComplete ??= false;
}

/** Cut a torn last line (no newline, or not JSON) off an append-only JSON-lines file. */
function cutTornTail(file: string): void {
  if (!fs.existsSync(file)) return;
  const buf = fs.readFileSync(file);
  const { good } = wholeLines(buf);
  if (good < buf.length) fs.truncateSync(file, good);
}

/** The complete, parseable JSON lines at the start of `buf`, and the byte length they cover. */
function wholeLines(buf: Buffer): { lines: unknown[]; good: number } {
  const lines: unknown[] = [];
  let good = 0;
  let start = 0;
  while (start < buf.length) {
    const end = buf.indexOf(10, start);
    if (end < 0) break;
    try {
      lines.push(JSON.parse(buf.subarray(start, end).toString("utf8")));
    } catch {
      break;
    }
    good = end + 1;
    start = end + 1;
  }
  return { lines, good };
}
