/**
 * The orchestrator's entry points for the front ends (CLI, GitHub Action, Pulumi provider):
 * plan → schedule → collect → report, resumable from the output folder alone.
 */
import fs from "node:fs";
import { type Clock, systemClock } from "../clock.js";
import type { Limits } from "../config/limits.js";
import { custodyReport, emptyCustody, runbookCustody } from "../custody/index.js";
import { CancelledError, InputError, MdeLrError } from "../errors.js";
import { QuotaAccount } from "../http/quota.js";
import type { PlanBatch } from "../plan/batches.js";
import { explainServiceError } from "../plan/explain.js";
import { needsLibrary, syncLibrary } from "../plan/library.js";
import { failIneligible } from "../plan/preflight.js";
import { redactError } from "../redact.js";
import { buildReport, NOT_LOOKED_UP } from "../report/build.js";
import { readReportFile, writeReportFiles } from "../report/io.js";
import type { ReportError, RunReport } from "../report/types.js";
import { type ManifestEntry, writeManifest } from "../results/manifest.js";
import { deviceFolderName, resolveInside } from "../results/paths.js";
import { ensureOutputRoot } from "../results/safe-fs.js";
import { overrideTargets } from "../runbook/normalize.js";
import { type FleetOutcome, FleetScheduler } from "../scheduler/fleet.js";
import { type MeteredApi, meterApi } from "../scheduler/metered-api.js";
import { Journal, PLAN_FILE, type RunState } from "../state/journal.js";
import {
  type DeviceRecord,
  newDeviceRecord,
  type PlannedDevice,
  type RunPlanFile,
} from "../state/records.js";
import { newRunId } from "../state/tag.js";
import { beginSession } from "./custody.js";
import { planningFeed, planSource, remainingTargets } from "./planning.js";
import { TimelineRecorder } from "./timeline.js";
import type { RunContext, RunEvent, StartRunOptions } from "./types.js";

export { REPORT_FILE, SUMMARY_FILE } from "../report/io.js";
export { MANIFEST_FILE } from "../results/manifest.js";
export { JOURNAL_FILE, PLAN_FILE } from "../state/journal.js";
export { actionComment, hasRunTag, runTag } from "../state/tag.js";
export type { RunContext, RunEvent, StartRunOptions } from "./types.js";

export interface ResumeRunOptions {
  /** As in StartRunOptions: leave again (report `pending`) after this much service time. */
  detachAfterMs?: number;
}

function emitter(ctx: RunContext): (event: RunEvent) => void {
  return (event) => {
    try {
      ctx.onEvent?.(event);
    } catch {
      // Progress listeners must not break a run.
    }
  };
}

/**
 * The run's view of the API: counted by kind, and spending from one quota account — the client's own,
 * configured here for this run (the stated limits, up or down, over the client's) — so planning,
 * submissions, polls, links and cancels all count against the same windows.
 */
function meter(
  ctx: RunContext,
  clock: Clock,
  stated: Partial<Limits>,
  timeline: TimelineRecorder,
): { metered: MeteredApi; limits: Limits } {
  const emit = emitter(ctx);
  const quota = ctx.api.quota ?? new QuotaAccount(clock);
  const limits = quota.configure(stated);
  const metered = meterApi(
    ctx.api,
    quota,
    (reason, untilMs) => emit({ type: "waiting", reason, untilMs }),
    timeline.call,
  );
  return { metered, limits: { ...limits } };
}

function planLimits(o: RunPlanFile["options"]): Limits {
  return {
    submitPerMinute: o.submitPerMinute,
    callsPerMinute: o.callsPerMinute,
    callsPerHour: o.callsPerHour,
  };
}

function folderOf(plan: RunPlanFile): (device: number) => string {
  return (i) => {
    const d = plan.devices[i]!;
    return deviceFolderName(d.machineId, d.computerDnsName);
  };
}

