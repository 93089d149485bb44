/**
 * LiveResponseCollection implementation, loaded by collectionProvider inside the dynamic-provider host
 * (cwd = the program directory). Runs go through the shared orchestrator; this module only maps
 * Pulumi's lifecycle onto startRun / resumeRun / cancelRun and the report onto state.
 *
 * Stable interface: every stack's state holds a serialized collectionProvider that requires this file by
 * package path and calls these exports by name (readSettings, check, diff, create, read, update, remove).
 * Keep the path, the names and the signatures, or older stacks cannot refresh or destroy.
 */

import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import type { MdeApi } from "../shared/api/types.js";
import { FINAL_ACTION_STATUSES } from "../shared/api/types.js";
import type { Initiator } from "../shared/custody/types.js";
import { entryName } from "../shared/report/label.js";
import type { MachineReport, RunReport } from "../shared/report/types.js";
import { failures } from "../shared/report/verdict.js";
import { cancelRun, PLAN_FILE, type RunEvent, readReport, resumeRun, startRun } from "../shared/run/index.js";
import { checkCollection, detachAfterMs } from "./checkCollection.js";
import { connect } from "./connect.js";
import { diffCollection } from "./diff.js";
import { PartialRunError } from "./errors.js";
import { toPlain } from "./plain.js";
import { buildRunbook } from "./runbookFromArgs.js";
import type { ProviderSettings } from "./settings.js";
import type {
  CheckResult,
  CollectionInputs,
  CollectionOutputs,
  CollectionState,
  DiffResult,
} from "./types.js";

export { readSettings } from "./settings.js";

export const DEFAULT_OUTPUT_DIR = "mde-lr-out/pulumi";
const OUTPUT_KEYS = [
  "runId",
  "status",
  "counts",
  "machines",
  "outputDir",
  "startedAt",
  "finishedAt",
] as const;

export async function check(
  _olds: Record<string, unknown>,
  news: Record<string, unknown>,
): Promise<CheckResult<CollectionInputs>> {
  return checkCollection(news);
}

export async function diff(
  _id: string,
  olds: Record<string, unknown>,
  news: Record<string, unknown>,
): Promise<DiffResult> {
  return diffCollection(olds as Partial<CollectionState>, news as unknown as CollectionInputs);
}

/** A fresh run folder under the base folder, as stored in state: relative to the program dir, POSIX separators. */
function newRunFolder(base: string | undefined): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  const folder = path.join(base ?? DEFAULT_OUTPUT_DIR, `${stamp}-${crypto.randomBytes(3).toString("hex")}`);
  return folder.split(path.sep).join("/");
}

function outputsOf(report: RunReport, folder: string): CollectionOutputs {
  return {
    runId: report.runId,
    status: report.status,
    counts: report.counts,
    machines: report.machines,
    outputDir: folder,
    startedAt: report.startedAt,
    finishedAt: report.finishedAt,
  };
}

/**
 * The provider as a run's initiator: the Pulumi project and stack. Checked in the dynamic-provider host:
 * the CLI starts it with PULUMI_NODEJS_PROJECT (what pulumi.getProject() returns there) but without
 * PULUMI_NODEJS_STACK, so getStack() is "" in the host; the resource class passes both from the program
 * as `pulumiContext`. A resource created before that (older state) has the project only.
 */
function pulumiInitiator(props: Record<string, unknown>): Initiator {
  const text = (v: unknown) => (typeof v === "string" && v.trim() !== "" ? v : undefined);
  const given = (props["pulumiContext"] ?? {}) as { project?: unknown; stack?: unknown };
  const project = text(given.project) ?? text(process.env["PULUMI_NODEJS_PROJECT"]);
  const stack = text(given.stack) ?? text(process.env["PULUMI_NODEJS_STACK"]);
  return { kind: "pulumi", ...(project ? { project } : {}), ...(stack ? { stack } : {}) };
}

/** Devices left queued or running when the run was last watched (by create, refresh or update). */
function hasPending(state: Partial<CollectionState>): boolean {
  return state.status === "pending" || (state.machines ?? []).some((m) => m.status === "pending");
}

function inputsOf(state: Record<string, unknown>): Record<string, unknown> {
  const inputs: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(state)) {
    if (!(OUTPUT_KEYS as readonly string[]).includes(k)) inputs[k] = v;
  }
  return inputs;
}

function describe(m: MachineReport): string {
  const name = m.computerDnsName && m.machineId ? `${m.computerDnsName} (${m.machineId})` : entryName(m);
  const error = m.error ? `: ${m.error.code}: ${m.error.message}` : "";
  const failedSteps = m.commands
    .filter((c) => c.status === "failed")
    .map(
      (c) =>
        `step ${c.step} ${c.type}${c.exitCode !== null ? ` exit ${c.exitCode}` : ""}${c.errors.length ? ` (${c.errors.join("; ")})` : ""}`,
    );
  return `${name}: ${m.status}${error}${failedSteps.length ? `; ${failedSteps.join(", ")}` : ""}`;
}

/**
 * Progress for the Pulumi CLI (the host forwards console output to it): one line per milestone, so a
 * long `pulumi up` shows what it waits for. Events carry ids and statuses only, never device output.
 */
function progress(label: string, folder: string): (event: RunEvent) => void {
  return (event) => {
    const say = (text: string) => console.log(`mde-live-response ${label}: ${text}`);
    switch (event.type) {
      case "planned":
        say(
          `run ${event.runId}: ${event.devices} device(s), ${event.actions} action(s), ${event.skipped} skipped; folder ${folder}`,
        );
        break;
      case "deviceDone":
        say(`${event.machineId} ${event.status}`);
        break;
      case "warning":
        say(`warning: ${event.message}`);
        break;
      case "finished":
        say(`run ${event.status}`);
        break;
      default:
        break;
    }
  };
}

