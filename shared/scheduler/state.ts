/**
 * The fleet's shared state: every device's record, the queues that index them by phase, and the few
 * run-wide counters the rooms (submit, poll, collect, cancel, deadlines) read and change. One instance per
 * scheduler; every change of a record goes through here so the journal always sees it.
 */
import type { MdeApi } from "../api/types.js";
import type { Clock } from "../clock.js";
import { emptyCustody, noteRequestor } from "../custody/index.js";
import type { MachineStatus, ReportError } from "../report/types.js";
import type { Journal, RunState } from "../state/journal.js";
import {
  type DevicePhase,
  type DeviceRecord,
  newDeviceRecord,
  type PlannedDevice,
  type RunPlanFile,
} from "../state/records.js";
import type { RunEvent } from "./events.js";
import type { MeteredApi } from "./metered-api.js";

export const MINUTE = 60_000;

export interface FleetSchedulerOptions {
  plan: RunPlanFile;
  records: DeviceRecord[];
  journal: Journal;
  runState: RunState;
  metered: MeteredApi;
  clock: Clock;
  outDir: string;
  folderOf: (device: number) => string;
  signal?: AbortSignal;
  onEvent?: (event: RunEvent) => void;
  detachAfterMs?: number;
  /** Devices still being planned: each batch joins the run as it arrives (run/planning.ts). */
  feed?: AsyncIterable<PlannedDevice[]>;
  /** This process's pointer in every Comment it sends (RunContext.commentPointer). */
  commentPointer?: string | null;
}

export class FleetState {
  readonly plan: RunPlanFile;
  readonly records: DeviceRecord[];
  readonly api: MdeApi;
  readonly clock: Clock;
  readonly journal: Journal;
  readonly signal: AbortSignal | undefined;

  /** Devices whose next action may be submitted, in turn order. May hold stale entries (checked on use). */
  readonly ready: number[] = [];
  /** Action id → device, for every action submitted and not yet seen final. */
  readonly inflight = new Map<string, number>();
  /** Devices between a journaled intent and a known submission outcome. */
  readonly submitting = new Set<number>();
  /** Devices waiting for another live response on them to end (ActiveRequestAlreadyExists). */
  readonly busy = new Set<number>();
  /** Devices whose final action's results are to be downloaded. */
  readonly collectQueue: number[] = [];

  doneCount = 0;
  heldCount = 0;
  /** Actions not submitted yet and result links not fetched yet: what the poll cadence plans around. */
  actionsLeft = 0;
  linksLeft = 0;
  /** Smoothed submission-to-final time of the run's actions. */
  avgActionMs = MINUTE;
  /** A run-wide failure (e.g. refused credentials) that stops submitting. */
  fatal: unknown = null;
  /** The service's `requestor` for our actions, learned from the first accepted one (narrows polls). */
  requestor: string | null = null;
  readonly canaryCount: number;

  private readonly tasks = new Set<Promise<void>>();
  private woken = false;
  private wakeCtl: AbortController | null = null;

  constructor(readonly o: FleetSchedulerOptions) {
    this.plan = o.plan;
    this.records = o.records;
    this.api = o.metered.api;
    this.clock = o.clock;
    this.journal = o.journal;
    this.signal = o.signal;
    // Not capped by the devices known now: with planning still running, more may come.
    this.canaryCount = o.plan.options.canary;
  }

  get aborted(): boolean {
    return this.signal?.aborted === true;
  }

  /** Devices planned while the run goes: appended to the plan and queued (held behind a canary). */
  addDevices(devices: PlannedDevice[]): void {
    const from = this.records.length;
    for (const d of devices) {
      const i = this.plan.devices.push(d) - 1;
      const r = newDeviceRecord(this.canaryCount > 0 && i >= this.canaryCount);
      this.records.push(r);
      this.journal.write(i, r);
    }
    this.index(() => {}, from);
    this.wake();
  }

  /** Put records (from `from` on) into the queue of their phase (a fresh run, or one resumed from its journal). */
  index(onSubmitting: (i: number) => void, from = 0): void {
    this.records.forEach((r, i) => {
      if (i < from) return;
      const device = this.plan.devices[i]!;
      if (r.phase !== "done") {
        const start =
          r.phase === "collecting" ? r.action + 1 : r.phase === "inflight" ? r.action + 1 : r.action;
        this.actionsLeft += Math.max(0, device.actions.length - start);
        for (let a = r.action; a < device.actions.length; a++)
          this.linksLeft += resultCount(device.actions[a]!);
      }
      switch (r.phase) {
        case "queued":
          this.ready.push(i);
          break;
        case "submitting":
          this.submitting.add(i);
          onSubmitting(i);
          break;
        case "inflight":
          if (r.actionId) this.inflight.set(r.actionId, i);
          else this.setPhase(i, "queued", true);
          break;
        case "busy":
          this.busy.add(i);
          break;
        case "collecting":
          this.collectQueue.push(i);
          break;
        case "done":
          this.doneCount++;
          break;
        case "held":
          this.heldCount++;
          break;
      }
    });
  }

