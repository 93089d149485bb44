/** Result links and downloads (§7.12, §7.13): SAS-like links, transcripts, gzip files, expiry, streaming. */
import { createHash } from "node:crypto";
import { pipeline } from "node:stream/promises";
import { createGunzip, gunzipSync } from "node:zlib";
import { request } from "undici";
import { afterEach, describe, expect, test } from "vitest";
import { deviceFileSha256 } from "../../shared/emulator/index.js";
import type { DeviceSpec } from "../../shared/emulator/types.js";
import { errorCode, getFile, type Harness, harness, putFile, runScript } from "./helpers.js";

let h: Harness;
afterEach(() => h?.emu.close());

const LIBRARY = [
  { fileName: "collect.ps1", content: "x" },
  { fileName: "tool.exe", content: "MZ" },
];

async function finished(
  devices: DeviceSpec[],
  commands: unknown[],
  extra: Parameters<typeof harness>[0] = {},
) {
  h = await harness({ devices, library: LIBRARY, ...extra });
  const r = await h.call("POST", `/api/machines/${h.emu.state.machineIds()[0]}/runliveresponse`, {
    Commands: commands,
    Comment: "results",
  });
  expect(r.status).toBe(201);
  return String(r.json.id);
}
const linkPath = (actionId: string, index: number) =>
  `/api/machineactions/${actionId}/GetLiveResponseResultDownloadLink(index=${index})`;

