/**
 * The run's chain of custody across processes: each entry point (start, resume, cancel) records itself as
 * a session, durably, before it submits or cancels anything, so a process killed mid-run is still on record.
 */
import type { Clock } from "../clock.js";
import { addSession, emptyCustody, newSession, type SessionRole } from "../custody/index.js";
import type { Journal, RunState } from "../state/journal.js";
import type { RunContext } from "./types.js";

export function beginSession(
  journal: Journal,
  runState: RunState,
  role: SessionRole,
  ctx: RunContext,
  clock: Clock,
  /** When the session began (service ms); default now. startRun passes the run's start. */
  atMs = clock.now(),
): void {
  // Folders of older versions have no custody yet: their earlier sessions are unknown, not invented.
  runState.custody ??= emptyCustody();
  addSession(runState.custody, newSession(role, ctx.initiator, ctx.api, atMs));
  journal.writeRun(runState);
}
