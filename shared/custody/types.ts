/**
 * Chain of custody: who ran a run (and every process that resumed or cancelled it), what it ran, as
 * plain JSON. Front ends describe themselves as an `Initiator`; the core persists it with the run's state
 * (journal.ts `RunState.custody`) and writes the block into report.json (docs/report.md, _custody_).
 * Nothing here is ever a credential: ids and names only.
 */

/** Which front end drove a process: the GitHub Action, the CLI, the Pulumi provider, or code (`api`). */
export type InitiatorKind = "github-action" | "cli" | "pulumi" | "api";

/**
 * The person or automation behind one process, as its front end knows it. Only `kind` is always there;
 * every other field is present when known and is a short plain string.
 */
export interface Initiator {
  kind: InitiatorKind;
  /** The person: the GitHub actor (action), the OS user (CLI). */
  user?: string;
  /** The person the run was done for when it differs from `user` (a ChatOps commenter). */
  requestedBy?: string;
  /** The machine (CLI: os.hostname()). */
  host?: string;
  /** GitHub: `owner/repo`, workflow name and file ref, the commit the workflow ran at, the event. */
  repository?: string;
  workflow?: string;
  workflowRef?: string;
  commit?: string;
  eventName?: string;
  /** GitHub workflow run id and attempt, and the attempt's page. */
  runId?: string;
  runAttempt?: string;
  runUrl?: string;
  /** Pulumi project and stack. */
  project?: string;
  stack?: string;
}

export const INITIATOR_FIELDS = [
  "user",
  "requestedBy",
  "host",
  "repository",
  "workflow",
  "workflowRef",
  "commit",
  "eventName",
  "runId",
  "runAttempt",
  "runUrl",
  "project",
  "stack",
] as const satisfies readonly (keyof Initiator)[];

/**
 * The Entra app a process signed in as. `source`: `connection` — the client and tenant id it was
 * configured with; `token-claims` — read from a ready-made access token's `appid`/`azp` and `tid`
 * claims, decoded but NOT verified (the service verifies the token; these are what it claims to be);
 * null — unknown (an MdeApi that does not say).
 */
export interface AppIdentity {
  clientId: string | null;
  tenantId: string | null;
  source: "connection" | "token-claims" | null;
}

/** `start`: startRun; `resume`: resumeRun; `cancel`: cancelRun. */
export type SessionRole = "start" | "resume" | "cancel";

/** One process that worked on the run. */
export interface CustodySession {
  role: SessionRole;
  /** When it began (service clock, ISO-8601). */
  at: string;
  initiator: Initiator;
  app: AppIdentity;
}

/** What the run ran, fixed when it was planned (run.json). */
export interface RunbookCustody {
  /** The runbook's `name`. */
  name: string;
  /** SHA-256 of what was parsed: the file's bytes (`hashOf: file`) or the text given inline (`text`). */
  sha256: string | null;
  hashOf: "file" | "text" | null;
  /** Where inline text came from (e.g. "`commands` input", "LiveResponseCollection args"). */
  label: string | null;
  /** The file: relative to its git repository's root (POSIX) when in one, else absolute. */
  path: string | null;
  /** The commit the repository's HEAD was at when the run started; null outside a repository. */
  git: GitOrigin | null;
}

export interface GitOrigin {
  /** 40-hex commit HEAD pointed at (read from the repository's files; git is not run). */
  commit: string | null;
  /** The branch ref HEAD named (`refs/heads/main`); null for a detached HEAD. */
  ref: string | null;
  /**
   * The git blob id (SHA-1 of `blob <size>\0<bytes>`) of the file as loaded: equal to
   * `git rev-parse <commit>:<path>` when the working file is the committed one.
   */
  blob: string | null;
}

/** Run-level custody persisted in the journal's run state; survives resume and cancel. */
export interface CustodyState {
  sessions: CustodySession[];
  /** Sessions dropped from the middle of a very long list (the first and the latest are kept). */
  omittedSessions?: number;
  /** Distinct `requestor` values the service recorded on the run's actions, in the order first seen. */
  requestors: string[];
}

/** report.json `custody` (schema version 3). */
export interface Custody {
  requestors: string[];
  sessions: CustodySession[];
  omittedSessions: number;
  runbook: RunbookCustody | null;
}
