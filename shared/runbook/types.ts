/** Runbook format v1 — the validated, normalised form (YAML → schema → this). */

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

export interface Limits {
  submitPerMinute: number;
  callsPerMinute: number;
  callsPerHour: number;
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
  limits: Limits;
}

export interface Runbook {
  name: string;
  comment: string | null;
  targets: Targets;
  commands: Step[];
  library: LibraryEntry[];
  options: RunbookOptions;
}

export const DEFAULT_LIMITS: Limits = { submitPerMinute: 10, callsPerMinute: 100, callsPerHour: 1500 };
