/**
 * The local MDE emulator's public contract (used by tests, benchmarks, chaos runs and `mde-lr --emulator`).
 * Everything the emulator does is recorded in `journal` so tests can check invariants from the service's
 * own point of view (what was submitted, what completed, what was downloaded).
 */
import type { Clock } from "../clock.js";
import type { TimestampDigits } from "./time.js";

export type { TimestampDigits } from "./time.js";

/**
 * Machine entity fields a DeviceSpec may leave out of the answer (`absentFields`) or show as null
 * (`nullFields`). Only `id` is guaranteed (D5: Microsoft's own example has no `onboardingStatus`).
 */
export type MachineField =
  | "mergedIntoMachineId"
  | "isPotentialDuplication"
  | "isExcluded"
  | "exclusionReason"
  | "computerDnsName"
  | "firstSeen"
  | "lastSeen"
  | "osPlatform"
  | "osVersion"
  | "osProcessor"
  | "version"
  | "lastIpAddress"
  | "lastExternalIpAddress"
  | "agentVersion"
  | "osBuild"
  | "healthStatus"
  | "deviceValue"
  | "rbacGroupId"
  | "rbacGroupName"
  | "riskScore"
  | "exposureLevel"
  | "isAadJoined"
  | "aadDeviceId"
  | "machineTags"
  | "defenderAvStatus"
  | "onboardingStatus"
  | "osArchitecture"
  | "managedBy"
  | "managedByStatus"
  | "ipAddresses"
  | "vmMetadata";

/**
 * How a RunScript result file is laid out. `captured` (default): strict JSON as captured from the real
 * service (`", "` / `": "` separators, keys script_name, exit_code, script_output, script_errors, the
 * output ending in an escaped `\n\u0000`). `docs`: Microsoft's non-strict example (raw line break inside
 * the string, NUL padding). `compact`: `JSON.stringify` without spaces (the emulator's older layout).
 */
export type TranscriptLayout = "captured" | "docs" | "compact";

export interface DeviceSpec {
  id?: string; // 40 lowercase hex; generated when absent
  computerDnsName: string;
  osPlatform?: string; // Windows11 | Windows10 | WindowsServer2019 | WindowsServer2022 | Linux | macOS | ...
  osVersion?: string;
  osBuild?: number;
  version?: string; // e.g. "1909", "22H2"
  agentVersion?: string;
  healthStatus?: string; // Active | Inactive | ...
  onboardingStatus?: string;
  machineTags?: string[];
  rbacGroupId?: number;
  rbacGroupName?: string;
  /** Device group has an automated remediation level (else 403 DisallowedOperation). Default true. */
  remediationLevel?: boolean;
  /** Offline: actions stay Pending until `onlineAt` (service ms) or the queue window expires. */
  offline?: boolean;
  onlineAt?: number;
  /** Service ms each command takes on this device (default from options). */
  commandDurationMs?: number;
  /** Per script name: outcome when run on this device. */
  scripts?: Record<string, ScriptBehaviour>;
  /** Device paths → file contents for GetFile (missing path → command fails). */
  files?: Record<string, DeviceFile>;
  /**
   * Another live response session (e.g. one started in the portal, invisible to the API, §7.20) holds
   * the device until this service ms (Infinity = for good): API submissions get ActiveRequestAlreadyExists.
   */
  busyUntil?: number;
  /** Entity fields left out of this device's answers (D5). The device itself still has them (its OS, agent). */
  absentFields?: MachineField[];
  /** Entity fields shown as `null` in this device's answers. */
  nullFields?: MachineField[];
  /** Transcript layout of this device's scripts unless a script sets its own (default: `behaviour.transcriptLayout`). */
  transcriptLayout?: TranscriptLayout;
  /**
   * O2: someone else (another app, an analyst in the portal) cancels every live response on this device
   * `afterMs` (default 4 s) after its last command ended, while the service has not turned it final yet:
   * the action ends `Cancelled`, its commands `Completed`, their results downloadable, the cancellation
   * fields naming `requestor` (default an analyst's UPN) and `comment`.
   */
  cancelledByOther?: { requestor?: string; comment?: string; afterMs?: number };
}

