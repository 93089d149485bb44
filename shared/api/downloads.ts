/**
 * Result downloads from the signed (SAS) URL: plain GET with no Authorization header (the signature is
 * the credential, and a bearer token must never go to blob storage). Streamed end to end — never buffered
 * whole — into `dest.part`, hashed on the fly, then renamed so a reader never sees a partial file.
 */
import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, rename, rm } from "node:fs/promises";
import { dirname } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { request } from "undici";
import type { Clock } from "../clock.js";
import { isLoopbackHost } from "../config/clouds.js";
import {
  CancelledError,
  DownloadError,
  DownloadLinkExpiredError,
  InputError,
  MdeLrError,
} from "../errors.js";
import type { HttpDispatchers } from "../http/dispatcher.js";
import { readCapped } from "../http/error-decoder.js";
import { type CallCounter, emit, type HttpHooks } from "../http/events.js";
import { redact, redactError, registerSasUrl, releaseSasUrl } from "../redact.js";
import type { DownloadedFile } from "./types.js";

export interface DownloadDeps {
  dispatchers: HttpDispatchers;
  clock: Clock;
  hooks: HttpHooks;
  counter: CallCounter;
  /** Real ms without data before giving up (undici body timeout). Default 5 min. */
  idleTimeoutMs?: number;
}

/**
 * Gunzip output buffer size. Measured on 256 MiB gzip results (a client process per run, 2 loaded
 * cores, noisy): 64 KiB, the size of a socket read, gave the lowest peak RSS (120–154 MiB, median
 * ~137, against 148–163 at zlib's 16 KiB default and 145–172 at 256 KiB–1 MiB) at about the same speed.
 *
 * Why the peak stays above 120 MiB (the benchmark goal) without a GC hack: RSS before the download is
 * 74–81 MiB (node alone 42; undici, msal and our modules the rest). Every socket read and every gunzip
 * output is a fresh ArrayBuffer, and no public API lets us read into or inflate into a reused one
 * (undici's body chunks are views of the socket's reads; zlib allocates its own output). Their JS
 * wrappers are too small to ever fill V8's new space, so no scavenge runs; the dead buffers are only
 * freed by the mark-compacts V8 starts on external-memory growth, and `arrayBuffers` peaks at 35–65
 * MiB in between. Even a forced minor GC every 16 MiB (`--expose-gc`, not allowed in a library) only
 * reached 126–129 MiB here, and a Worker with `resourceLimits.maxYoungGenerationSizeMb: 2` 123–136.
 */
const GUNZIP_CHUNK_BYTES = 64 * 1024;

/** Sums the length of every chunk a readable emits, without a stream stage of its own. */
function countBytes(stream: Readable): { readonly bytes: number } {
  const counter = { bytes: 0 };
  stream.on("data", (chunk: Buffer) => {
    counter.bytes += chunk.length;
  });
  return counter;
}

/** sha256 and length of every chunk a readable emits, computed in its data handler. */
function hashBytes(stream: Readable): { readonly bytes: number; digest(): string } {
  const hash = createHash("sha256");
  let bytes = 0;
  stream.on("data", (chunk: Buffer) => {
    hash.update(chunk);
    bytes += chunk.length;
  });
  return {
    get bytes() {
      return bytes;
    },
    digest: () => hash.digest("hex"),
  };
}

function checkUrl(url: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new InputError("url", "expected the absolute download URL returned by getResultDownloadLink");
  }
  if (u.protocol !== "https:" && !(u.protocol === "http:" && isLoopbackHost(u.hostname))) {
    throw new InputError("url", "download links must be https (http only on loopback)");
  }
  return u;
}

/**
 * Streams `url` to `destPath`. With `gunzip`, the file on disk and the sha256 are of the original
 * (decompressed) bytes; multi-member gzip is handled by Node's gunzip.
 */