/** Start a run: plan (targets, preflight, library), submit within every quota, collect, report. */
export async function startRun(ctx: RunContext, options: StartRunOptions): Promise<RunReport> {
  const clock = ctx.clock ?? systemClock;
  const runbook = options.machineIds?.length
    ? overrideTargets(options.runbook, options.machineIds)
    : options.runbook;
  const outDir = ensureOutputRoot(options.outDir);
  const timeline = new TimelineRecorder(outDir, clock, "run");
  ctx = timeline.observe(ctx);
  if (fs.existsSync(resolveInside(outDir, PLAN_FILE))) {
    throw new InputError(
      "outDir",
      `${outDir} already holds a run; resume it (resumeRun / \`mde-lr resume\`) or choose an empty folder`,
    );
  }
  if (options.detachAfterMs !== undefined && !(options.detachAfterMs >= 0)) {
    throw new InputError("detachAfterMs", "must be a non-negative number of milliseconds");
  }
  const o = runbook.options;
  const { metered, limits } = meter(ctx, clock, o.limits, timeline);
  const planOptions: RunPlanFile["options"] = {
    timeoutMs: o.timeoutMs,
    pollIntervalMs: o.pollIntervalMs,
    onActiveSession: o.onActiveSession,
    maxConcurrentSessions: o.maxConcurrentSessions,
    canary: o.canary,
    ...limits,
  };
  planOptions.maxDevices = o.maxDevices;
  planOptions.onUnresolved = o.onUnresolved;
  const signal = ctx.signal ? { signal: ctx.signal } : {};
  const startedAtMs = clock.now();
  const planFile: RunPlanFile = {
    version: 2,
    runId: newRunId(startedAtMs),
    runbookName: runbook.name,
    comment: runbook.comment,
    startedAt: new Date(startedAtMs).toISOString(),
    startedAtMs,
    steps: runbook.commands,
    options: planOptions,
    targets: runbook.targets,
    devices: [],
    skipped: [],
    unresolved: [],
    warnings: [],
    custody: { runbook: runbookCustody(runbook) },
  };

  // The first batch is resolved before the run folder exists: bad targets (a refused filter, a fan-out
  // past maxDevices) fail here, with nothing written or submitted. With onIneligible: fail every batch
  // is, since one ineligible device anywhere must stop the run before anything is submitted.
  const source = planSource(metered.api, planFile, ctx.signal);
  const head: PlanBatch[] = [];
  for (;;) {
    const next = await source.next();
    if (next.done) break;
    head.push(next.value);
    if (o.onIneligible !== "fail") break;
  }
  if (o.onIneligible === "fail") failIneligible(head.flatMap((b) => b.skipped));
  if (needsLibrary(runbook)) {
    await syncLibrary(metered.api, runbook.library, { steps: runbook.commands, ...signal });
  }
  if (ctx.signal?.aborted) throw new CancelledError("the run was cancelled before anything was submitted");

  const journal = Journal.create(outDir, planFile);
  timeline.attach(journal);
  emitter(ctx)({ type: "started", runId: planFile.runId });
  const runState: RunState = { cancelled: false, finishedAt: null, apiCalls: {}, custody: emptyCustody() };
  beginSession(journal, runState, "start", ctx, clock, startedAtMs);
  const feed = planningFeed({ plan: planFile, journal, emit: emitter(ctx) }, head, source);
  return drive(
    ctx,
    clock,
    outDir,
    planFile,
    [],
    runState,
    journal,
    metered,
    options.detachAfterMs,
    "run",
    feed,
  );
}

