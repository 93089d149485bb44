/** Planning: pack steps, resolve targets, preflight, sync the library, build a plan. */
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
export { type PreflightOptions, preflight } from "./preflight.js";
export { COMPUTER_NAME_BATCH, odataString, type ResolveTargetsOptions, resolveTargets } from "./targets.js";
export type * from "./types.js";
