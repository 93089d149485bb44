/** Planning: pack steps, resolve targets, preflight, sync the library, build a plan. */

export { type PlanBatch, type PlanInput, planBatches } from "./batches.js";
export { ASSUMED_COMMAND_SECONDS, ASSUMED_SESSION_BASE_SECONDS, estimateEta } from "./eta.js";
export { explainServiceError, serviceFix } from "./explain.js";
export {
  assertStepsInLibrary,
  LIBRARY_MAX_BYTES,
  needsLibrary,
  type SyncLibraryOptions,
  sha256Hex,
  syncLibrary,
} from "./library.js";
export { checkOsSupport, type OsVerdict } from "./os-support.js";
export { packSteps, stepToCommand } from "./pack.js";
export { type BuildPlanOptions, buildPlan } from "./plan.js";
export { failIneligible, type PreflightOptions, preflight } from "./preflight.js";
export {
  FILTER_BUDGET_BYTES,
  filterBatches,
  MAX_BATCH,
  odataString,
  type ResolveTargetsOptions,
  resolveTargetBatches,
  resolveTargets,
  type TargetBatch,
  targetKey,
} from "./targets.js";
export type * from "./types.js";
