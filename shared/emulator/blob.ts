/**
 * Result links and downloads (mde-api.md §4.5–4.6, §7.12–7.13): SAS-like URLs on the emulator's own
 * server (`/blob/investigation-actions-data/...`), signed with an HMAC over path and query so any edit
 * breaks them, expiring `linkValidityMs` after issue on the emulator clock. No Authorization needed.
 * RunScript results are JSON transcripts, GetFile results a single-member gzip of the file bytes,
 * streamed so a synthetic 1 GiB file never sits in memory.
 */
import { createCipheriv, createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createGzip, gzipSync } from "node:zlib";
import type { Clock } from "../clock.js";
import type { ResultSource } from "./lifecycle.js";
import type { RecordLog } from "./records.js";
import type { DeviceFile, SyntheticFile } from "./types.js";

export const BLOB_PREFIX = "/blob/investigation-actions-data/";
const SAS_VERSION = "2019-07-07";

export interface LinkTarget {
  actionId: string;
  index: number;
}

export class LinkSigner {
  private readonly key = randomBytes(32);

  create(baseUrl: string, target: LinkTarget, expiresAt: number): string {
    // A random segment makes every link distinct, as the service hands out a new URL per call.
    const nonce = randomBytes(16).toString("hex");
    const path = `${BLOB_PREFIX}${target.actionId}/${target.index}/CustomPlaybookCommandOutput/${nonce}`;
    const se = new Date(Math.floor(expiresAt / 1000) * 1000).toISOString().replace(".000Z", "Z");
    const query = new URLSearchParams({ se, sp: "r", sv: SAS_VERSION, sr: "b" });
    query.set("sig", this.sign(path, query));
    return `${baseUrl}${path}?${query.toString()}`;
  }

  /** The link's target when the signature holds; `expired` when `se` has passed. */
  verify(pathname: string, query: URLSearchParams, now: number): LinkTarget | "invalid" | "expired" {
    const sig = query.get("sig");
    const se = query.get("se");
    if (!sig || !se) return "invalid";
    const expected = Buffer.from(this.sign(pathname, query));
    const given = Buffer.from(sig);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return "invalid";
    if (Date.parse(se) <= now) return "expired";
    const m = /^\/blob\/investigation-actions-data\/([0-9a-f-]{36})\/(\d+)\//.exec(pathname);
    if (!m?.[1] || !m[2]) return "invalid";
    return { actionId: m[1], index: Number(m[2]) };
  }

  private sign(path: string, query: URLSearchParams): string {
    const material = [path, query.get("sv"), query.get("se"), query.get("sp"), query.get("sr")].join("\n");
    return createHmac("sha256", this.key).update(material).digest("base64");
  }
}

export function storageError(res: ServerResponse, status: number, code: string, message: string): void {
  const body = `\uFEFF<?xml version="1.0" encoding="utf-8"?><Error><Code>${code}</Code><Message>${message}\nRequestId:${randomBytes(16).toString("hex")}\nTime:${new Date().toISOString()}</Message></Error>`;
  res.writeHead(status, {
    "Content-Type": "application/xml",
    "Content-Length": Buffer.byteLength(body),
    "x-ms-error-code": code,
  });
  res.end(body);
}

