/**
 * Planning as a stream: each batch of resolved targets, preflighted and packed into the actions each
 * device gets. A run submits a batch's devices as soon as it is planned while later batches resolve;
 * `buildPlan` (a preview) takes every batch at once.
 */
import type { MdeApi } from "../api/types.js";
import type { Step, Targets } from "../runbook/types.js";
import { packSteps } from "./pack.js";
import { preflight } from "./preflight.js";
import { resolveTargetBatches } from "./targets.js";
import type { PackedAction, PlannedDevice, SkippedMachine, UnresolvedTarget } from "./types.js";

export interface PlanBatch {
  /** `selector:value` keys of the target values this batch settled. */
  covered: string[];
  devices: PlannedDevice[];
  skipped: SkippedMachine[];
  unresolved: UnresolvedTarget[];
  warnings: string[];
}

export interface PlanBatchOptions {
  signal?: AbortSignal;
  /** Target values settled by an earlier process (resume): not looked up again. */
  done?: ReadonlySet<string>;
  /** Machine ids an earlier process planned or skipped: never planned twice. */
  seen?: Set<string>;
}

/** What planning needs of a runbook (a resumed run has it from its plan file). */
export interface PlanInput {
  commands: readonly Step[];
  maxDevices: number;
}

export async function* planBatches(
  api: MdeApi,
  input: PlanInput,
  targets: Targets,
  options: PlanBatchOptions = {},
): AsyncGenerator<PlanBatch> {
  const packed: PackedAction[] = packSteps(input.commands);
  const batches = resolveTargetBatches(api, targets, {
    maxDevices: input.maxDevices,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.done ? { done: options.done } : {}),
    ...(options.seen ? { seen: options.seen } : {}),
  });
  for await (const b of batches) {
    // Skipped, never thrown here: with onIneligible: fail the caller refuses once every batch is known.
    const checked = preflight(b.machines, { onIneligible: "skip" });
    yield {
      covered: b.covered,
      devices: checked.eligible.map((m) => ({
        machineId: m.id,
        computerDnsName: m.computerDnsName,
        osPlatform: m.osPlatform,
        actions: packed,
      })),
      skipped: checked.skipped,
      unresolved: b.unresolved,
      warnings: checked.warnings.map((w) => `${w.computerDnsName ?? w.machineId}: ${w.message}`),
    };
  }
}
