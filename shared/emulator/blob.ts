/**
 * Result links and downloads (mde-api.md §4.5–4.6, §7.12–7.13): SAS-like URLs on the emulator's own
 * server (`/blob/investigation-actions-data/...`), signed with an HMAC over the path and the decoded
 * value of every signed query parameter (as Azure Storage signs a SAS), so a client that drops,
 * re-encodes twice or edits any of them gets 403 AuthenticationFailed; expiring `linkValidityMs` after
 * issue on the emulator clock. No Authorization needed.
 *
 * The default link is laid out like the captured one (R3): a user-delegation SAS, `sp=rt`, `sv` and
 * `skv` 2020-06-12, `rscd=attachment; filename=output_<guid>_<index>.json` percent-encoded (`%3B%20`),
 * `skoid`/`sktid`/`skt`/`ske`/`sks`, then `sig`. The docs' older service SAS (`sp=r`, 2019-07-07) stays
 * as `linkStyle: "serviceSas"`. R3 was valid 45 min (`skt` to `se`); the docs say 30, which stays the
 * default (`limits.linkValidityMs`): a client must renew on expiry whatever the window is.
 *
 * RunScript results are JSON transcripts (the captured strict layout by default), GetFile results a
 * single-member gzip of the file bytes, streamed so a synthetic 1 GiB file never sits in memory.
 */
import {
  createCipheriv,
  createHash,
  createHmac,
  createSecretKey,
  randomBytes,
  timingSafeEqual,
} from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { crc32, gzipSync } from "node:zlib";
import type { Clock } from "../clock.js";
import type { ResultSource } from "./lifecycle.js";
import type { RecordLog } from "./records.js";
import type { DeviceFile, ServiceBehaviour, SyntheticFile, TranscriptLayout } from "./types.js";

export const BLOB_PREFIX = "/blob/investigation-actions-data/";
const SAS_VERSION = { userDelegation: "2020-06-12", serviceSas: "2019-07-07" } as const;

export interface LinkTarget {
  actionId: string;
  index: number;
}

export interface LinkOptions {
  issuedAt: number;
  expiresAt: number;
  style: ServiceBehaviour["linkStyle"];
  /** `json` for a RunScript transcript (R3), `gz` for a GetFile (its `rscd` name is not captured). */
  extension: "json" | "gz";
}

/** Signed parameters, in the order the string-to-sign takes them (Azure's user-delegation SAS order). */
const SIGNED = ["sp", "se", "skoid", "sktid", "skt", "ske", "sks", "skv", "sv", "sr", "rscd"] as const;

/** Azure writes SAS times to the second. */
const sasTime = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(".000Z", "Z");