/** Re-attach to a run from its output folder (after a crash, a detach or a kill) and finish it. */
export async function resumeRun(
  ctx: RunContext,
  outDir: string,
  options: ResumeRunOptions = {},
): Promise<RunReport> {
  const clock = ctx.clock ?? systemClock;
  const { journal, loaded } = Journal.open(outDir);
  const timeline = new TimelineRecorder(outDir, clock, "resume");
  ctx = timeline.observe(ctx);
  timeline.attach(journal);
  beginSession(journal, loaded.run, "resume", ctx, clock);
  const records = fillRecords(loaded.plan, loaded.records);
  const { metered } = meter(ctx, clock, planLimits(loaded.plan.options), timeline);
  if (loaded.run.cancelled || (loaded.plan.planComplete && records.every((r) => r.phase === "done"))) {
    return finalize(ctx, clock, outDir, loaded.plan, records, loaded.run, journal, metered, {
      cancelled: loaded.run.cancelled,
      detached: false,
      fatal: null,
    });
  }
  // Stopped mid-planning: resolve the target values not settled yet, as the run goes on.
  const feed = loaded.plan.planComplete
    ? undefined
    : planningFeed(
        { plan: loaded.plan, journal, emit: emitter(ctx) },
        [],
        planSource(metered.api, loaded.plan, ctx.signal),
      );
  return drive(
    ctx,
    clock,
    outDir,
    loaded.plan,
    records,
    loaded.run,
    journal,
    metered,
    options.detachAfterMs,
    "run",
    feed,
  );
}

/** Cancel this run's unfinished actions (from its journal; nobody else's), then write the report. */
export async function cancelRun(ctx: RunContext, outDir: string): Promise<RunReport> {
  const clock = ctx.clock ?? systemClock;
  const { journal, loaded } = Journal.open(outDir);
  const timeline = new TimelineRecorder(outDir, clock, "cancel");
  ctx = timeline.observe(ctx);
  timeline.attach(journal);
  beginSession(journal, loaded.run, "cancel", ctx, clock);
  const records = fillRecords(loaded.plan, loaded.records);
  const { metered } = meter(ctx, clock, planLimits(loaded.plan.options), timeline);
  // Cancelling must not be cut short by the caller's own (possibly already aborted) signal.
  const { signal: _ignored, ...rest } = ctx;
  return drive(rest, clock, outDir, loaded.plan, records, loaded.run, journal, metered, undefined, "cancel");
}

/** The report a run last wrote in `outDir`. */
export async function readReport(outDir: string): Promise<RunReport> {
  return readReportFile(outDir);
}

function fillRecords(plan: RunPlanFile, loaded: (DeviceRecord | null)[]): DeviceRecord[] {
  const canary = plan.options.canary;
  return plan.devices.map((_, i) => loaded[i] ?? newDeviceRecord(canary > 0 && i >= canary));
}

/** Target values planning never reached (the run stopped, or was cancelled, first): they ran on nothing. */
function notLookedUp(plan: RunPlanFile, cancelled: boolean): RunPlanFile["unresolved"] {
  if (plan.planComplete !== false) return [];
  const listed = new Set(plan.unresolved.map((u) => `${u.selector}:${u.value}`));
  return remainingTargets(plan)
    .filter((t) => !listed.has(`${t.selector}:${t.value}`))
    .map((t) => ({
      ...t,
      error: cancelled
        ? { code: "Cancelled", message: "the run was cancelled before this target was looked up" }
        : { code: NOT_LOOKED_UP, message: "not looked up yet: resume the run to look it up" },
    }));
}

