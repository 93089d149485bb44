/**
 * `buildPlan`: everything a run would do, without doing it — resolved devices, skipped ones with
 * reasons, the packed actions per device, the calls by kind and an ETA from the quotas. Only reads
 * (machines, library listing); never uploads or submits.
 */
import type { MdeApi } from "../api/types.js";
import { resolveLimits } from "../config/limits.js";
import { overrideTargets } from "../runbook/normalize.js";
import type { Runbook } from "../runbook/types.js";
import { type PlanBatch, planBatches } from "./batches.js";
import { estimateEta } from "./eta.js";
import { needsLibrary, syncLibrary } from "./library.js";
import { failIneligible } from "./preflight.js";
import type { CallEstimate, Plan } from "./types.js";

export interface BuildPlanOptions {
  /** Overrides the runbook's targets (CLI `--machine`, action `machine-ids`). */
  machineIds?: string[];
  /** Kept for callers that pass it: library paths in a parsed runbook are already absolute. */
  baseDir?: string;
  /** A plan never uploads; accepted so callers can say so explicitly. */
  dryRun?: boolean;
  /** Skip the library listing (e.g. the token lacks Library.Manage); names are then not checked. */
  skipLibrary?: boolean;
  signal?: AbortSignal;
}

export async function buildPlan(api: MdeApi, given: Runbook, options: BuildPlanOptions = {}): Promise<Plan> {
  const signal = options.signal ? { signal: options.signal } : {};
  const runbook = options.machineIds?.length ? overrideTargets(given, options.machineIds) : given;
  const targets = runbook.targets;
  const all: PlanBatch = { covered: [], devices: [], skipped: [], unresolved: [], warnings: [] };
  let resolutionCalls = 0;
  for await (const b of planBatches(
    api,
    { commands: runbook.commands, maxDevices: runbook.options.maxDevices },
    targets,
    signal,
  )) {
    resolutionCalls++;
    all.devices.push(...b.devices);
    all.skipped.push(...b.skipped);
    all.unresolved.push(...b.unresolved);
    all.warnings.push(...b.warnings);
  }
  if (runbook.options.onIneligible === "fail") failIneligible(all.skipped);

  const library =
    needsLibrary(runbook) && !options.skipLibrary
      ? await syncLibrary(api, runbook.library, { dryRun: true, steps: runbook.commands, ...signal })
      : null;

  const limits = api.quota
    ? api.quota.resolve(runbook.options.limits)
    : resolveLimits(runbook.options.limits);
  const eta = estimateEta(all.devices, runbook.options, limits);
  const packed = all.devices[0]?.actions.length ?? 0;
  const actions = all.devices.length * packed;
  const { calls: perAction, ...etaOnly } = eta;
  const calls: CallEstimate = {
    getMachine: 0,
    // One list call per batch of ids or names, one for the filter (batches are what planning ran).
    listMachines: resolutionCalls - targets.tags.length,
    findMachinesByTag: targets.tags.length,
    listLibraryFiles: library ? 1 : 0,
    uploadLibraryFile: library ? library.uploaded.length : 0,
    runLiveResponse: actions,
    getMachineAction: actions * perAction.polls,
    getResultDownloadLink: Math.round(actions * perAction.links),
    downloads: Math.round(actions * perAction.links),
  };

  return {
    runbook: runbook.name,
    devices: all.devices,
    skipped: all.skipped,
    unresolved: all.unresolved,
    warnings: all.warnings,
    library,
    actions,
    calls,
    eta: etaOnly,
  };
}