/**
 * A file on a device: literal bytes/text, or synthetic content of `size` bytes generated from `seed`
 * while streaming, so a 1 GiB GetFile never sits in memory.
 */
export type DeviceFile = Uint8Array | string | SyntheticFile;
export interface SyntheticFile {
  size: number;
  seed?: number;
}

export interface ScriptBehaviour {
  exitCode?: number;
  stdout?: string;
  stderr?: string;
  /** Service ms; > 10 min makes the command fail (RunScript timeout). */
  durationMs?: number;
  /** The command itself fails (not just a non-zero exit code). */
  fail?: boolean;
  /** Serve the transcript in the non-strict shape of Microsoft's own example (same as `transcriptLayout: "docs"`). */
  nonStrictTranscript?: boolean;
  transcriptLayout?: TranscriptLayout;
  /** Files the script leaves on the device (so a later GetFile finds them). */
  creates?: Record<string, DeviceFile>;
}

export interface EmulatorLimits {
  submitPerMinute: number; // 10
  callsPerMinute: number; // 100
  callsPerHour: number; // 1500
  concurrentSessions: number; // 25 or 50
  queueWindowMs: number; // 2 h current doc, 3 days older
  linkValidityMs: number; // 30 min
  runScriptTimeoutMs: number; // 10 min
  libraryMaxBytes: number; // 20 MB
  /** Server page size for list endpoints; a longer result gets `@odata.nextLink` (mde-api.md §8.12). */
  pageSize: number; // 10,000
}

export interface FaultSpec {
  seed?: number;
  /** Probability per API call of a 5xx. */
  serverErrorRate?: number;
  /** Probability per API call of a dropped connection (socket destroyed before/after processing). */
  connectionResetRate?: number;
  /** Probability per download of a truncated body. */
  truncatedBodyRate?: number;
  /** Probability per download of a slow body (service ms per chunk). */
  slowBodyRate?: number;
  /** 429 storms: during [start, start+duration) service ms after the emulator started, every API call gets 429 (with or without Retry-After). */
  throttleStorms?: { startMs: number; durationMs: number; retryAfter: boolean }[];
  /** Tokens expire this many service ms after issue (default 3599 s, Entra's `expires_in`). */
  tokenLifetimeMs?: number;
  /** Probability per 5xx/reset-eligible call that a reset happens after the request was processed. */
  resetAfterProcessingShare?: number;
  /** Service ms a slow download waits between chunks (default 200). */
  slowChunkDelayMs?: number;
}

export interface FleetSpec {
  seed: number;
  count: number;
  /** Share of devices that are offline / inactive / unsupported (0..1). */
  offlineRate?: number;
  inactiveRate?: number;
  unsupportedRate?: number;
  /** Share of devices held by another (portal) live response session for good. */
  busyRate?: number;
  /** Share of devices where every RunScript command fails. */
  failingRate?: number;
  tags?: string[];
  /** DNS suffix of generated names (default corp.contoso.com). */
  domain?: string;
  /**
   * Share of devices whose entity leaves out some optional fields (onboardingStatus, healthStatus,
   * osVersion, lastIpAddress, …; D5), each such device a seeded subset, some shown as null. Default 0.1.
   */
  sparseRate?: number;
  /** Share of Windows devices whose `osVersion` is a release name such as `20H2` (R5). Default 0.3. */
  releaseNameRate?: number;
  /** Share of devices whose scripts answer in the docs' non-strict transcript layout. Default 0.1. */
  nonStrictTranscriptRate?: number;
}

/**
 * Service behaviours the captures (shared/real-captures) settle, with switches for tests that need the
 * older emulator behaviour or a rarer variant. All draws are seeded (`EmulatorOptions.seed`).
 */