async function drive(
  ctx: RunContext,
  clock: Clock,
  outDir: string,
  plan: RunPlanFile,
  records: DeviceRecord[],
  runState: RunState,
  journal: Journal,
  metered: MeteredApi,
  detachAfterMs: number | undefined,
  mode: "run" | "cancel",
  feed?: AsyncIterable<PlannedDevice[]>,
): Promise<RunReport> {
  const scheduler = new FleetScheduler({
    ...(feed ? { feed } : {}),
    plan,
    records,
    journal,
    runState,
    metered,
    clock,
    outDir,
    folderOf: folderOf(plan),
    ...(ctx.signal ? { signal: ctx.signal } : {}),
    ...(ctx.onEvent ? { onEvent: emitter(ctx) } : {}),
    ...(detachAfterMs !== undefined ? { detachAfterMs } : {}),
    commentPointer: ctx.commentPointer ?? null,
  });
  let outcome: FleetOutcome;
  try {
    if (mode === "cancel") {
      await scheduler.abortAll();
      // A run that had already finished stays as it was.
      outcome = { cancelled: runState.cancelled, detached: false, fatal: null };
    } else {
      outcome = await scheduler.run();
    }
  } catch (error) {
    // The run boundary: whatever stopped the run (even an error nobody expected), leave a readable report
    // that says so and a journal that resumes, then surface the failure.
    try {
      finalize(ctx, clock, outDir, plan, records, runState, journal, metered, {
        cancelled: false,
        detached: true,
        fatal: error,
      });
    } catch {
      // Reporting failed too: the original error is the one to surface; the journal lines are on disk.
    }
    throw error;
  }
  const report = finalize(ctx, clock, outDir, plan, records, runState, journal, metered, outcome);
  if (outcome.fatal) throw outcome.fatal;
  return report;
}

function finalize(
  ctx: RunContext,
  clock: Clock,
  outDir: string,
  plan: RunPlanFile,
  records: DeviceRecord[],
  runState: RunState,
  journal: Journal,
  metered: MeteredApi,
  outcome: FleetOutcome,
): RunReport {
  const around = ctx.aroundReport ?? (<T>(write: () => T) => write());
  const report = around(writeEnd);
  emitter(ctx)({ type: "finished", status: report.status });
  return report;

  /** The end of a run on disk: run state, journal snapshot, report.json, summary.md, manifest, report.html. */
  function writeEnd(): RunReport {
    for (const [kind, n] of Object.entries(metered.counts)) {
      runState.apiCalls[kind] = (runState.apiCalls[kind] ?? 0) + n;
      metered.counts[kind as keyof typeof metered.counts] = 0;
    }
    const finished = !outcome.detached && records.every((r) => r.phase === "done");
    runState.finishedAt = finished ? (runState.finishedAt ?? new Date(clock.now()).toISOString()) : null;
    if (outcome.cancelled) runState.cancelled = true;
    journal.writeRun(runState);
    journal.compact(records, runState);
    journal.close();

    const folder = folderOf(plan);
    const report = buildReport({
      plan,
      records,
      outDir,
      cancelled: runState.cancelled,
      finishedAt: runState.finishedAt,
      folderOf: folder,
      apiCalls: { ...runState.apiCalls },
      unresolved: [...plan.unresolved, ...notLookedUp(plan, runState.cancelled)],
      custody: custodyReport(plan.custody?.runbook, runState.custody),
    });
    if (outcome.fatal) report.error = runError(outcome.fatal, outDir);
    writeManifest(outDir, manifestEntries(records));
    writeReportFiles(outDir, report, plan);
    return report;
  }
}

/** The run-level error report.json carries when something stopped the whole run. */
function runError(error: unknown, outDir: string): ReportError {
  if (error instanceof MdeLrError) return explainServiceError(error);
  const name = error instanceof Error ? error.name : "Error";
  return {
    code: "Internal.UnexpectedError",
    message:
      `${name}: ${redactError(error)} — an error this version of mde-lr did not expect stopped the run. ` +
      `Nothing is lost: the journal is intact and \`mde-lr resume ${outDir}\` continues the run (please report the error).`,
  };
}

function* manifestEntries(records: DeviceRecord[]): Generator<ManifestEntry> {
  for (const r of records) {
    for (const s of Object.values(r.steps)) {
      if (s.f && s.sha) yield { file: s.f, sha256: s.sha };
      if (s.so && s.soSha) yield { file: s.so, sha256: s.soSha };
      if (s.se && s.seSha) yield { file: s.se, sha256: s.seSha };
    }
  }
}
