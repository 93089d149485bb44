/**
 * `buildPlan`: everything a run would do, without doing it — resolved devices, skipped ones with
 * reasons, the packed actions per device, the calls by kind and an ETA from the quotas. Only reads
 * (machines, library listing); never uploads or submits.
 */
import type { MdeApi } from "../api/types.js";
import { resolveLimits } from "../config/limits.js";
import type { Runbook } from "../runbook/types.js";
import { estimateEta } from "./eta.js";
import { needsLibrary, syncLibrary } from "./library.js";
import { packSteps } from "./pack.js";
import { preflight } from "./preflight.js";
import { COMPUTER_NAME_BATCH, resolveTargets } from "./targets.js";
import type { CallEstimate, Plan, PlannedDevice } from "./types.js";

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

export async function buildPlan(
  api: MdeApi,
  runbook: Runbook,
  options: BuildPlanOptions = {},
): Promise<Plan> {
  const signal = options.signal ? { signal: options.signal } : {};
  const targets =
    options.machineIds && options.machineIds.length > 0
      ? {
          machineIds: options.machineIds.map((id) => id.toLowerCase()),
          computerNames: [],
          tags: [],
          filter: null,
        }
      : runbook.targets;
  const resolved = await resolveTargets(api, targets, { maxDevices: runbook.options.maxDevices, ...signal });
  const checked = preflight(resolved.machines, { onIneligible: runbook.options.onIneligible });

  const library =
    needsLibrary(runbook) && !options.skipLibrary
      ? await syncLibrary(api, runbook.library, { dryRun: true, steps: runbook.commands, ...signal })
      : null;

  const packed = packSteps(runbook.commands);
  const devices: PlannedDevice[] = checked.eligible.map((m) => ({
    machineId: m.id,
    computerDnsName: m.computerDnsName,
    osPlatform: m.osPlatform,
    actions: packed,
  }));
  const limits = api.quota
    ? api.quota.resolve(runbook.options.limits)
    : resolveLimits(runbook.options.limits);
  const eta = estimateEta(devices, runbook.options, limits);
  const actions = devices.length * packed.length;
  const { calls: perAction, ...etaOnly } = eta;
  const calls: CallEstimate = {
    getMachine: targets.machineIds.length,
    listMachines:
      Math.ceil(targets.computerNames.length / COMPUTER_NAME_BATCH) + (targets.filter === null ? 0 : 1),
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
    devices,
    skipped: checked.skipped,
    unresolved: resolved.unresolved,
    warnings: checked.warnings.map((w) => `${w.computerDnsName ?? w.machineId}: ${w.message}`),
    library,
    actions,
    calls,
    eta: etaOnly,
  };
}