export interface ServiceBehaviour {
  /**
   * R1: a PutFile/RunScript naming a file the library lacks is accepted (201, Pending) and its command
   * fails when it runs (`failAtCommand`, default); `refuseAtSubmission` answers 400 InvalidInput (older).
   */
  missingLibraryFile: "failAtCommand" | "refuseAtSubmission";
  /** Fractional digits of timestamps: `captured` 2–7 (default), `fixed7` always 7. */
  timestampDigits: TimestampDigits;
  /** RunScript result layout for scripts and devices that set none (default `captured`). */
  transcriptLayout: TranscriptLayout;
  /**
   * R3: result links as the captured user-delegation SAS (`userDelegation`, default: `sp=rt`, `rscd`,
   * `skoid`/`sktid`/`skt`/`ske`/`sks`/`skv`) or the docs' older service SAS (`serviceSas`: `sp=r`).
   */
  linkStyle: "userDelegation" | "serviceSas";
  /**
   * O2: a share (`rate`, seeded per action) of actions stay InProgress for `minMs`–`maxMs` after their
   * last command ended before turning final; a cancel in that window ends them Cancelled with every
   * command Completed and the results downloadable. Default rate 0 (off).
   */
  completionLag: { rate: number; minMs: number; maxMs: number };
  /**
   * docs issue #5907 (seen for an antivirus scan, unknown for live response): a share (`rate`, seeded)
   * of `runliveresponse` calls on a device with an API-visible pending/running action answer `status`
   * (201 or 200) with that EXISTING action (someone else's comment and commands) instead of 400
   * ActiveRequestAlreadyExists. Default rate 0 (off).
   */
  duplicateReturnsExisting: { rate: number; status: 200 | 201 };
  /**
   * LibraryFile entities with `sha256` (`sent`, default, as §5.3 documents) or without it (`omitted`):
   * the reference lists the field but does not promise it is always there, so clients must cope.
   */
  librarySha256: "sent" | "omitted";
}

export interface RegisteredApp {
  tenantId: string;
  clientId: string;
  clientSecret?: string;
  /** PEM certificate whose key signs client assertions (thumbprint checked). */
  certificatePem?: string;
  /** Federated credentials: GitHub-style OIDC issuer/subject/audience. */
  federated?: { issuer: string; subject: string; audience: string }[];
  roles: string[];
}

export interface EmulatorOptions {
  host?: string; // 127.0.0.1
  port?: number; // 0 = any
  clock?: Clock;
  seed?: number;
  devices?: DeviceSpec[];
  fleet?: FleetSpec;
  limits?: Partial<EmulatorLimits>;
  faults?: FaultSpec;
  apps?: RegisteredApp[];
  library?: { fileName: string; content: Uint8Array | string; description?: string }[];
  defaultCommandDurationMs?: number;
  /** Service ms between submission (or the device coming online) and the action turning InProgress. */
  pickupDelayMs?: number;
  /**
   * Completed non-live-response actions (scans, isolations) seeded in the history, spread over the first
   * devices, so list queries meet `commands: []` entities too (§7.15). Default 0.
   */
  historicActions?: number;
  /** Keep a `call` record per API request (default true; turn off for chaos/benchmark runs). */
  recordCalls?: boolean;
  /** Seconds of TLS key generation are avoided by passing a certificate in (e.g. reused across tests). */
  tlsCertificate?: { certPem: string; keyPem: string };
  /** Capture-driven behaviours and their switches (defaults: `DEFAULT_BEHAVIOUR` in index.ts). */
  behaviour?: BehaviourUpdate;
}

export type BehaviourUpdate = Partial<
  Omit<ServiceBehaviour, "completionLag" | "duplicateReturnsExisting"> & {
    completionLag: Partial<ServiceBehaviour["completionLag"]>;
    duplicateReturnsExisting: Partial<ServiceBehaviour["duplicateReturnsExisting"]>;
  }
>;

