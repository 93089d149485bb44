/**
 * Result downloads and proxy routing over real loopback HTTP: a scripted server plays blob storage
 * (multi-member gzip, broken gzip, truncated bodies, expired-SAS XML) and a recording server plays the
 * corporate proxy.
 */
import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { createMdeClient } from "../../shared/api/client.js";
import {
  AuthenticationError,
  DownloadError,
  DownloadLinkExpiredError,
  NetworkError,
} from "../../shared/errors.js";
import { redact } from "../../shared/redact.js";
import { loopbackServers } from "./loopback.js";

const listen = loopbackServers();

const SIG = "Zm9vYmFyc2lnbmF0dXJlMTIz%2BYWJj%3D";
const sas = (base: string, name: string) =>
  `${base}/blob/${name}?se=2026-01-01T00%3A30%3A00Z&sp=r&sv=2019-07-07&sr=b&sig=${SIG}`;
const client = () =>
  createMdeClient({ apiUrl: "http://127.0.0.1:9", accessToken: "tok-for-download-tests", env: {} });

describe("downloads", () => {
  it("GET without Authorization, multi-member gzip → original bytes, sha256, atomic rename", async () => {
    const part1 = Buffer.from("first member;");
    const part2 = Buffer.alloc(200_000, 0x41);
    const auths: (string | undefined)[] = [];
    const { url } = await listen((req, res) => {
      auths.push(req.headers.authorization);
      res.writeHead(200, { "content-type": "application/octet-stream" });
      res.end(Buffer.concat([gzipSync(part1), gzipSync(part2)]));
    });
    const dir = await mkdtemp(join(tmpdir(), "mde-dl-"));
    const dest = join(dir, "nested", "out.bin");
    const c = client();
    const r = await c.downloadGetFileResult(sas(url, "a"), dest);
    const original = Buffer.concat([part1, part2]);
    expect(r).toEqual({
      path: dest,
      bytes: original.length,
      sha256: createHash("sha256").update(original).digest("hex"),
    });
    expect(Buffer.compare(await readFile(dest), original)).toBe(0);
    expect(await readdir(join(dir, "nested"))).toEqual(["out.bin"]);
    expect(auths).toEqual([undefined]);
    await c.close();
  });

  it("bad gzip and truncated bodies → DownloadError, no file and no .part left", async () => {
    const gz = gzipSync(randomBytes(100_000)); // incompressible, so a cut really loses data
    let mode = "garbage";
    const { url } = await listen((req, res) => {
      if (mode === "garbage") {
        res.writeHead(200);
        res.end(Buffer.from("this is not gzip at all"));
      } else if (mode === "cut-gzip") {
        res.writeHead(200); // chunked: only the gzip trailer check can notice
        res.end(gz.subarray(0, gz.length - 100));
      } else {
        res.writeHead(200, { "content-length": String(gz.length) });
        res.write(gz.subarray(0, 1000));
        setTimeout(() => req.socket.destroy(), 20);
      }
    });
    const dir = await mkdtemp(join(tmpdir(), "mde-dl-"));
    const c = client();
    for (const m of ["garbage", "cut-gzip", "short-content-length"]) {
      mode = m;
      const dest = join(dir, `${m}.bin`);
      const err = await c.downloadGetFileResult(sas(url, m), dest).catch((e: unknown) => e);
      expect(err, m).toBeInstanceOf(DownloadError);
      expect((err as Error).message).not.toContain(SIG);
      expect(existsSync(dest)).toBe(false);
      expect(existsSync(`${dest}.part`)).toBe(false);
    }
    // Raw (RunScript) downloads notice a short body by its Content-Length.
    const err = await c.downloadScriptResult(sas(url, "raw"), join(dir, "raw.json")).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DownloadError);
    await c.close();
  });

  it("expired SAS (403 AuthenticationFailed XML) → DownloadLinkExpiredError without the signature", async () => {
    const { url } = await listen((_req, res) => {
      res.writeHead(403, { "content-type": "application/xml" });
      res.end(
        '<?xml version="1.0" encoding="utf-8"?><Error><Code>AuthenticationFailed</Code><Message>Server failed to authenticate the request. Signed expiry time [Thu, 01 Jan 2026 00:30:00 GMT] must be after signed start time</Message></Error>',
      );
    });
    const c = client();
    const err = (await c
      .downloadGetFileResult(sas(url, "x"), join(tmpdir(), "never.bin"))
      .catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(DownloadLinkExpiredError);
    expect(err.message).not.toContain(SIG);
    expect(redact(sas(url, "x"))).not.toContain(SIG);
    await c.close();
  });

  it("refuses non-https download links off loopback", async () => {
    const c = client();
    await expect(c.downloadGetFileResult("http://example.com/x?sig=abc", "/tmp/x")).rejects.toMatchObject({
      field: "url",
    });
    await c.close();
  });
});

describe("proxies", () => {
  /** A proxy that records CONNECT targets and refuses them (nothing leaves this machine). */
  async function recordingProxy(): Promise<{ url: string; targets: string[] }> {
    const targets: string[] = [];
    const { url, server } = await listen((req, res) => {
      targets.push(`${req.method} ${req.url}`);
      res.writeHead(502);
      res.end();
    });
    server.on("connect", (req, socket) => {
      targets.push(`CONNECT ${req.url}`);
      socket.end("HTTP/1.1 403 Forbidden\r\n\r\n");
    });
    return { url, targets };
  }

  it("sends API calls and sign-in through HTTPS_PROXY, but never loopback", async () => {
    const proxy = await recordingProxy();
    const env = { HTTPS_PROXY: proxy.url, HTTP_PROXY: proxy.url };
    const api = createMdeClient({ accessToken: "tok-proxy-test", env, retry: { maxAttempts: 1 } });
    await expect(api.getMachine("a".repeat(40))).rejects.toBeInstanceOf(NetworkError);
    expect(proxy.targets).toContain("CONNECT api.security.microsoft.com:443");

    const signIn = createMdeClient({
      tenantId: "11111111-2222-3333-4444-555555555555",
      clientId: "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
      clientSecret: "proxy-test-secret-value",
      env,
    });
    const err = (await signIn.getMachine("a".repeat(40)).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(AuthenticationError);
    expect(err.message).not.toContain("proxy-test-secret-value");
    expect(proxy.targets.some((t) => t.startsWith("CONNECT login.microsoftonline.com:443"))).toBe(true);

    // Loopback goes direct even with a proxy configured.
    const { url } = await listen((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ id: "a".repeat(40) }));
    });
    const before = proxy.targets.length;
    const local = createMdeClient({ apiUrl: url, accessToken: "tok-proxy-test", env });
    await expect(local.getMachine("a".repeat(40))).resolves.toMatchObject({ id: "a".repeat(40) });
    expect(proxy.targets.length).toBe(before);
    await Promise.all([api.close(), signIn.close(), local.close()]);
  });
});