export function transcriptBody(source: Extract<ResultSource, { kind: "transcript" }>): Buffer {
  const b = source.behaviour;
  const transcriptPath =
    "C:\\ProgramData\\Microsoft\\Windows Defender Advanced Threat Protection\\Temp\\PSScriptOutputs\\PSScript_Transcript_" +
    createHash("sha1")
      .update(source.scriptName + source.deviceName)
      .digest("hex")
      .slice(0, 8)
      .toUpperCase() +
    ".txt";
  const stdout = b.stdout ?? `Script ${source.scriptName} completed on ${source.deviceName}`;
  if (b.nonStrictTranscript) {
    // Microsoft's own example (get-live-response-result.md): a raw line break inside the string and
    // NUL padding — not valid JSON, on purpose, so clients prove they parse tolerantly.
    const escaped = stdout.replace(/\\/g, "\\\\").replace(/"/g, '\\"');
    const text =
      "{\n" +
      `\t"script_name": "${source.scriptName}",\n` +
      `\t"exit_code": ${b.exitCode ?? 0},\n` +
      `\t"script_output": "Transcript started, output file is ${transcriptPath.replace(/\\/g, "\\\\")}\n${escaped}\\u0000\\u0000\\u0000\\u0000",\n` +
      `\t"script_errors": "${(b.stderr ?? "").replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"\n` +
      "}";
    return Buffer.from(text, "utf8");
  }
  return Buffer.from(
    JSON.stringify({
      script_name: source.scriptName,
      exit_code: b.exitCode ?? 0,
      script_output: `Transcript started, output file is ${transcriptPath}\n${stdout}`,
      script_errors: b.stderr ?? "",
    }),
    "utf8",
  );
}

export function isSynthetic(file: DeviceFile): file is SyntheticFile {
  return typeof file === "object" && !(file instanceof Uint8Array);
}

/** Deterministic pseudo-random bytes (AES-CTR keystream of the seed) in 64 KiB chunks. */
export function* syntheticChunks(file: SyntheticFile, chunkSize = 65_536): Generator<Buffer> {
  const key = createHash("sha256")
    .update(`synthetic:${file.seed ?? 0}`)
    .digest()
    .subarray(0, 16);
  const cipher = createCipheriv("aes-128-ctr", key, Buffer.alloc(16));
  const zeros = Buffer.alloc(chunkSize);
  let left = file.size;
  while (left > 0) {
    const n = Math.min(chunkSize, left);
    yield cipher.update(n === chunkSize ? zeros : zeros.subarray(0, n));
    left -= n;
  }
}

export function deviceFileBytes(file: Exclude<DeviceFile, SyntheticFile>): Buffer {
  return typeof file === "string" ? Buffer.from(file, "utf8") : Buffer.from(file);
}

export interface DownloadOptions {
  truncate: boolean;
  slowDelayMs: number;
  clock: Clock;
  records: RecordLog;
  target: LinkTarget;
}

const COMMON_HEADERS = {
  "x-ms-version": SAS_VERSION,
  "x-ms-blob-type": "BlockBlob",
  "Accept-Ranges": "bytes",
};

/** Streams one result. Records sha256 of the result as the client should store it (file bytes / transcript). */
export async function sendResult(
  req: IncomingMessage,
  res: ServerResponse,
  source: ResultSource,
  options: DownloadOptions,
): Promise<void> {
  const at = options.clock.now();
  const record = (bytes: number, sha256: string, complete: boolean) =>
    options.records.add({
      kind: "download",
      at,
      actionId: options.target.actionId,
      index: options.target.index,
      bytes,
      sha256,
      complete,
    });
  const pace = async () => {
    if (options.slowDelayMs > 0) await options.clock.sleep(options.slowDelayMs);
  };

  const literal = source.kind === "transcript" || !isSynthetic(source.content);
  if (literal) {
    const raw =
      source.kind === "transcript"
        ? transcriptBody(source)
        : deviceFileBytes(source.content as Exclude<DeviceFile, SyntheticFile>);
    const body = source.kind === "transcript" ? raw : gzipSync(raw);
    const sha256 = createHash("sha256").update(raw).digest("hex");
    res.writeHead(200, {
      ...COMMON_HEADERS,
      "Content-Type": source.kind === "transcript" ? "application/json" : "application/octet-stream",
      "Content-Length": body.length,
      "Content-MD5": createHash("md5").update(body).digest("base64"),
    });
    if (req.method === "HEAD") {
      res.end();
      return;
    }
    const limit = options.truncate ? Math.floor(body.length / 2) : body.length;
    let sent = 0;
    const step = options.slowDelayMs > 0 ? 16_384 : body.length || 1;
    while (sent < limit && !res.destroyed) {
      const chunk = body.subarray(sent, Math.min(limit, sent + step));
      sent += chunk.length;
      if (!res.write(chunk)) await waitDrain(res);
      if (sent < limit) await pace();
    }
    if (options.truncate) {
      // Content-Length promised more: destroying the socket is what a dropped transfer looks like.
      res.destroy();
      record(sent, sha256, false);
      return;
    }
    res.end();
    record(sent, sha256, !res.destroyed);
    return;
  }

  const file = source.content as SyntheticFile;
  res.writeHead(200, { ...COMMON_HEADERS, "Content-Type": "application/octet-stream" });
  if (req.method === "HEAD") {
    res.end();
    return;
  }
  // Level 0 (stored blocks): the synthetic bytes are incompressible anyway and this keeps 1 GiB fast.
  const gzip = createGzip({ level: 0 });
  const hash = createHash("sha256");
  let sentBytes = 0;
  gzip.on("data", (chunk: Buffer) => {
    sentBytes += chunk.length;
    if (!res.write(chunk)) gzip.pause();
  });
  res.on("drain", () => gzip.resume());
  const ended = new Promise<void>((resolve) => gzip.on("end", resolve));
  const cutoff = options.truncate ? Math.floor(file.size / 2) : file.size;
  let produced = 0;
  for (const chunk of syntheticChunks(file)) {
    if (res.destroyed) break;
    hash.update(chunk);
    produced += chunk.length;
    if (produced > cutoff) break;
    if (!gzip.write(chunk)) await new Promise((r) => gzip.once("drain", r));
    await pace();
  }
  const sha256 = options.truncate || res.destroyed ? "" : hash.digest("hex");
  if (options.truncate || res.destroyed) {
    gzip.destroy();
    res.destroy();
    record(sentBytes, sha256, false);
    return;
  }
  gzip.end();
  await ended;
  res.end();
  record(sentBytes, sha256, true);
}

function waitDrain(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}

/** sha256 of a device file's bytes (streamed for synthetic files), for tests comparing downloads. */
export function deviceFileSha256(file: DeviceFile): string {
  const hash = createHash("sha256");
  if (isSynthetic(file)) for (const chunk of syntheticChunks(file)) hash.update(chunk);
  else hash.update(deviceFileBytes(file));
  return hash.digest("hex");
}
