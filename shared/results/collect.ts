/**
 * Bring one command's result home: ask for a signed link, stream it to disk through the client
 * (GetFile is gunzipped to the original bytes, RunScript transcripts are parsed tolerantly), and
 * split a transcript into stdout/stderr text files. Links live 30 minutes and bodies can arrive
 * truncated: both are retried with a fresh link a bounded number of times.
 */
import { createHash } from "node:crypto";
import path from "node:path";
import type { MdeApi } from "../api/types.js";
import type { Clock } from "../clock.js";
import {
  DownloadError,
  DownloadLinkExpiredError,
  MdeApiError,
  NetworkError,
  RateLimitError,
} from "../errors.js";
import { releaseSasUrl } from "../redact.js";
import { getFileResultName, resolveInside, scriptResultBase } from "./paths.js";
import { ensureFolderInside, writeFileAtomic } from "./safe-fs.js";

export interface CollectRequest {
  api: MdeApi;
  clock: Clock;
  outDir: string;
  /** Device folder relative to outDir (from deviceFolderName). */
  deviceFolder: string;
  actionId: string;
  index: number;
  step: number;
  /** What the step was, for naming its files. */
  kind: { type: "RunScript"; scriptName: string } | { type: "GetFile"; path: string };
  signal?: AbortSignal;
  /** Fresh links to try before giving up (expired link, truncated body). Default 6. */
  maxAttempts?: number;
}

export interface CollectedResult {
  /** Result file (GetFile payload / raw transcript), relative to outDir. */
  file: string;
  sha256: string;
  bytes: number;
  exitCode: number | null;
  stdoutFile: string | null;
  stderrFile: string | null;
  stdoutSha256: string | null;
  stderrSha256: string | null;
  /** Transcript was not strict JSON and was recovered by the tolerant parser. */
  nonStrict: boolean;
  attempts: number;
}

function isRetryable(error: unknown): boolean {
  // A dropped connection mid-body is as safe to retry as a truncated one: downloads are idempotent.
  if (
    error instanceof DownloadLinkExpiredError ||
    error instanceof DownloadError ||
    error instanceof NetworkError
  ) {
    return true;
  }
  // A 429 storm can outlast the client's own retries; the result is still there once it passes.
  if (error instanceof RateLimitError) return true;
  // "Link not ready" answers 400 for a moment after a command completes (mde-api.md §4.5).
  return error instanceof MdeApiError && (error.status === 400 || error.status >= 500);
}

/** Service ms to wait before the next attempt. */
function retryDelayMs(error: unknown, attempt: number): number {
  if (error instanceof DownloadLinkExpiredError) return 0; // ask for a fresh link at once
  // Throttled after the client's own retries: wait as the service asks, else a minute (capped at 10).
  if (error instanceof RateLimitError) return Math.min(error.retryAfterMs ?? 60_000, 600_000);
  return 2_000 * attempt; // truncated body or not-ready link: back off a little
}

function sha256(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

export async function collectResult(req: CollectRequest): Promise<CollectedResult> {
  const max = req.maxAttempts ?? 6;
  const folderAbs = ensureFolderInside(req.outDir, req.deviceFolder);
  const name =
    req.kind.type === "GetFile"
      ? getFileResultName(req.step, req.kind.path)
      : `${scriptResultBase(req.step, req.kind.scriptName)}.transcript.json`;
  const rel = `${req.deviceFolder}/${name}`;
  const dest = resolveInside(req.outDir, rel);
  // resolveInside already proved `dest` is under outDir; this also proves it is under the device folder.
  if (path.dirname(dest) !== folderAbs)
    throw new DownloadError(`result name ${name} escapes its device folder`);

  let lastError: unknown;
  for (let attempt = 1; attempt <= max; attempt++) {
    let url: string | null = null;
    try {
      url = await req.api.getResultDownloadLink(req.actionId, req.index, { signal: req.signal });
      if (req.kind.type === "GetFile") {
        const got = await req.api.downloadGetFileResult(url, dest, { signal: req.signal });
        return {
          file: rel,
          sha256: got.sha256,
          bytes: got.bytes,
          exitCode: null,
          stdoutFile: null,
          stderrFile: null,
          stdoutSha256: null,
          stderrSha256: null,
          nonStrict: false,
          attempts: attempt,
        };
      }
      const got = await req.api.downloadScriptResult(url, dest, { signal: req.signal });
      const base = scriptResultBase(req.step, req.kind.scriptName);
      const stdoutFile = `${req.deviceFolder}/${base}.stdout.txt`;
      const stderrFile = `${req.deviceFolder}/${base}.stderr.txt`;
      await writeFileAtomic(resolveInside(req.outDir, stdoutFile), got.transcript.stdout);
      await writeFileAtomic(resolveInside(req.outDir, stderrFile), got.transcript.stderr);
      return {
        file: rel,
        sha256: got.sha256,
        bytes: got.bytes,
        exitCode: got.transcript.exitCode,
        stdoutFile,
        stderrFile,
        stdoutSha256: sha256(got.transcript.stdout),
        stderrSha256: sha256(got.transcript.stderr),
        nonStrict: !got.transcript.strict,
        attempts: attempt,
      };
    } catch (error) {
      lastError = error;
      if (req.signal?.aborted || !isRetryable(error) || attempt === max) break;
      const delay = retryDelayMs(error, attempt);
      if (delay > 0) await req.clock.sleep(delay, req.signal);
    } finally {
      // The link is spent (or refused): its literals leave the redactor; the URL patterns still mask it.
      if (url !== null) releaseSasUrl(url);
    }
  }
  throw lastError;
}
