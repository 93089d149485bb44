/**
 * Streaming behaviour of result downloads over real loopback HTTP: bodies far larger than one gunzip
 * or socket chunk, written in many small pieces, must hash and land byte for byte; an abort mid-body
 * must leave nothing behind.
 */
import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile } from "node:fs/promises";
import type { ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { createMdeClient } from "../../shared/api/client.js";
import { CancelledError } from "../../shared/errors.js";
import { loopbackServers } from "./loopback.js";

const listen = loopbackServers();

const sas = (base: string, name: string) =>
  `${base}/blob/${name}?sv=2019-07-07&sr=b&sig=c3RyZWFtdGVzdA%3D%3D`;
const client = () =>
  createMdeClient({ apiUrl: "http://127.0.0.1:9", accessToken: "tok-for-stream-tests", env: {} });

/** Writes `body` in `piece`-sized writes, waiting for drain, so the client sees many small reads. */
async function writeInPieces(res: ServerResponse, body: Buffer, piece: number): Promise<void> {
  for (let at = 0; at < body.length; at += piece) {
    if (!res.write(body.subarray(at, at + piece))) await new Promise((r) => res.once("drain", r));
  }
  res.end();
}

const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

describe("download streaming", () => {
  it("a multi-MiB, multi-member gzip in small writes → every original byte, its sha256 and count", async () => {
    // Half incompressible, half highly compressible: gunzip output chunks then differ wildly in size
    // from the wire chunks, and the hash must still cover each byte exactly once, in order.
    const members = [randomBytes(3 * 1024 * 1024), Buffer.alloc(5 * 1024 * 1024, 0x5a), randomBytes(777)];
    const original = Buffer.concat(members);
    const gz = Buffer.concat(members.map((m) => gzipSync(m)));
    const { url } = await listen((_req, res) => {
      res.writeHead(200, { "content-length": String(gz.length) });
      void writeInPieces(res, gz, 1500);
    });
    const dir = await mkdtemp(join(tmpdir(), "mde-dls-"));
    const dest = join(dir, "dump.bin");
    const c = client();
    await expect(c.downloadGetFileResult(sas(url, "gz"), dest)).resolves.toEqual({
      path: dest,
      bytes: original.length,
      sha256: sha256(original),
    });
    expect(Buffer.compare(await readFile(dest), original)).toBe(0);
    await c.close();
  });

  it("raw (script output) downloads hash and count the bytes as served, chunked or not", async () => {
    const body = randomBytes(2 * 1024 * 1024 + 13);
    const { url } = await listen((req, res) => {
      // Without content-length the body is chunked: only the end of the stream says it is whole.
      res.writeHead(200, req.url?.includes("chunked") ? {} : { "content-length": String(body.length) });
      void writeInPieces(res, body, 4096);
    });
    const dir = await mkdtemp(join(tmpdir(), "mde-dls-"));
    const c = client();
    for (const name of ["sized", "chunked"]) {
      const dest = join(dir, `${name}.json`);
      await expect(c.downloadScriptResult(sas(url, name), dest)).resolves.toMatchObject({
        bytes: body.length,
        sha256: sha256(body),
      });
      expect(Buffer.compare(await readFile(dest), body)).toBe(0);
    }
    await c.close();
  });

  it("abort mid-body → CancelledError, no file and no .part left", async () => {
    const gz = gzipSync(randomBytes(4 * 1024 * 1024));
    let sent = 0;
    const { url } = await listen((_req, res) => {
      res.writeHead(200, { "content-length": String(gz.length) });
      // Half the body, then silence: the download is in its streaming phase when the abort lands.
      res.write(gz.subarray(0, gz.length / 2), () => {
        sent = gz.length / 2;
      });
    });
    const dir = await mkdtemp(join(tmpdir(), "mde-dls-"));
    const dest = join(dir, "aborted.bin");
    const c = client();
    const controller = new AbortController();
    const pending = c.downloadGetFileResult(sas(url, "abort"), dest, { signal: controller.signal });
    // Abort only once the .part file exists, i.e. bytes were flowing to disk.
    while (!existsSync(`${dest}.part`) || sent === 0) await new Promise((r) => setTimeout(r, 10));
    controller.abort();
    await expect(pending).rejects.toBeInstanceOf(CancelledError);
    expect(await readdir(dir)).toEqual([]);
    await c.close();
  });
});
