/**
 * Building the chain of custody from what front ends and the service say: sanitized initiators, one
 * session per process, the service's requestors, the runbook's origin. Pure functions over plain data;
 * shared/run persists the results (run.json, the journal's run state) and report/build.ts writes them.
 */
import type { MdeApi } from "../api/types.js";
import { redact } from "../redact.js";
import type { Runbook } from "../runbook/types.js";
import { gitOrigin } from "./git.js";
import {
  type AppIdentity,
  type Custody,
  type CustodySession,
  type CustodyState,
  INITIATOR_FIELDS,
  type Initiator,
  type InitiatorKind,
  type RunbookCustody,
  type SessionRole,
} from "./types.js";

export type * from "./types.js";

const KINDS: readonly InitiatorKind[] = ["github-action", "cli", "pulumi", "api"];
/** Sessions kept: the first (who started the run) and the latest ones. */
export const MAX_SESSIONS = 100;
/** Distinct requestors kept (the service records one per app or user; more means something odd). */
const MAX_REQUESTORS = 50;
const MAX_FIELD = 512;

// Control, zero-width and bidi characters: custody text is shown in comments and pages, one line each.
// biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]+/g;

/** Plain, short, single-line text; anything registered as a secret is masked (belt and braces). */
function clean(value: unknown): string | null {
  if (typeof value !== "string") return null;
  const text = redact(value.replace(CONTROL, " ").replace(/\s+/g, " ").trim());
  if (!text) return null;
  return text.length > MAX_FIELD ? `${text.slice(0, MAX_FIELD - 1)}…` : text;
}

/** Only the known fields, as short strings; an unknown kind is `api`. */
export function cleanInitiator(value: Initiator | null | undefined): Initiator {
  const kind = value && KINDS.includes(value.kind) ? value.kind : "api";
  const out: Initiator = { kind };
  if (!value) return out;
  for (const field of INITIATOR_FIELDS) {
    const v = clean(value[field]);
    if (v !== null) out[field] = v;
  }
  return out;
}

export function appIdentityOf(api: MdeApi): AppIdentity {
  const id = api.identity;
  if (!id) return { clientId: null, tenantId: null, source: null };
  return { clientId: clean(id.clientId), tenantId: clean(id.tenantId), source: id.source };
}

export function newSession(
  role: SessionRole,
  initiator: Initiator | undefined,
  api: MdeApi,
  nowMs: number,
): CustodySession {
  return {
    role,
    at: new Date(nowMs).toISOString(),
    initiator: cleanInitiator(initiator),
    app: appIdentityOf(api),
  };
}

export function emptyCustody(): CustodyState {
  return { sessions: [], requestors: [] };
}

/** Adds a session; past MAX_SESSIONS the oldest after the first is dropped (and counted). */
export function addSession(state: CustodyState, session: CustodySession): void {
  state.sessions.push(session);
  while (state.sessions.length > MAX_SESSIONS) {
    state.sessions.splice(1, 1);
    state.omittedSessions = (state.omittedSessions ?? 0) + 1;
  }
}

/** Records a requestor the service reported on one of the run's actions; true when it is new. */
export function noteRequestor(state: CustodyState, requestor: string | null | undefined): boolean {
  const r = clean(requestor);
  if (r === null || state.requestors.includes(r) || state.requestors.length >= MAX_REQUESTORS) return false;
  state.requestors.push(r);
  return true;
}

/** What the run runs, fixed at plan time: name, digests, path in its repository and the commit. */
export function runbookCustody(runbook: Runbook): RunbookCustody {
  const src = runbook.source;
  if (!src) return { name: runbook.name, sha256: null, hashOf: null, label: null, path: null, git: null };
  let path = src.path;
  let git: RunbookCustody["git"] = null;
  if (src.hashOf === "file" && src.path) {
    try {
      const found = gitOrigin(src.path, src.gitBlob);
      if (found) {
        path = found.path;
        git = found.origin;
      }
    } catch {
      // Custody is a record, never a reason for a run to fail: an unreadable repository is "unknown".
    }
  }
  return {
    name: runbook.name,
    sha256: src.sha256,
    hashOf: src.hashOf,
    label: clean(src.label),
    path,
    git,
  };
}

/** report.json's `custody`: what run.json and the journal hold (absent in folders of older versions). */
export function custodyReport(runbook: RunbookCustody | undefined, state: CustodyState | undefined): Custody {
  return {
    requestors: [...(state?.requestors ?? [])],
    sessions: [...(state?.sessions ?? [])],
    omittedSessions: state?.omittedSessions ?? 0,
    runbook: runbook ?? null,
  };
}