/** A GUID derived from text, so the same command always names the same result file. */
function guidOf(text: string): string {
  const h = createHash("sha256").update(text).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export class LinkSigner {
  private readonly key = createSecretKey(randomBytes(32));
  /** The signing identity of a user-delegation key: stable per emulator, like the service's own. */
  private readonly signerObjectId = guidOf(randomBytes(16).toString("hex"));
  private readonly signerTenantId = guidOf(randomBytes(16).toString("hex"));

  create(baseUrl: string, target: LinkTarget, options: LinkOptions): string {
    // A random segment makes every link distinct, as the service hands out a new URL per call.
    const nonce = randomBytes(16).toString("hex");
    const path = `${BLOB_PREFIX}${target.actionId}/${target.index}/CustomPlaybookCommandOutput/${nonce}`;
    const se = sasTime(options.expiresAt);
    const params: [string, string][] =
      options.style === "serviceSas"
        ? [
            ["se", se],
            ["sp", "r"],
            ["sv", SAS_VERSION.serviceSas],
            ["sr", "b"],
          ]
        : [
            ["se", se],
            ["sp", "rt"],
            ["sv", SAS_VERSION.userDelegation],
            ["sr", "b"],
            [
              "rscd",
              `attachment; filename=output_${guidOf(`${target.actionId}/${target.index}`)}_${target.index}.${options.extension}`,
            ],
            ["skoid", this.signerObjectId],
            ["sktid", this.signerTenantId],
            ["skt", sasTime(options.issuedAt)],
            ["ske", se],
            ["sks", "b"],
            ["skv", SAS_VERSION.userDelegation],
          ];
    const values = new Map(params);
    params.push(["sig", this.sign(path, (name) => values.get(name) ?? null)]);
    // Percent-encoding as Azure writes it (`%3A`, `%3B%20`), not URLSearchParams' form encoding (`+`).
    const query = params.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join("&");
    return `${baseUrl}${path}?${query}`;
  }

  /** The link's target when the signature holds; `expired` when `se` has passed. */
  verify(pathname: string, query: URLSearchParams, now: number): LinkTarget | "invalid" | "expired" {
    const sig = query.get("sig");
    const se = query.get("se");
    if (!sig || !se) return "invalid";
    const expected = Buffer.from(this.sign(pathname, (name) => query.get(name)));
    const given = Buffer.from(sig);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return "invalid";
    if (Date.parse(se) <= now) return "expired";
    const m = /^\/blob\/investigation-actions-data\/([0-9a-f-]{36})\/(\d+)\//.exec(pathname);
    if (!m?.[1] || !m[2]) return "invalid";
    return { actionId: m[1], index: Number(m[2]) };
  }

  private sign(path: string, get: (name: string) => string | null): string {
    const material = [path, ...SIGNED.map((name) => `${name}=${get(name) ?? ""}`)].join("\n");
    return createHmac("sha256", this.key).update(material).digest("base64");
  }
}

/** The response headers Azure derives from the SAS (`rscd` → Content-Disposition). */
export function sasResponseHeaders(query: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = { "x-ms-version": query.get("sv") ?? SAS_VERSION.serviceSas };
  const disposition = query.get("rscd");
  // Only emulator-made names reach here (the signature covers rscd); still never echo a raw control char.
  if (disposition && /^[\x20-\x7e]+$/.test(disposition)) out["Content-Disposition"] = disposition;
  return out;
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

/** The layout a script's transcript is served in: the script's own, the device's, the service default. */
export function layoutOf(source: Extract<ResultSource, { kind: "transcript" }>): TranscriptLayout {
  const b = source.behaviour;
  if (b.transcriptLayout) return b.transcriptLayout;
  if (b.nonStrictTranscript) return "docs";
  return source.layout;
}

export function transcriptBody(source: Extract<ResultSource, { kind: "transcript" }>): Buffer {
  const b = source.behaviour;
  const layout = layoutOf(source);
  const transcriptPath =
    "C:\\ProgramData\\Microsoft\\Windows Defender Advanced Threat Protection\\Temp\\PSScriptOutputs\\PSScript_Transcript_" +
    createHash("sha1")
      .update(source.scriptName + source.deviceName)
      .digest("hex")
      .slice(0, 8)
      .toUpperCase() +
    ".txt";
  const stdout = b.stdout ?? `Script ${source.scriptName} completed on ${source.deviceName}`;
  if (layout === "docs") {
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
  const output = `Transcript started, output file is ${transcriptPath}\n${stdout}`;
  if (layout === "compact") {
    return Buffer.from(
      JSON.stringify({
        script_name: source.scriptName,
        exit_code: b.exitCode ?? 0,
        script_output: output,
        script_errors: b.stderr ?? "",
      }),
      "utf8",
    );
  }
  // The captured layout: Python-style separators, this key order, the output ending in an escaped
  // "\n\u0000". Whether the service escapes non-ASCII (`\uXXXX`) is not captured: kept as UTF-8 here.
  const q = (text: string) => JSON.stringify(text);
  const tail = `${output.endsWith("\n") ? output : `${output}\n`}\u0000`;
  return Buffer.from(
    `{"script_name": ${q(source.scriptName)}, "exit_code": ${b.exitCode ?? 0}, "script_output": ${q(tail)}, "script_errors": ${q(b.stderr ?? "")}}`,
    "utf8",
  );
}

export function isSynthetic(file: DeviceFile): file is SyntheticFile {
  return typeof file === "object" && !(file instanceof Uint8Array);
}

/**
 * Deterministic pseudo-random bytes for a synthetic file: one 1 MiB AES-CTR keystream block of the seed,
 * re-stamped with the chunk number so chunks differ. Cheap enough to stream gigabytes on a small machine.
 */
export function* syntheticChunks(file: SyntheticFile, chunkSize = 1_048_576): Generator<Buffer> {
  const key = createHash("sha256")
    .update(`synthetic:${file.seed ?? 0}`)
    .digest()
    .subarray(0, 16);
  const block = createCipheriv("aes-128-ctr", key, Buffer.alloc(16)).update(Buffer.alloc(chunkSize));
  let left = file.size;
  for (let n = 0; left > 0; n++) {
    const size = Math.min(chunkSize, left);
    const chunk = Buffer.allocUnsafe(size);
    block.copy(chunk, 0, 0, size);
    if (size >= 8) chunk.writeDoubleLE(n, 0);
    yield chunk;
    left -= size;
  }
}

const GZIP_HEADER = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0xff]);
const STORED_MAX = 65_535;

/**
 * Frames `data` as stored (uncompressed) deflate blocks. A gzip of stored blocks is a valid single-member
 * gzip; it skips zlib, whose work would be wasted on incompressible synthetic bytes anyway.
 */
function storedBlocks(data: Buffer, last: boolean): Buffer[] {
  const out: Buffer[] = [];
  for (let offset = 0; offset < data.length || (last && offset === 0); offset += STORED_MAX) {
    const len = Math.min(STORED_MAX, data.length - offset);
    const header = Buffer.allocUnsafe(5);
    header[0] = last && offset + len >= data.length ? 1 : 0;
    header.writeUInt16LE(len, 1);
    header.writeUInt16LE(~len & 0xffff, 3);
    out.push(header, data.subarray(offset, offset + len));
    if (len === 0) break;
  }
  return out;
}

export function deviceFileBytes(file: Exclude<DeviceFile, SyntheticFile>): Buffer {
  return typeof file === "string" ? Buffer.from(file, "utf8") : Buffer.from(file);
}

export interface DownloadOptions {
  /** Headers the SAS asks for (x-ms-version, Content-Disposition). */
  headers: Record<string, string>;
  truncate: boolean;
  slowDelayMs: number;
  clock: Clock;
  records: RecordLog;
  target: LinkTarget;
}

const COMMON_HEADERS = {
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
      ...options.headers,
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
  res.writeHead(200, { ...COMMON_HEADERS, ...options.headers, "Content-Type": "application/octet-stream" });
  if (req.method === "HEAD") {
    res.end();
    return;
  }
  const memoKey = `${file.size}:${file.seed ?? 0}`;
  const knownSha = syntheticSha256.get(memoKey);
  const hash = knownSha ? undefined : createHash("sha256");
  const cutoff = options.truncate ? Math.floor(file.size / 2) : file.size;
  let sent = 0;
  let produced = 0;
  let crc = 0;
  const write = async (buffers: Buffer[]) => {
    for (const b of buffers) {
      sent += b.length;
      if (!res.write(b)) await waitDrain(res);
      if (res.destroyed) return;
    }
  };
  await write([GZIP_HEADER]);
  for (const chunk of syntheticChunks(file)) {
    if (res.destroyed || produced + chunk.length > cutoff) break;
    produced += chunk.length;
    hash?.update(chunk);
    crc = crc32(chunk, crc);
    await write([Buffer.concat(storedBlocks(chunk, produced === file.size))]);
    await pace();
  }
  if (options.truncate || res.destroyed || produced !== file.size) {
    res.destroy();
    record(sent, "", false);
    return;
  }
  if (file.size === 0) await write(storedBlocks(Buffer.alloc(0), true));
  const trailer = Buffer.allocUnsafe(8);
  trailer.writeUInt32LE(crc >>> 0, 0);
  trailer.writeUInt32LE(file.size % 2 ** 32, 4);
  await write([trailer]);
  res.end();
  const sha256 = knownSha ?? hash?.digest("hex") ?? "";
  syntheticSha256.set(memoKey, sha256);
  record(sent, sha256, true);
}

/** sha256 per synthetic (size, seed), memoised: hashing a GiB costs seconds on a small machine. */
const syntheticSha256 = new Map<string, string>();

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
  if (!isSynthetic(file)) return hash.update(deviceFileBytes(file)).digest("hex");
  const key = `${file.size}:${file.seed ?? 0}`;
  const known = syntheticSha256.get(key);
  if (known) return known;
  for (const chunk of syntheticChunks(file)) hash.update(chunk);
  const sha256 = hash.digest("hex");
  syntheticSha256.set(key, sha256);
  return sha256;
}
