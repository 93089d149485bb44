/**
 * MDE entities as the service returns them (mde-api.md §5). Only fields the toolkit reads are typed;
 * unknown fields are ignored, never rejected, because the service adds fields over time.
 */
import type { AppIdentity } from "../custody/types.js";
import type { Priority, QuotaAccount, QuotaSlot } from "../http/quota.js";

export type MachineActionStatus = "Pending" | "InProgress" | "Succeeded" | "Failed" | "TimeOut" | "Cancelled";
export const FINAL_ACTION_STATUSES: ReadonlySet<MachineActionStatus> = new Set([
  "Succeeded",
  "Failed",
  "TimeOut",
  "Cancelled",
]);

export type CommandType = "PutFile" | "RunScript" | "GetFile";

export interface CommandParam {
  key: string;
  value: string;
}

/** One command as sent in `runliveresponse` (case-sensitive keys, mde-api.md §3). */
export interface LiveResponseCommand {
  type: CommandType;
  params: CommandParam[];
}

export interface LiveResponseRequest {
  Commands: LiveResponseCommand[];
  Comment: string;
}

/** `commandStatus` documents Created | Completed | Failed; other values are tolerated (mde-api.md §8.8). */
export interface CommandResult {
  index: number;
  startTime: string | null;
  endTime: string | null;
  commandStatus: string;
  errors: string[];
  command: LiveResponseCommand;
}

export interface MachineAction {
  id: string;
  type: string;
  requestor: string | null;
  requestorComment: string | null;
  status: MachineActionStatus;
  machineId: string;
  computerDnsName: string | null;
  creationDateTimeUtc: string;
  lastUpdateDateTimeUtc: string | null;
  cancellationRequestor: string | null;
  cancellationComment: string | null;
  cancellationDateTimeUtc: string | null;
  errorHResult: number;
  requestSource: string | null;
  commands: CommandResult[];
}

/**
 * A device as the machines API describes it (mde-api.md §5.4). Only `id` is guaranteed: Microsoft's own
 * example has no `onboardingStatus` (real-captures D5), real answers carry nulls, and `osVersion` may be
 * a release name such as `20H2` rather than `10.0.x` (R5). The API layer (`normalizeMachine`, shape.ts)
 * turns every absent or wrongly-typed field into `null`, so readers see exactly `T | null` — never
 * `undefined` — and must treat `null` as "unknown", not as a value.
 */
export interface Machine {
  id: string;
  computerDnsName: string | null;
  osPlatform: string | null;
  osVersion: string | null;
  osBuild: number | null;
  version: string | null;
  agentVersion: string | null;
  healthStatus: string | null;
  onboardingStatus: string | null;
  machineTags: string[] | null;
  rbacGroupId: number | null;
  rbacGroupName: string | null;
  lastSeen: string | null;
  mergedIntoMachineId?: string | null;
}

/**
 * A library entry as every reader sees it (normalizeLibraryFile): only `fileName` is required of the
 * service's answer. mde-api.md §5.3 lists `sha256` among the fields, but the reference does not say it is
 * always sent; a missing one is `null` ("unknown"), never a crash in a comparison.
 */
export interface LibraryFile {
  fileName: string;
  sha256: string | null;
  description: string | null;
  creationTime: string | null;
  lastUpdatedTime: string | null;
  createdBy: string | null;
  hasParameters: boolean;
  parametersDescription: string | null;
}

/** OData list query (mde-api.md §4.3, §4.10). */
export interface ODataQuery {
  filter?: string;
  top?: number;
  skip?: number;
  orderBy?: string;
}

export interface LibraryUpload {
  fileName: string;
  content: Uint8Array;
  description?: string;
  parametersDescription?: string;
  hasParameters?: boolean;
  overrideIfExists?: boolean;
}

export interface CallOptions {
  signal?: AbortSignal | undefined;
  /** Low-priority calls leave a reserve of each quota window to high-priority ones. Default high. */
  priority?: Priority | undefined;
  /** A quota slot the caller already took for this call (the scheduler's submissions). */
  slot?: QuotaSlot | undefined;
  /** Told when the client's quota account makes this call wait (service ms it waits until). */
  onQuotaWait?: ((untilMs: number) => void) | undefined;
  /** Told each time a request of this call leaves (retries included), after its quota slot was taken. */
  onSent?: (() => void) | undefined;
}

/** What a download produced on disk. */
export interface DownloadedFile {
  path: string;
  bytes: number;
  sha256: string;
}

/** A RunScript transcript, parsed tolerantly (mde-api.md §4.6). */
export interface ScriptTranscript {
  scriptName: string | null;
  exitCode: number | null;
  stdout: string;
  stderr: string;
  /** false when the body was not strict JSON and was recovered by the tolerant parser. */
  strict: boolean;
}

/**
 * The typed MDE API surface the orchestrator and front ends use. Implemented over HTTP by
 * `createMdeClient` (shared/api/client.ts). Every method honours `signal`, respects the client-side
 * quotas and retries safely; `runLiveResponse` is never re-sent blindly after an ambiguous failure:
 * it throws `AmbiguousSubmissionError` and leaves the check (find the action by its comment tag) to the caller.
 */
export interface MdeApi {
  /**
   * The client's quota account, when it keeps one (createMdeClient does): a run configures it from its
   * runbook and plans with it. An MdeApi without one gets its quotas enforced by the run itself.
   */
  readonly quota?: QuotaAccount;
  /**
   * The Entra app this client signs in as (ids only, never a credential), when it knows: a run records
   * it in its chain of custody. createMdeClient always says; other MdeApis may not.
   */
  readonly identity?: AppIdentity;

  getMachine(machineId: string, options?: CallOptions): Promise<Machine>;
  listMachines(query?: ODataQuery, options?: CallOptions): Promise<Machine[]>;
  findMachinesByTag(tag: string, startsWith?: boolean, options?: CallOptions): Promise<Machine[]>;

  runLiveResponse(
    machineId: string,
    request: LiveResponseRequest,
    options?: CallOptions,
  ): Promise<MachineAction>;
  getMachineAction(actionId: string, options?: CallOptions): Promise<MachineAction>;
  /** Follows `@odata.nextLink` until exhausted (or `query.top` reached). */
  listMachineActions(query?: ODataQuery, options?: CallOptions): Promise<MachineAction[]>;
  cancelMachineAction(actionId: string, comment: string, options?: CallOptions): Promise<MachineAction>;
  /** Returns the signed URL. Treat it as a secret: it is registered with the redactor before returning. */
  getResultDownloadLink(actionId: string, commandIndex: number, options?: CallOptions): Promise<string>;

  /** GetFile result: streams, gunzips to the original bytes, writes `destPath` atomically. */
  downloadGetFileResult(url: string, destPath: string, options?: CallOptions): Promise<DownloadedFile>;
  /** RunScript result: streams to `destPath` (raw), then parses tolerantly. */
  downloadScriptResult(
    url: string,
    destPath: string,
    options?: CallOptions,
  ): Promise<DownloadedFile & { transcript: ScriptTranscript }>;

  listLibraryFiles(options?: CallOptions): Promise<LibraryFile[]>;
  uploadLibraryFile(upload: LibraryUpload, options?: CallOptions): Promise<LibraryFile>;
  deleteLibraryFile(fileName: string, options?: CallOptions): Promise<void>;
}