describe("§7.12 result links", () => {
  test("§7.12 200 Edm.String envelope; a new SAS-like URL per call; expires 30 min later (linkStyle serviceSas)", async () => {
    const actionId = await finished([{ computerDnsName: "a" }], [runScript("collect.ps1")], {
      behaviour: { linkStyle: "serviceSas" },
    });
    h.clock.advance(60_000);
    const a = await h.call("GET", linkPath(actionId, 0));
    const b = await h.call("GET", linkPath(actionId, 0));
    expect(a.status).toBe(200);
    expect(a.json["@odata.context"]).toMatch(/\/api\/\$metadata#Edm\.String$/);
    const url = new URL(String(a.json.value));
    expect(url.pathname).toMatch(/^\/blob\/investigation-actions-data\//);
    expect(Object.fromEntries(url.searchParams)).toMatchObject({ sp: "r", sr: "b", sv: "2019-07-07" });
    expect(url.searchParams.get("sig")).toBeTruthy();
    expect(Date.parse(url.searchParams.get("se") ?? "")).toBe(h.clock.now() + 30 * 60_000);
    expect(b.json.value).not.toBe(a.json.value);
    expect(h.emu.records.filter((x) => x.kind === "link").length).toBe(2);
  });

  test("§7.12 400 while the command is not complete; 400 for a PutFile index; 404 unknown action", async () => {
    const actionId = await finished(
      [{ computerDnsName: "a" }],
      [putFile("tool.exe"), runScript("collect.ps1")],
    );
    const early = await h.call("GET", linkPath(actionId, 1));
    expect(early.status).toBe(400);
    h.clock.advance(60_000);
    expect((await h.call("GET", linkPath(actionId, 1))).status).toBe(200);
    const put = await h.call("GET", linkPath(actionId, 0));
    expect(put.status).toBe(400);
    expect(errorCode(put)).toBe("BadRequest");
    expect((await h.call("GET", linkPath(actionId, 7))).status).toBe(400);
    const unknown = await h.call("GET", linkPath("0b9e5c1a-1111-4222-a333-444455556666", 0));
    expect(unknown.status).toBe(404);
    expect(errorCode(unknown)).toBe("ResourceNotFound");
  });
});

describe("§7.13 downloads", () => {
  test("§7.13 RunScript → JSON transcript, no Authorization header needed", async () => {
    const actionId = await finished(
      [
        {
          computerDnsName: "a",
          scripts: { "collect.ps1": { exitCode: 3, stdout: "found 2 items", stderr: "warn" } },
        },
      ],
      [runScript("collect.ps1")],
    );
    h.clock.advance(60_000);
    const url = String((await h.call("GET", linkPath(actionId, 0))).json.value);
    const res = await fetch(url);
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ script_name: "collect.ps1", exit_code: 3, script_errors: "warn" });
    expect(String(body.script_output)).toMatch(
      /^Transcript started, output file is C:\\ProgramData.*\nfound 2 items/s,
    );
    expect(String(body.script_output).endsWith("found 2 items\n\u0000")).toBe(true);
  });

  test("§7.13 nonStrictTranscript reproduces Microsoft's non-strict example (raw newline, \\u0000 padding)", async () => {
    const actionId = await finished(
      [
        {
          computerDnsName: "a",
          scripts: { "collect.ps1": { stdout: "Dump file created", nonStrictTranscript: true } },
        },
      ],
      [runScript("collect.ps1")],
    );
    h.clock.advance(60_000);
    const text = await (await fetch(String((await h.call("GET", linkPath(actionId, 0))).json.value))).text();
    expect(() => JSON.parse(text)).toThrow();
    expect(text).toMatch(/"script_output": "Transcript started[^"]*\.txt\nDump file created\\u0000\\u0000/);
    expect(text).toContain('"script_name": "collect.ps1"');
  });

  test("§7.13 GetFile → single-member gzip of the file bytes; records sha256 and completeness", async () => {
    const content = "line 1\r\nline 2\r\n";
    const actionId = await finished(
      [{ computerDnsName: "a", files: { "C:\\Windows\\Temp\\x.log": content } }],
      [getFile("C:\\Windows\\Temp\\x.log")],
    );
    h.clock.advance(60_000);
    const res = await fetch(String((await h.call("GET", linkPath(actionId, 0))).json.value));
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(bytes.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    expect(gunzipSync(bytes).toString()).toBe(content);
    const record = h.emu.records.find((x) => x.kind === "download");
    expect(record).toMatchObject({
      actionId,
      index: 0,
      bytes: bytes.length,
      complete: true,
      sha256: createHash("sha256").update(content).digest("hex"),
    });
  });

  test("§7.13 expired link → 403 AuthenticationFailed XML; tampered link → 403; fresh link works", async () => {
    const actionId = await finished([{ computerDnsName: "a" }], [runScript("collect.ps1")]);
    h.clock.advance(60_000);
    const url = String((await h.call("GET", linkPath(actionId, 0))).json.value);
    const tampered = url.replace(/se=[^&]+/, "se=2099-01-01T00%3A00%3A00Z");
    const bad = await fetch(tampered);
    expect(bad.status).toBe(403);
    expect(await bad.text()).toContain("<Code>AuthenticationFailed</Code>");
    expect((await fetch(url)).status).toBe(200);
    h.clock.advance(30 * 60_000);
    const expired = await fetch(url);
    expect(expired.status).toBe(403);
    expect(expired.headers.get("content-type")).toBe("application/xml");
    expect(await expired.text()).toMatch(
      /<Error><Code>AuthenticationFailed<\/Code><Message>Server failed to authenticate/,
    );
    const fresh = String((await h.call("GET", linkPath(actionId, 0))).json.value);
    expect((await fetch(fresh)).status).toBe(200);
  });

  // 256 MiB keeps the suite quick on a 2-CPU runner; bench/emulator.ts streams the full 1 GiB.
  test("§7.13 a synthetic 256 MiB GetFile streams without being held in memory", async () => {
    const file = { size: 256 * 1024 * 1024, seed: 42 };
    const actionId = await finished(
      [{ computerDnsName: "a", files: { "C:\\big.bin": file } }],
      [getFile("C:\\big.bin")],
    );
    h.clock.advance(60_000);
    const res = await request(String((await h.call("GET", linkPath(actionId, 0))).json.value));
    const before = process.memoryUsage().rss;
    let peak = before;
    const hash = createHash("sha256");
    let size = 0;
    await pipeline(res.body, createGunzip(), async (source: AsyncIterable<Buffer>) => {
      for await (const chunk of source) {
        hash.update(chunk);
        size += chunk.length;
        if (size % (64 * 1024 * 1024) < chunk.length) peak = Math.max(peak, process.memoryUsage().rss);
      }
    });
    expect(size).toBe(file.size);
    const sha256 = hash.digest("hex");
    expect(sha256).toBe(deviceFileSha256(file));
    expect(h.emu.records.find((x) => x.kind === "download")).toMatchObject({ complete: true, sha256 });
    // Client and server share this process: both together stay far below the file's size.
    expect(peak - before).toBeLessThan(128 * 1024 * 1024);
  }, 120_000);
});
