/**
 * The orchestrator's entry points for the front ends (CLI, GitHub Action, Pulumi provider):
 * plan → schedule → collect → report, resumable from the output folder alone.
 */
import fs from "node:fs";
import { type Clock, systemClock } from "../clock.js";
import { CancelledError, InputError } from "../errors.js";
import { buildPlan } from "../plan/index.js";
import { needsLibrary, syncLibrary } from "../plan/library.js";
import { buildReport } from "../report/build.js";
import { readReportFile, writeReportFiles } from "../report/io.js";
import type { RunReport } from "../report/types.js";
import { type ManifestEntry, writeManifest } from "../results/manifest.js";
import { deviceFolderName, resolveInside } from "../results/paths.js";
import { ensureOutputRoot } from "../results/safe-fs.js";
import { type FleetOutcome, FleetScheduler } from "../scheduler/fleet.js";
import { type MeteredApi, meterApi } from "../scheduler/metered-api.js";
import { type DeviceRecord, newDeviceRecord, type RunPlanFile } from "../scheduler/types.js";
import { Journal, PLAN_FILE, type RunState } from "./journal.js";
import { newRunId } from "./tag.js";
import { TimelineRecorder } from "./timeline.js";
import type { RunContext, RunEvent, StartRunOptions } from "./types.js";

export { REPORT_FILE, SUMMARY_FILE } from "../report/io.js";
export { MANIFEST_FILE } from "../results/manifest.js";
export { JOURNAL_FILE, PLAN_FILE } from "./journal.js";
export { actionComment, hasRunTag, runTag } from "./tag.js";
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

function meter(ctx: RunContext, clock: Clock, limits: RunPlanFile["options"], timeline: TimelineRecorder) {
  const emit = emitter(ctx);
  return meterApi(
    ctx.api,
    clock,
    {
      submitPerMinute: limits.submitPerMinute,
      callsPerMinute: limits.callsPerMinute,
      callsPerHour: limits.callsPerHour,
    },
    (reason, untilMs) => emit({ type: "waiting", reason, untilMs }),
    timeline.call,
  );
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
  const { runbook } = options;
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
  const planOptions: RunPlanFile["options"] = {
    timeoutMs: o.timeoutMs,
    pollIntervalMs: o.pollIntervalMs,
    onActiveSession: o.onActiveSession,
    maxConcurrentSessions: o.maxConcurrentSessions,
    canary: o.canary,
    submitPerMinute: o.limits.submitPerMinute,
    callsPerMinute: o.limits.callsPerMinute,
    callsPerHour: o.limits.callsPerHour,
  };
  const metered = meter(ctx, clock, planOptions, timeline);
  const signal = ctx.signal ? { signal: ctx.signal } : {};
  const startedAtMs = clock.now();

  const plan = await buildPlan(metered.api, runbook, {
    ...(options.machineIds ? { machineIds: options.machineIds } : {}),
    baseDir: options.baseDir,
    skipLibrary: true,
    ...signal,
  });
  if (needsLibrary(runbook)) {
    await syncLibrary(metered.api, runbook.library, { steps: runbook.commands, ...signal });
  }
  if (ctx.signal?.aborted) throw new CancelledError("the run was cancelled before anything was submitted");

  const planFile: RunPlanFile = {
    version: 1,
    runId: newRunId(startedAtMs),
    runbookName: runbook.name,
    comment: runbook.comment,
    startedAt: new Date(startedAtMs).toISOString(),
    startedAtMs,
    steps: runbook.commands,
    options: planOptions,
    devices: plan.devices.map((d) => ({
      machineId: d.machineId,
      computerDnsName: d.computerDnsName,
      actions: d.actions.map((a) => ({ steps: a.steps, commands: a.commands })),
    })),
    skipped: plan.skipped.map((s) => ({
      machineId: s.machineId,
      computerDnsName: s.computerDnsName,
      code: s.error.code,
      message: s.error.message,
      status: "skipped",
    })),
    unresolved: plan.unresolved.map((u) => ({ selector: u.selector, value: u.value, error: u.error })),
    warnings: plan.warnings,
  };
  const journal = Journal.create(outDir, planFile);
  timeline.attach(journal);
  const canary = Math.min(o.canary, planFile.devices.length);
  const records = planFile.devices.map((_, i) => newDeviceRecord(canary > 0 && i >= canary));
  for (const [i, r] of records.entries()) journal.write(i, r);
  const runState: RunState = { cancelled: false, finishedAt: null, apiCalls: {} };
  emitter(ctx)({
    type: "planned",
    runId: planFile.runId,
    devices: planFile.devices.length,
    actions: planFile.devices.reduce((n, d) => n + d.actions.length, 0),
    skipped: planFile.skipped.length,
  });
  for (const w of planFile.warnings) emitter(ctx)({ type: "warning", message: w });
  return drive(
    ctx,
    clock,
    outDir,
    planFile,
    records,
    runState,
    journal,
    metered,
    options.detachAfterMs,
    "run",
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
  const records = fillRecords(loaded.plan, loaded.records);
  const metered = meter(ctx, clock, loaded.plan.options, timeline);
  if (loaded.run.cancelled || records.every((r) => r.phase === "done")) {
    return finalize(ctx, clock, outDir, loaded.plan, records, loaded.run, journal, metered, {
      cancelled: loaded.run.cancelled,
      detached: false,
      fatal: null,
    });
  }
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
  );
}

/** Cancel this run's unfinished actions (from its journal; nobody else's), then write the report. */
export async function cancelRun(ctx: RunContext, outDir: string): Promise<RunReport> {
  const clock = ctx.clock ?? systemClock;
  const { journal, loaded } = Journal.open(outDir);
  const timeline = new TimelineRecorder(outDir, clock, "cancel");
  ctx = timeline.observe(ctx);
  timeline.attach(journal);
  const records = fillRecords(loaded.plan, loaded.records);
  const metered = meter(ctx, clock, loaded.plan.options, timeline);
  // Cancelling must not be cut short by the caller's own (possibly already aborted) signal.
  const { signal: _ignored, ...rest } = ctx;
  return drive(rest, clock, outDir, loaded.plan, records, loaded.run, journal, metered, undefined, "cancel");
}

/** The report a run last wrote in `outDir`. */
export async function readReport(outDir: string): Promise<RunReport> {
  return readReportFile(outDir);
}

function fillRecords(plan: RunPlanFile, loaded: (DeviceRecord | null)[]): DeviceRecord[] {
  const canary = Math.min(plan.options.canary, plan.devices.length);
  return plan.devices.map((_, i) => loaded[i] ?? newDeviceRecord(canary > 0 && i >= canary));
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
): Promise<RunReport> {
  const scheduler = new FleetScheduler({
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
    // Leave a readable report of what is known, then surface the failure.
    finalize(ctx, clock, outDir, plan, records, runState, journal, metered, {
      cancelled: false,
      detached: true,
      fatal: error,
    });
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
  });
  report.unresolved = plan.unresolved;
  report.warnings = plan.warnings;
  writeManifest(outDir, manifestEntries(records));
  writeReportFiles(outDir, report);
  emitter(ctx)({ type: "finished", status: report.status });
  return report;
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
