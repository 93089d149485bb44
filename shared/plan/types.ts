/** Plan types: what a run will do before it does it. Plain JSON-serialisable. */
import type { LiveResponseCommand, Machine } from "../api/types.js";
import type { ReportError } from "../report/types.js";
import type { Step } from "../runbook/types.js";

/** One machine action's worth of steps (PutFile* → RunScript* → GetFile*), in runbook order. */
export interface PackedAction {
  /** 0-based position of this action among the device's actions. */
  index: number;
  /** 1-based runbook step numbers carried by this action; `commands[i]` is step `steps[i]`. */
  steps: number[];
  commands: LiveResponseCommand[];
}

export type TargetSelector = "machineIds" | "computerNames" | "tags" | "filter";

/** A selector value that resolved to no device (or a lookup that failed). */
export interface UnresolvedTarget {
  selector: TargetSelector;
  value: string;
  error: ReportError;
}

export interface ResolvedTargets {
  /** De-duplicated by machine id (after following `mergedIntoMachineId`), in first-seen order. */
  machines: Machine[];
  unresolved: UnresolvedTarget[];
}

export interface SkippedMachine {
  machineId: string;
  computerDnsName: string | null;
  /** `Preflight.Inactive`, `Preflight.NotOnboarded`, `Preflight.UnsupportedOs`, ... */
  error: ReportError;
}

export interface PreflightWarning {
  machineId: string;
  computerDnsName: string | null;
  message: string;
}

export interface PreflightResult {
  eligible: Machine[];
  skipped: SkippedMachine[];
  warnings: PreflightWarning[];
}

export interface LibrarySyncResult {
  /** Files uploaded (or, with dryRun, that would be). */
  uploaded: string[];
  /** Files whose sha256 already matched the library. */
  unchanged: string[];
  dryRun: boolean;
  /** Every library file name known after the sync (listing + uploads). */
  available: string[];
}

export interface PlannedDevice {
  machineId: string;
  computerDnsName: string | null;
  osPlatform: string | null;
  actions: PackedAction[];
}

export interface CallEstimate {
  /** Reads done while planning (already spent). */
  getMachine: number;
  listMachines: number;
  findMachinesByTag: number;
  listLibraryFiles: number;
  /** Calls the run itself is expected to make. */
  uploadLibraryFile: number;
  runLiveResponse: number;
  getMachineAction: number;
  getResultDownloadLink: number;
  /** Result downloads go to Azure Storage (SAS URLs) and do not count against the API quotas. */
  downloads: number;
}

export interface EtaEstimate {
  /** Expected run length in seconds, submission of the first action to the last result. */
  seconds: number;
  /** Which term dominates: "submissions", "sessions", "hourlyCalls", "minuteCalls" or "perDevice". */
  bottleneck: string;
  /** The assumed session length `d` (seconds) and how it was chosen. */
  assumedSessionSeconds: number;
  assumptions: string[];
}

export interface Plan {
  runbook: string;
  devices: PlannedDevice[];
  skipped: SkippedMachine[];
  unresolved: UnresolvedTarget[];
  warnings: string[];
  library: LibrarySyncResult | null;
  actions: number;
  calls: CallEstimate;
  eta: EtaEstimate;
}

export type { Step };
