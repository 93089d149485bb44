/** Runbooks: load, validate (the shipped JSON Schema) and normalise. */
export { formatDuration, parseDurationMs } from "./duration.js";
export { libraryNameProblem } from "./names.js";
export { DEFAULT_OPTIONS, defaultOptionsFor, MAX_TIMEOUT_MS, overrideTargets } from "./normalize.js";
export {
  loadRunbook,
  MAX_RUNBOOK_BYTES,
  type ParseRunbookOptions,
  parseRunbook,
  parseSteps,
  runbookSource,
} from "./parse.js";
export { RUNBOOK_SCHEMA_ID, runbookSchema } from "./schema.js";
export * from "./types.js";