  setPhase(i: number, phase: DevicePhase, durable = false): void {
    const r = this.records[i]!;
    if (r.phase === "held" && phase !== "held") this.heldCount--;
    r.phase = phase;
    if (phase === "queued") this.ready.push(i);
    this.journal.write(i, r, durable);
  }

  /** The device is done: its final status, journaled durably; nothing of it is tracked any more. */
  finish(i: number, status: MachineStatus, error: ReportError | null): void {
    const r = this.records[i]!;
    if (r.phase === "done") return;
    const device = this.plan.devices[i]!;
    if (r.actionId) this.inflight.delete(r.actionId);
    this.submitting.delete(i);
    this.busy.delete(i);
    // Actions of this device that will never be submitted no longer need budget.
    const nextAction =
      r.phase === "queued" || r.phase === "held" || r.phase === "busy" ? r.action : r.action + 1;
    for (let a = nextAction; a < device.actions.length; a++) {
      this.actionsLeft = Math.max(0, this.actionsLeft - 1);
      this.linksLeft = Math.max(0, this.linksLeft - resultCount(device.actions[a]!));
    }
    if (r.phase === "held") this.heldCount--;
    r.phase = "done";
    r.status = status;
    r.error = error;
    r.finishedAt = this.clock.now();
    r.busyUntil = null;
    this.journal.write(i, r, true);
    this.journal.maybeCompact(this.records.length, () => this.records, this.o.runState);
    this.doneCount++;
    this.emit({ type: "deviceDone", machineId: device.machineId, status });
  }

  /**
   * The service's `requestor` on one of the run's actions, for the chain of custody: a new value is
   * journaled at once (rare: one per app or user), so it survives a crash and a resume.
   */
  noteRequestor(requestor: string | null): void {
    const run = this.o.runState;
    run.custody ??= emptyCustody();
    if (noteRequestor(run.custody, requestor)) this.journal.writeRun(run);
  }

  /** Runbook steps carried by the device's current (or next) action. */
  currentSteps(i: number): number[] {
    const r = this.records[i]!;
    return this.plan.devices[i]!.actions[r.action]?.steps ?? [];
  }

  /** Live response sessions this run holds: actions not final, and submissions whose outcome is unknown. */
  sessionsInUse(): number {
    return this.inflight.size + this.submitting.size;
  }

  allDone(): boolean {
    return this.doneCount === this.records.length;
  }

  emit(event: RunEvent): void {
    try {
      this.o.onEvent?.(event);
    } catch {
      // A listener must not break the run.
    }
  }

  warn(message: string): void {
    this.emit({ type: "warning", message });
  }

  /** Background work of the loop (a request, a download): errors become warnings, the loop is woken after. */
  spawn(work: () => Promise<void>): void {
    const p = work()
      .catch((error: unknown) => {
        this.warn(`internal: ${errorText(error)}`);
      })
      .finally(() => {
        this.tasks.delete(p);
        this.wake();
      });
    this.tasks.add(p);
  }

  get busyWithTasks(): boolean {
    return this.tasks.size > 0;
  }

  async drainTasks(): Promise<void> {
    while (this.tasks.size > 0) await Promise.all([...this.tasks]);
  }

  wake(): void {
    this.woken = true;
    this.wakeCtl?.abort();
  }

  /** Sleep on the service clock until `at`, or until something wakes the loop. */
  async sleepUntil(at: number): Promise<void> {
    if (this.woken) {
      this.woken = false;
      return;
    }
    const ms = at - this.clock.now();
    // Always yield to the event loop: I/O callbacks (fsync, sockets) must run between two turns.
    if (ms <= 0) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      return;
    }
    const ctl = new AbortController();
    this.wakeCtl = ctl;
    try {
      await this.clock.sleep(ms, ctl.signal);
    } catch {
      // woken early
    } finally {
      this.wakeCtl = null;
      this.woken = false;
    }
  }
}

/** Result-bearing commands (RunScript, GetFile) in an action: one result link each. */
export function resultCount(action: { commands: { type: string }[] }): number {
  return action.commands.filter((c) => c.type !== "PutFile").length;
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