/** One line of the emulator's record of what happened. */
export type EmulatorRecord =
  | { kind: "submit"; at: number; actionId: string; machineId: string; comment: string; commands: unknown[] }
  | { kind: "rejected"; at: number; machineId: string; status: number; code: string }
  | { kind: "status"; at: number; actionId: string; status: string }
  | { kind: "command"; at: number; actionId: string; index: number; status: string }
  /** `requestor`: the app id (or UPN) whose cancel it was: ours, or someone else's (O2). */
  | { kind: "cancel"; at: number; actionId: string; requestor: string }
  /** docs #5907: a duplicate submission answered with the existing action `actionId` (nothing new created). */
  | { kind: "duplicate"; at: number; machineId: string; actionId: string; status: number }
  | { kind: "link"; at: number; actionId: string; index: number }
  | {
      kind: "download";
      at: number;
      actionId: string;
      index: number;
      bytes: number;
      sha256: string;
      complete: boolean;
    }
  | { kind: "fault"; at: number; fault: string; path: string }
  | { kind: "call"; at: number; method: string; path: string; status: number };

export interface EmulatorHandle {
  /** MDE API base URL, e.g. http://127.0.0.1:41234 (accepts any Host header, echoes it in @odata.context). */
  readonly url: string;
  /** Entra-like authority host over https, e.g. https://127.0.0.1:41235 (MSAL refuses http). */
  readonly authorityHost: string;
  /** PEM of the self-signed CA/cert the authority host uses; pass it to the client's TLS trust. */
  readonly caPem: string;
  /** Default demo app (tenant, client id, secret, all roles). */
  readonly demoApp: Required<Pick<RegisteredApp, "tenantId" | "clientId" | "clientSecret">>;
  readonly clock: Clock;
  /**
   * How a client signs in to this emulator as the demo app (client secret through its Entra), as plain
   * data shaped like the client's ConnectionOptions: `createMdeClient({ ...emu.connectionOptions(), env: {} })`.
   */
  connectionOptions(): EmulatorConnectionOptions;
  /** Mint an API token directly (for bearer-token tests). */
  issueToken(options?: {
    roles?: string[];
    audience?: string;
    lifetimeMs?: number;
    tenantId?: string;
    appId?: string;
  }): string;
  /**
   * Mint a GitHub-Actions-style OIDC ID token (issuer https://token.actions.githubusercontent.com, signed
   * by a key only this emulator trusts) for federated sign-in tests. Lifetime in service ms (default 5 min).
   */
  issueGitHubIdToken(options: {
    subject: string;
    audience?: string;
    lifetimeMs?: number;
    issuer?: string;
  }): string;
  readonly records: readonly EmulatorRecord[];
  /** Read access to the emulated state for assertions. */
  readonly state: EmulatorStateView;
  /** Change behaviour at run time (faults, devices, limits, capture-driven behaviours). */
  configure(update: {
    faults?: FaultSpec;
    limits?: Partial<EmulatorLimits>;
    devices?: DeviceSpec[];
    behaviour?: BehaviourUpdate;
  }): void;
  /**
   * O2: cancel a non-final action now as someone else (not the caller's app), e.g. an analyst in the
   * portal. Returns the entity as the API now shows it; throws RangeError for an unknown or final action.
   */
  cancelAsOther(
    actionId: string,
    options?: { requestor?: string; comment?: string },
  ): Record<string, unknown>;
  close(): Promise<void>;
}

/**
 * Structurally a subset of shared/config ConnectionOptions (plus the client's clock); declared here so
 * the emulator never depends on the client it is used to test.
 */
export interface EmulatorConnectionOptions {
  apiUrl: string;
  authorityHost: string;
  tenantId: string;
  clientId: string;
  clientSecret: string;
  caPem: string;
  clock: Clock;
}

export interface EmulatorStateView {
  machineIds(): string[];
  /** Raw action entities as the API would return them. */
  actions(): unknown[];
  libraryFileNames(): string[];
  callCounts(): Record<string, number>;
}
