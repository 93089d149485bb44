/**
 * Wraps an MdeApi so every call of a run goes through the run's budgets and is counted by kind.
 * Plan building (machines, library) and the scheduler share one account, so polls and result links
 * are planned with what target resolution already spent in mind.
 */
import type { MdeApi } from "../api/types.js";
import type { Clock } from "../clock.js";
import type { Limits } from "../runbook/types.js";
import { type Priority, SlidingWindowBudget } from "./budget.js";

export type CallKind = "submit" | "poll" | "cancel" | "link" | "download" | "machines" | "library";

export type CallCounts = Record<CallKind, number>;

export interface MeteredApi {
  api: MdeApi;
  counts: CallCounts;
  /** runliveresponse: `submitPerMinute`. Not taken by `api.runLiveResponse`: the caller takes a slot first. */
  submitBudget: SlidingWindowBudget;
  /** Every other MDE endpoint: `callsPerMinute` and `callsPerHour` (downloads go to storage, not MDE). */
  callBudget: SlidingWindowBudget;
}

const MINUTE = 60_000;
const HOUR = 3_600_000;

export function meterApi(
  inner: MdeApi,
  clock: Clock,
  limits: Limits,
  onWait?: (reason: "rateLimit" | "quota", untilMs: number) => void,
  /** Sees each call as it is made (the run's timeline); must not throw. */
  onCall?: (kind: CallKind) => void,
): MeteredApi {
  const counts: CallCounts = {
    submit: 0,
    poll: 0,
    cancel: 0,
    link: 0,
    download: 0,
    machines: 0,
    library: 0,
  };
  const submitBudget = new SlidingWindowBudget(clock, [{ limit: limits.submitPerMinute, windowMs: MINUTE }]);
  // Low-priority calls (links, machines, library) leave a few calls of each window to polls and cancels:
  // 10 % of a minute, 2 % of an hour (the link-bound poll cadence, poll-interval.ts).
  const callBudget = new SlidingWindowBudget(clock, [
    { limit: limits.callsPerMinute, windowMs: MINUTE, lowReserve: Math.ceil(limits.callsPerMinute * 0.1) },
    { limit: limits.callsPerHour, windowMs: HOUR, lowReserve: Math.ceil(limits.callsPerHour * 0.02) },
  ]);

  async function metered<T>(
    kind: CallKind,
    priority: Priority,
    signal: AbortSignal | undefined,
    call: () => Promise<T>,
  ): Promise<T> {
    // Submissions are gated by the scheduler itself (it takes the slot before journaling the intent).
    const budget = kind === "submit" || kind === "download" ? null : callBudget;
    const release = budget
      ? await budget.acquire(priority, signal, (until) =>
          onWait?.(kind === "submit" ? "rateLimit" : "quota", until),
        )
      : () => {};
    counts[kind]++;
    onCall?.(kind);
    try {
      return await call();
    } finally {
      release();
    }
  }

  const api: MdeApi = {
    getMachine: (id, o) => metered("machines", "low", o?.signal, () => inner.getMachine(id, o)),
    listMachines: (q, o) => metered("machines", "low", o?.signal, () => inner.listMachines(q, o)),
    findMachinesByTag: (tag, sw, o) =>
      metered("machines", "low", o?.signal, () => inner.findMachinesByTag(tag, sw, o)),
    runLiveResponse: (id, req, o) =>
      metered("submit", "high", o?.signal, () => inner.runLiveResponse(id, req, o)),
    getMachineAction: (id, o) => metered("poll", "high", o?.signal, () => inner.getMachineAction(id, o)),
    listMachineActions: (q, o) => metered("poll", "high", o?.signal, () => inner.listMachineActions(q, o)),
    cancelMachineAction: (id, c, o) =>
      metered("cancel", "high", o?.signal, () => inner.cancelMachineAction(id, c, o)),
    getResultDownloadLink: (id, i, o) =>
      metered("link", "low", o?.signal, () => inner.getResultDownloadLink(id, i, o)),
    downloadGetFileResult: (u, d, o) =>
      metered("download", "low", o?.signal, () => inner.downloadGetFileResult(u, d, o)),
    downloadScriptResult: (u, d, o) =>
      metered("download", "low", o?.signal, () => inner.downloadScriptResult(u, d, o)),
    listLibraryFiles: (o) => metered("library", "low", o?.signal, () => inner.listLibraryFiles(o)),
    uploadLibraryFile: (up, o) => metered("library", "low", o?.signal, () => inner.uploadLibraryFile(up, o)),
    deleteLibraryFile: (n, o) => metered("library", "low", o?.signal, () => inner.deleteLibraryFile(n, o)),
  };
  return { api, counts, submitBudget, callBudget };
}
