/** Runbook format v1 — the validated, normalised form (YAML → schema → this). */
import type { Limits } from "../config/limits.js";

export type { Limits };

export type StatedOption = "timeout" | "pollInterval" | "maxDevices" | "canary";

export interface Targets {
  machineIds: string[];
  computerNames: string[];
  tags: string[];
  filter: string | null;
}

export type Step =
  | { type: "PutFile"; fileName: string }
  | { type: "RunScript"; scriptName: string; args: string | null }
  | { type: "GetFile"; path: string };

export interface LibraryEntry {
  /** Absolute path after normalisation (the YAML gives it relative to the runbook file). */
  path: string;
  fileName: string;
  description: string | null;
  parametersDescription: string | null;
  hasParameters: boolean;
}

export interface RunbookOptions {
  /** Per device, submission to final state, milliseconds. */
  timeoutMs: number;
  pollIntervalMs: number;
  onActiveSession: "wait" | "fail";
  maxConcurrentSessions: number;
  maxDevices: number;
  canary: number;
  /** What preflight does with inactive/unsupported devices. */
  onIneligible: "skip" | "fail";
  /** A requested target that reaches no device: counts against the run (`fail`) or is only reported (`warn`). */
  onUnresolved: "fail" | "warn";
  /**
   * Options the runbook (or a front end for it) stated. The others are defaults that adapt to what was
   * stated, also when a front end replaces the targets (runbook/normalize.ts adaptDefaults).
   */
  stated: StatedOption[];
  /**
   * Only the quotas the runbook (or a front end's override) states; the rest come from the client's quota
   * account (by default the documented ones) when the run configures it (config/limits.ts resolveLimits).
   */
  limits: Partial<Limits>;
}

export interface Runbook {
  name: string;
  comment: string | null;
  targets: Targets;
  commands: Step[];
  library: LibraryEntry[];
  options: RunbookOptions;
  /** What the runbook was parsed from, for the run's chain of custody (set by loadRunbook / parseRunbook). */
  source?: RunbookSource;
}

/**
 * The runbook's origin: a file (`hashOf: file`, the digests are of its bytes as read) or text handed over
 * directly (`text`: an action input, provider args; the digests are of its UTF-8).
 */
export interface RunbookSource {
  hashOf: "file" | "text";
  sha256: string;
  /** git's blob id of the same bytes (SHA-1 of `blob <size>\0<bytes>`), to compare with a commit. */
  gitBlob: string;
  /** Absolute path of the file (`file`), else null. */
  path: string | null;
  /** For text: where it came from (e.g. "`commands` input"). */
  label: string | null;
}

export { DEFAULT_LIMITS } from "../config/limits.js";
