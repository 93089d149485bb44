/** Public API of mde-live-response's core. Keep it small: front ends import from here. */

// Core MDE client (config, auth, HTTP, typed API, redaction).
export { createMdeClient, type MdeClient, type MdeClientOptions } from "./api/client.js";
export { parseTranscript } from "./api/transcript.js";
export type * from "./api/types.js";
export { FINAL_ACTION_STATUSES } from "./api/types.js";
export {
  checkActionId,
  checkIndex,
  checkLibraryFileName,
  checkLiveResponseRequest,
  checkMachineId,
} from "./api/validate.js";
export type { Clock } from "./clock.js";
export { ScaledClock, systemClock } from "./clock.js";
export {
  apiUrlFor,
  CLOUD_NAMES,
  CLOUDS,
  type CloudName,
  type CloudProfile,
  COMMERCIAL_API_URL,
  COMMERCIAL_REGIONS,
  cloudProfile,
  isLoopbackHost,
  LEGACY_COMMERCIAL_API_URL,
  normaliseServiceUrl,
  parseCloudName,
} from "./config/clouds.js";
export { DEFAULT_LIMITS, type Limits, resolveLimits } from "./config/limits.js";
export {
  type ConnectionOptions,
  type Credential,
  type ResolvedConnection,
  resolveConnection,
} from "./config/settings.js";
export * from "./errors.js";
export { DEFAULT_RETRY, parseRetryAfter, type RetryOptions, RetryPolicy } from "./http/backoff.js";
export {
  CALL_KINDS,
  type CallKind,
  type HttpHooks,
  type RateLimitedEvent,
  type RequestEvent,
  type ResponseEvent,
  type RetryEvent,
  type TokenEvent,
} from "./http/events.js";
export { type Priority, QuotaAccount, type QuotaClass, type QuotaSlot } from "./http/quota.js";
export { SlidingWindowBudget, type WindowLimit } from "./http/sliding-window.js";
// Entry points the front ends drive: runbook → plan → run. The emulator stays a separate entry
// (shared/emulator/index.js) so the published core never loads it.
export { type BuildPlanOptions, buildPlan } from "./plan/index.js";
export { onSecretRegistered, redact, redactError, registerSasUrl, registerSecret } from "./redact.js";
export { type WrittenPage, writeReportPage } from "./report/html/rewrite.js";
export type * from "./report/types.js";
export { cancelRun, type ResumeRunOptions, readReport, resumeRun, startRun } from "./run/index.js";
export type * from "./run/types.js";
export { loadRunbook, type ParseRunbookOptions, parseRunbook, parseSteps } from "./runbook/index.js";
export type * from "./runbook/types.js";