/** Device outcomes that make a run a (partial) failure; `skipped` is preflight doing what it was told. */

/**
 * State for a finished or detached run. When devices failed it throws PartialRunError instead (Pulumi's
 * partial state: recorded, the update fails), so nothing collected is lost and destroy can still cancel.
 */
function settle(report: RunReport, folder: string, inputs: Record<string, unknown>, stopped?: string) {
  const state = toPlain({ ...inputs, ...outputsOf(report, folder) });
  const bad = failures(report);
  const failed = report.status === "failed" || report.status === "partial" || report.status === "cancelled";
  if (!stopped && !failed && bad.length === 0) return { id: report.runId, outs: state };
  const reasons = [...(stopped ? [stopped] : []), ...bad.map(describe)];
  throw new PartialRunError(
    `live response run ${report.runId} is ${report.status}: ${bad.length} of ${report.machines.length} devices did not succeed; ` +
      `what was collected is in the stack outputs and in ${folder}`,
    report.runId,
    state,
    reasons,
  );
}

export async function create(settings: ProviderSettings, inputs: Record<string, unknown>) {
  const args = inputs as unknown as CollectionInputs;
  const runbook = buildRunbook(args);
  const folder = newRunFolder(args.outputRoot);
  const outDir = path.resolve(folder);
  const api = connect(settings);
  let report: RunReport;
  try {
    report = await startRun(
      { api, onEvent: progress(runbook.name, folder), initiator: pulumiInitiator(inputs) },
      {
        runbook,
        baseDir: process.cwd(),
        outDir,
        ...(args.detachAfter !== undefined ? { detachAfterMs: detachAfterMs(args.detachAfter) } : {}),
      },
    );
  } catch (e) {
    // Nothing submitted: a plain failure records nothing, which is right. Something submitted: record
    // it (partial state) so the actions are not orphaned and destroy can cancel them.
    const partial = await readReport(outDir).catch(() => undefined);
    if (!partial || partial.machines.every((m) => m.actionIds.length === 0)) throw e;
    return settle(partial, folder, inputs, `run stopped: ${e instanceof Error ? e.message : String(e)}`);
  }
  return settle(report, folder, inputs);
}

/** Actions of devices still pending in `state` that the service has not finished yet. */
async function unfinishedActions(api: MdeApi, machines: MachineReport[]): Promise<string[]> {
  const ids = machines.filter((m) => m.status === "pending").flatMap((m) => m.actionIds);
  const actions = await Promise.all(ids.map((id) => api.getMachineAction(id)));
  return actions.filter((a) => !FINAL_ACTION_STATUSES.has(a.status)).map((a) => a.id);
}

/** The run folder holds the journal that resume and cancel work from. */
function hasJournal(outDir: string): boolean {
  return fs.existsSync(path.join(outDir, PLAN_FILE));
}

/**
 * Refresh: a finished run is a fact and comes back as is (no credentials needed). A pending run is
 * resumed from its journal for about one poll interval: devices that finished meanwhile get their
 * results collected, the rest stay pending for the next refresh. Refresh never fails a run.
 */
export async function read(settings: ProviderSettings, id: string, props: Record<string, unknown>) {
  const state = props as unknown as CollectionState;
  if (!hasPending(state)) return { id, props };
  const outDir = path.resolve(state.outputDir);
  if (!hasJournal(outDir)) {
    console.warn(
      `mde-live-response: run ${id} is pending but its folder ${state.outputDir} is not on this machine; ` +
        "refresh from the machine (or CI workspace) that ran it",
    );
    return { id, props };
  }
  const runbook = buildRunbook(inputsOf(props) as unknown as CollectionInputs);
  const api = connect(settings);
  const ctx = { api, onEvent: progress(runbook.name, state.outputDir), initiator: pulumiInitiator(props) };
  const report = await resumeRun(ctx, outDir, {
    detachAfterMs: runbook.options.pollIntervalMs + 1000,
  });
  return { id, props: toPlain({ ...props, ...outputsOf(report, state.outputDir) }) };
}

/**
 * Only watch settings changed (timeout, onActiveSession, maxDevices, pollInterval, outputRoot): the run
 * is not repeated, its results are carried over with the new declaration.
 */
export async function update(
  _settings: ProviderSettings,
  _id: string,
  olds: Record<string, unknown>,
  news: Record<string, unknown>,
) {
  const outputs: Record<string, unknown> = {};
  for (const k of OUTPUT_KEYS) outputs[k] = olds[k];
  return { outs: toPlain({ ...inputsOf(news), ...outputs }) };
}

/**
 * Destroy or replace: cancels this run's unfinished actions; results are facts, not infrastructure, so
 * nothing else happens (the run folder stays). Without the run folder (another machine), the pending
 * action ids in state are cancelled directly.
 */
export async function remove(
  settings: ProviderSettings,
  id: string,
  props: Record<string, unknown>,
): Promise<void> {
  const state = props as unknown as CollectionState;
  if (!hasPending(state)) return;
  // The shared client: cancelling spends from the same quota account as the deployment's runs.
  const api = connect(settings);
  const outDir = path.resolve(state.outputDir);
  if (hasJournal(outDir)) {
    const onEvent = progress(`${id} (destroy)`, state.outputDir);
    await cancelRun({ api, onEvent, initiator: pulumiInitiator(props) }, outDir);
    return;
  }
  for (const actionId of await unfinishedActions(api, state.machines ?? [])) {
    await api
      .cancelMachineAction(actionId, `mde-live-response: run ${id} destroyed`)
      .catch((e: unknown) => console.warn(`mde-live-response: could not cancel ${actionId}: ${String(e)}`));
  }
}