export async function downloadTo(
  deps: DownloadDeps,
  url: string,
  destPath: string,
  options: { gunzip: boolean; signal?: AbortSignal | undefined },
): Promise<DownloadedFile> {
  const u = checkUrl(url);
  // One use of the link's literals for as long as this download may mention it (see releaseSasUrl).
  registerSasUrl(url);
  try {
    return await streamTo(deps, u, destPath, options);
  } finally {
    releaseSasUrl(url);
  }
}

async function streamTo(
  deps: DownloadDeps,
  u: URL,
  destPath: string,
  options: { gunzip: boolean; signal?: AbortSignal | undefined },
): Promise<DownloadedFile> {
  const where = `${u.host}${u.pathname}`;
  deps.counter.add("download");
  emit(deps.hooks.onRequest, { kind: "download", method: "GET", path: u.pathname, attempt: 1 });
  const started = deps.clock.now();
  let res: Awaited<ReturnType<typeof request>>;
  try {
    res = await request(u, {
      method: "GET",
      dispatcher: deps.dispatchers.for(u),
      signal: options.signal,
      headers: { accept: "*/*" },
      headersTimeout: deps.idleTimeoutMs ?? 300_000,
      bodyTimeout: deps.idleTimeoutMs ?? 300_000,
    });
  } catch (error) {
    if (options.signal?.aborted) throw new CancelledError("download cancelled");
    throw new DownloadError(`download from ${redact(where)} failed: ${redactError(error)}`);
  }
  emit(deps.hooks.onResponse, {
    kind: "download",
    method: "GET",
    path: u.pathname,
    attempt: 1,
    status: res.statusCode,
    durationMs: deps.clock.now() - started,
  });
  if (res.statusCode !== 200) {
    const text = await readCapped(res.body, 16 * 1024);
    if (res.statusCode === 403 && /AuthenticationFailed/i.test(text)) {
      throw new DownloadLinkExpiredError(
        `result download link for ${redact(where)} expired or was refused (403 AuthenticationFailed); request a fresh link`,
      );
    }
    throw new DownloadError(`download from ${redact(where)} failed: HTTP ${res.statusCode}`);
  }

  const expected = Number(res.headers["content-length"]);
  const part = `${destPath}.part`;
  await mkdir(dirname(destPath), { recursive: true });
  // Counting and hashing ride on extra 'data' listeners rather than Transform stages: a stage costs a
  // callback, a push and its own buffering per chunk. The listeners are attached before pipeline()'s
  // pipe() starts the flow (on the next tick), so they see every chunk, and back-pressure pauses them
  // with the pipe. Only the original bytes are hashed: a digest of the compressed bytes is of no use.
  const wire = countBytes(res.body);
  const gunzip = options.gunzip ? createGunzip({ chunkSize: GUNZIP_CHUNK_BYTES }) : undefined;
  const original = hashBytes(gunzip ?? res.body);
  try {
    const sig = options.signal ? { signal: options.signal } : {};
    if (gunzip) await pipeline(res.body, gunzip, createWriteStream(part), sig);
    else await pipeline(res.body, createWriteStream(part), sig);
    const received = wire.bytes;
    if (Number.isFinite(expected) && expected >= 0 && received !== expected) {
      throw new DownloadError(`download from ${redact(where)} truncated: ${received} of ${expected} bytes`);
    }
    await rename(part, destPath);
  } catch (error) {
    await rm(part, { force: true });
    if (options.signal?.aborted) throw new CancelledError("download cancelled");
    if (error instanceof MdeLrError) throw error;
    const zlib = (error as { code?: unknown }).code;
    const what =
      typeof zlib === "string" && zlib.startsWith("Z_") ? "bad or truncated gzip data" : redactError(error);
    throw new DownloadError(
      `download from ${redact(where)} failed: ${what}; request a fresh link and retry`,
      { cause: error },
    );
  }
  return { path: destPath, bytes: original.bytes, sha256: original.digest() };
}
