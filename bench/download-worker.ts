/**
 * Child process of bench/download.ts: one GetFile result download through the real client
 * (stream → gunzip → sha256 → file), nothing else loaded, so its peak RSS is the client's.
 */
import { createMdeClient } from "../shared/api/client.js";
import { childMain } from "./harness/child.js";

export interface DownloadJob {
  url: string;
  dest: string;
  apiUrl: string;
  accessToken: string;
}

export interface DownloadOutcome {
  ms: number;
  bytes: number;
  sha256: string;
  /** RSS once the client is loaded and built, just before the download starts. */
  rssBeforeBytes: number;
}

childMain<DownloadJob, DownloadOutcome>(async (job) => {
  const api = createMdeClient({ apiUrl: job.apiUrl, accessToken: job.accessToken, useEnvProxy: false });
  try {
    const rssBeforeBytes = process.memoryUsage.rss();
    const started = performance.now();
    const file = await api.downloadGetFileResult(job.url, job.dest);
    return { ms: performance.now() - started, bytes: file.bytes, sha256: file.sha256, rssBeforeBytes };
  } finally {
    await api.close();
  }
});
