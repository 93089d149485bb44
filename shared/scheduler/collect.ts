/**
 * Collection: once an action is final, download every result it has (a few devices at a time), record
 * each step's outcome, then move the device on to its next action or to its final status.
 */
import { collectResult } from "../results/collect.js";
import type { StepRecord } from "../state/records.js";
import { actionOutcome } from "./outcome.js";
import { errorText, type FleetState } from "./state.js";

/** The carrying action's submission (service creation time, else our intent time), for custody. */
function submittedAt(ms: number | null | undefined): string | null {
  return typeof ms === "number" && Number.isFinite(ms) ? new Date(ms).toISOString() : null;
}

/** Simultaneous result downloads. */
const COLLECT_CONCURRENCY = 8;

export class Collector {
  /** Devices being downloaded right now. */
  active = 0;

  constructor(private readonly s: FleetState) {}

  /** Start downloads for queued devices, up to the concurrency. */
  start(): void {
    const s = this.s;
    while (this.active < COLLECT_CONCURRENCY && s.collectQueue.length > 0 && !s.aborted) {
      const i = s.collectQueue.shift()!;
      this.active++;
      s.spawn(async () => {
        try {
          await this.collect(i);
        } finally {
          this.active--;
        }
      });
    }
  }

  get idle(): boolean {
    return this.active === 0 && this.s.collectQueue.length === 0;
  }

  /** Every step of the device's final action; steps collected before a crash are kept as they are. */
  async collect(i: number, signal: AbortSignal | undefined = this.s.signal): Promise<void> {
    const s = this.s;
    const r = s.records[i]!;
    const device = s.plan.devices[i]!;
    const action = device.actions[r.action]!;
    const final = r.final;
    const actionId = r.actionId;
    if (!final || !actionId) return;
    for (let idx = 0; idx < action.steps.length; idx++) {
      const stepNo = action.steps[idx]!;
      if (r.steps[String(stepNo)]) continue;
      const step = s.plan.steps[stepNo - 1]!;
      const cmd = final.commands.find((c) => c.index === idx);
      const rec: StepRecord = {
        st: "notRun",
        a: actionId,
        i: idx,
        ec: null,
        f: null,
        sha: null,
        b: null,
        so: null,
        se: null,
        soSha: null,
        seSha: null,
        t0: cmd?.startTime ?? null,
        t1: cmd?.endTime ?? null,
        ts: submittedAt(r.createdAt ?? r.intentAt),
        td: null,
        err: cmd?.errors ?? [],
      };
      const hasResult = step.type !== "PutFile";
      if (cmd?.status === "Completed") {
        rec.st = "succeeded";
        if (hasResult) {
          try {
            const got = await collectResult({
              api: s.api,
              clock: s.clock,
              outDir: s.o.outDir,
              deviceFolder: s.o.folderOf(i),
              actionId,
              index: idx,
              step: stepNo,
              kind:
                step.type === "GetFile"
                  ? { type: "GetFile", path: step.path }
                  : { type: "RunScript", scriptName: step.scriptName },
              ...(signal ? { signal } : {}),
            });
            rec.f = got.file;
            rec.sha = got.sha256;
            rec.b = got.bytes;
            rec.ec = got.exitCode;
            rec.so = got.stdoutFile;
            rec.se = got.stderrFile;
            rec.soSha = got.stdoutSha256;
            rec.seSha = got.stderrSha256;
            rec.td = new Date(s.clock.now()).toISOString();
            if (got.exitCode !== null && got.exitCode !== 0) {
              rec.st = "failed";
              rec.err = [...rec.err, `script exited with code ${got.exitCode}`];
            }
            s.emit({
              type: "collected",
              machineId: device.machineId,
              step: stepNo,
              file: got.file,
              bytes: got.bytes,
            });
          } catch (error) {
            if (signal?.aborted) return;
            rec.st = "failed";
            rec.err = [...rec.err, `result could not be collected: ${errorText(error)}`];
          }
        }
      } else if (cmd?.status === "Failed") {
        rec.st = "failed";
      } else {
        rec.st = final.status === "Cancelled" || final.status === "TimeOut" ? "cancelled" : "notRun";
      }
      if (hasResult) s.linksLeft = Math.max(0, s.linksLeft - 1);
      r.steps[String(stepNo)] = rec;
      s.journal.write(i, r);
    }
    this.afterAction(i);
    s.wake();
  }

  /** The current action is final and collected: run the device's next action, or finish the device. */
  private afterAction(i: number): void {
    const s = this.s;
    const r = s.records[i]!;
    const status = r.final!.status;
    const actions = s.plan.devices[i]!.actions;
    const outcome = actionOutcome({
      status,
      record: r,
      actionSteps: actions[r.action]!.steps,
      hasNext: r.action + 1 < actions.length,
      timeoutMs: s.plan.options.timeoutMs,
    });
    r.final = null;
    if (outcome.warning) {
      r.warnings = [...(r.warnings ?? []), outcome.warning];
      s.warn(`${s.plan.devices[i]!.computerDnsName ?? s.plan.devices[i]!.machineId}: ${outcome.warning}`);
    }
    if (outcome.next) {
      r.action++;
      r.actionId = null;
      r.actionStatus = null;
      r.intentAt = null;
      r.createdAt = null;
      s.setPhase(i, "queued");
      return;
    }
    s.finish(i, outcome.status, outcome.error);
  }
}
