/**
 * Wraps an MdeApi for one run: every call is counted by kind and carries its quota priority, so planning
 * (machines, library) and the scheduler spend from the same account the HTTP layer enforces. An MdeApi
 * that keeps no quota account of its own (not an HTTP client) has the run's account enforced here instead.
 */
import type { CallOptions, MdeApi } from "../api/types.js";
import type { Priority, QuotaAccount, QuotaClass } from "../http/quota.js";

export type CallKind = "submit" | "poll" | "cancel" | "link" | "download" | "machines" | "library";

export type CallCounts = Record<CallKind, number>;

export interface MeteredApi {
  api: MdeApi;
  counts: CallCounts;
  /** The run's quota account: submissions take their slot from `quota.submit` before journaling. */
  quota: QuotaAccount;
}

export function meterApi(
  inner: MdeApi,
  quota: QuotaAccount,
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
  const enforceHere = inner.quota === undefined;

  async function metered<T>(
    kind: CallKind,
    priority: Priority,
    o: CallOptions | undefined,
    call: (o: CallOptions) => Promise<T>,
  ): Promise<T> {
    counts[kind]++;
    // Downloads go to Azure Storage (SAS links) and count against no MDE quota.
    const cls: QuotaClass | null = kind === "download" ? null : kind === "submit" ? "submit" : "general";
    const onQuotaWait = (until: number) => onWait?.(kind === "submit" ? "rateLimit" : "quota", until);
    // The timeline sees a call when it leaves (after any quota wait), so its chart is what the service saw.
    const onSent = () => onCall?.(kind);
    if (cls === null) {
      onSent();
      return call({ ...o, priority });
    }
    if (!enforceHere || o?.slot) return call({ ...o, priority, onQuotaWait, onSent });
    const slot = await quota.acquire(cls, priority, o?.signal, onQuotaWait);
    onSent();
    try {
      return await call({ ...o, priority });
    } finally {
      slot.release();
    }
  }

  const api: MdeApi = {
    quota,
    getMachine: (id, o) => metered("machines", "low", o, (c) => inner.getMachine(id, c)),
    listMachines: (q, o) => metered("machines", "low", o, (c) => inner.listMachines(q, c)),
    findMachinesByTag: (tag, sw, o) =>
      metered("machines", "low", o, (c) => inner.findMachinesByTag(tag, sw, c)),
    runLiveResponse: (id, req, o) => metered("submit", "high", o, (c) => inner.runLiveResponse(id, req, c)),
    getMachineAction: (id, o) => metered("poll", "high", o, (c) => inner.getMachineAction(id, c)),
    listMachineActions: (q, o) => metered("poll", "high", o, (c) => inner.listMachineActions(q, c)),
    cancelMachineAction: (id, cm, o) =>
      metered("cancel", "high", o, (c) => inner.cancelMachineAction(id, cm, c)),
    getResultDownloadLink: (id, i, o) =>
      metered("link", "low", o, (c) => inner.getResultDownloadLink(id, i, c)),
    downloadGetFileResult: (u, d, o) =>
      metered("download", "low", o, (c) => inner.downloadGetFileResult(u, d, c)),
    downloadScriptResult: (u, d, o) =>
      metered("download", "low", o, (c) => inner.downloadScriptResult(u, d, c)),
    listLibraryFiles: (o) => metered("library", "low", o, (c) => inner.listLibraryFiles(c)),
    uploadLibraryFile: (up, o) => metered("library", "low", o, (c) => inner.uploadLibraryFile(up, c)),
    deleteLibraryFile: (n, o) => metered("library", "low", o, (c) => inner.deleteLibraryFile(n, c)),
  };
  return { api, counts, quota };
}
