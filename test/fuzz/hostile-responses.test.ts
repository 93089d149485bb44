/**
 * Hostile values from the service side (issue 6): malformed or oversized API answers (wrong types,
 * missing fields, cut JSON, HTML, 10 MB error bodies), non-UTF-8 and binary transcripts, a body that is
 * not gzip, and a 100 MB transcript. Each must end in a typed error (MdeLrError) or a safe result —
 * never a crash (TypeError, SyntaxError, unhandled rejection) and never a write outside the output folder.
 */
import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMdeClient, type MdeClient } from "../../shared/api/client.js";
import { ScaledClock } from "../../shared/clock.js";
import { machineIdFor, startEmulator } from "../../shared/emulator/index.js";
import type { EmulatorHandle } from "../../shared/emulator/types.js";
import { MdeLrError } from "../../shared/errors.js";
import { startRun } from "../../shared/run/index.js";
import { parseRunbook } from "../../shared/runbook/index.js";
import { diffTrees, outputFolderEscapes, snapshotTree } from "../chaos/harness/snapshot.js";
import {
  CORRUPTIONS,
  type CorruptingProxy,
  type Corruption,
  startCorruptingProxy,
} from "./corrupting-proxy.js";

const WS1 = machineIdFor("ws1.contoso.local");
const WS2 = machineIdFor("ws2.contoso.local");

const FILE = "C:\\Temp\\evidence.bin";

/** Awaits `p` with a real-time bound, so a hang fails the test instead of stalling the suite. */
async function settle<T>(
  p: Promise<T>,
  ms = 30_000,
): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  try {
    return { ok: true, value: await Promise.race([p, guard]) };
  } catch (error) {
    return { ok: false, error };
  } finally {
    clearTimeout(timer);
  }
}

function lcgBytes(n: number): Buffer {
  const out = Buffer.alloc(n);
  let x = 1;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.constructor.name}: ${error.message.slice(0, 200)}` : String(error);
}

describe("malformed and oversized API answers (corrupting proxy in front of the emulator)", () => {
  let emu: EmulatorHandle;
  let proxy: CorruptingProxy;
  let api: MdeClient;
  let actionId = "";
  let sandbox: string;
  const clock = new ScaledClock({ scale: 2_000 });

  beforeAll(async () => {
    emu = await startEmulator({
      clock,
      devices: [
        {
          computerDnsName: "ws1.contoso.local",
          osPlatform: "Windows11",
          scripts: { "collect.ps1": { exitCode: 0, stdout: "ok" } },
          files: { [FILE]: "evidence" },
          // Long enough that a run is still polling when the proxy starts damaging answers.
          commandDurationMs: 5 * 60_000,
        },
        {
          computerDnsName: "ws2.contoso.local",
          osPlatform: "Windows11",
          scripts: { "collect.ps1": { exitCode: 0, stdout: "ok" } },
          files: { [FILE]: "evidence" },
          // Long enough that a run is still polling when the proxy starts damaging answers.
          commandDurationMs: 2_000,
        },
      ],
      library: [{ fileName: "collect.ps1", content: "Get-Process" }],
    });
    proxy = await startCorruptingProxy(emu.url);
    api = createMdeClient({
      apiUrl: proxy.url,
      accessToken: emu.issueToken({ lifetimeMs: 30 * 24 * 3_600_000 }),
      clock,
      // Few attempts: each corrupted answer is permanent, retrying only costs time.
      retry: { maxAttempts: 2 },
    });
    const action = await api.runLiveResponse(WS1, {
      Commands: [
        { type: "RunScript", params: [{ key: "ScriptName", value: "collect.ps1" }] },
        { type: "GetFile", params: [{ key: "Path", value: FILE }] },
      ],
      Comment: "baseline",
    });
    actionId = action.id;
    for (let i = 0; i < 400; i++) {
      if ((await api.getMachineAction(actionId)).status === "Succeeded") break;
      await clock.sleep(10_000);
    }
    sandbox = mkdtempSync(path.join(os.tmpdir(), "mde-lr-hostile-api-"));
  }, 60_000);

  afterAll(async () => {
    await api?.close();
    await proxy?.close();
    await emu?.close();
    if (sandbox) rmSync(sandbox, { recursive: true, force: true });
  });

  /** Each call with what a safe result must look like. */
  const calls: { name: string; run: () => Promise<unknown>; safe: (v: unknown) => boolean }[] = [
    { name: "listMachines", run: () => api.listMachines(), safe: (v) => Array.isArray(v) },
    {
      name: "getMachine",
      run: () => api.getMachine(WS1),
      safe: (v) => typeof (v as { id?: unknown } | null)?.id === "string",
    },
    {
      name: "getMachineAction",
      run: () => api.getMachineAction(actionId),
      safe: (v) => {
        const a = v as { id?: unknown; status?: unknown; commands?: unknown } | null;
        return typeof a?.id === "string" && typeof a.status === "string" && Array.isArray(a.commands);
      },
    },
    {
      name: "listMachineActions",
      run: () => api.listMachineActions({ filter: `machineId eq '${WS1}'` }),
      safe: (v) => Array.isArray(v) && v.every((a) => typeof (a as { id?: unknown } | null)?.id === "string"),
    },
    {
      name: "getResultDownloadLink",
      run: () => api.getResultDownloadLink(actionId, 1),
      safe: (v) => typeof v === "string" && /^https?:\/\//.test(v),
    },
    { name: "listLibraryFiles", run: () => api.listLibraryFiles(), safe: (v) => Array.isArray(v) },
  ];

  const perCall = async (mode: Corruption): Promise<void> => {
    proxy.mode = mode;
    const problems: string[] = [];
    try {
      for (const call of calls) {
        const r = await settle(call.run());
        if (r.ok && !call.safe(r.value)) {
          problems.push(
            `${call.name}: resolved with an unusable value ${JSON.stringify(r.value)?.slice(0, 200)}`,
          );
        } else if (!r.ok && !(r.error instanceof MdeLrError)) {
          problems.push(`${call.name}: ${describeError(r.error)}`);
        } else if (!r.ok && (r.error as Error).message.length > 4_000) {
          problems.push(
            `${call.name}: error message of ${(r.error as Error).message.length} chars (body not capped)`,
          );
        }
      }
    } finally {
      proxy.mode = null;
    }
    expect(problems).toEqual([]);
  };
  it.each(CORRUPTIONS.map((c) => [c]))(
    "%s: every call ends in a typed error or a safe result",
    async (mode) => perCall(mode as Corruption),
  );

  it.each(
    ["wrongTypes", "missingFields", "cutJson", "html200", "hugeError500"].flatMap((c) => [
      [c, "slow"],
      [c, "fast"],
    ]),
  )(
    "%s (%s device): a whole run ends with a report or a typed error, writing only inside its output folder",
    async (mode, speed) => {
      const target = speed === "fast" ? WS2 : WS1;
      const outDir = path.join(sandbox, `out-${mode}-${speed}`);
      const before = snapshotTree(sandbox, (rel) => rel.startsWith("out-"));
      const runbook = parseRunbook(
        [
          `name: corrupted-${mode}`,
          "targets:",
          `  machineIds: [${target}]`,
          "commands:",
          "  - runScript: collect.ps1",
          `  - getFile: ${JSON.stringify(FILE)}`,
          "options:",
          "  timeout: 20m",
          "  pollInterval: 5",
        ].join("\n"),
        { sourcePath: "r.yaml", baseDir: sandbox },
      );
      // Corrupt once the first action is submitted, so polling, links and downloads meet the damage
      // (planning through a broken API fails early, which is also fine but tests less).
      const onEvent = (e: { type: string }) => {
        if (e.type === "submitted") proxy.mode = mode as Corruption;
      };
      const r = await settle(
        startRun({ api, clock, onEvent }, { runbook, baseDir: sandbox, outDir }),
        45_000,
      );
      proxy.mode = null;
      if (!r.ok) expect(r.error, describeError(r.error)).toBeInstanceOf(MdeLrError);
      else expect(["succeeded", "failed", "partial", "pending", "cancelled"]).toContain(r.value.status);
      expect(outputFolderEscapes(outDir)).toEqual([]);
      expect(
        diffTrees(
          before,
          snapshotTree(sandbox, (rel) => rel.startsWith("out-")),
        ),
      ).toEqual({
        added: [],
        removed: [],
        changed: [],
      });
    },
  );
});

describe("non-UTF-8, binary and non-gzip result bodies (a loopback blob server)", () => {
  let server: ReturnType<typeof createServer>;
  let base = "";
  let api: MdeClient;
  let dir: string;
  const bodies: Record<string, Buffer> = {
    "latin1.json": Buffer.concat([
      Buffer.from('{"script_name":"a.ps1","exit_code":3,"script_output":"caf'),
      Buffer.from([0xe9, 0x20, 0xff, 0xfe, 0xc3, 0x28, 0x80, 0x00]),
      Buffer.from('","script_errors":"\\u0000"}'),
    ]),
    "binary.json": Buffer.from(Array.from({ length: 65_536 }, (_, i) => (i * 7919 + 13) % 256)),
    "empty.json": Buffer.alloc(0),
    "not-gzip.gz": Buffer.from("this is not gzip at all"),
    "binary.gz": gzipSync(Buffer.from([0xff, 0xfe, 0x00, 0x80, 0xc3, 0x28])),
    // Incompressible bytes, so half the gzip stream really is half the data.
    "cut.gz": (() => {
      const gz = gzipSync(lcgBytes(100_000));
      return gz.subarray(0, gz.length >> 1);
    })(),
  };

  beforeAll(async () => {
    server = createServer((req, res) => {
      const body = bodies[(req.url ?? "/").slice(1).split("?")[0] ?? ""];
      if (!body) return res.writeHead(404).end();
      res.writeHead(200, { "content-type": "application/octet-stream", "content-length": body.length });
      res.end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    api = createMdeClient({ apiUrl: base, accessToken: "unused-token-for-downloads" });
    dir = mkdtempSync(path.join(os.tmpdir(), "mde-lr-hostile-bodies-"));
  });
  afterAll(async () => {
    await api?.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  it.each(["latin1.json", "binary.json", "empty.json"].map((n) => [n]))(
    "transcript %s: parsed tolerantly, raw bytes kept on disk exactly",
    async (name) => {
      const dest = path.join(dir, `${name}.transcript`);
      const r = await settle(api.downloadScriptResult(`${base}/${name}?sig=abc`, dest));
      if (!r.ok) {
        expect(r.error, describeError(r.error)).toBeInstanceOf(MdeLrError);
        return;
      }
      const served = bodies[name] as Buffer;
      expect(readFileSync(dest).equals(served)).toBe(true);
      expect(r.value.sha256).toBe(createHash("sha256").update(served).digest("hex"));
      expect(typeof r.value.transcript.stdout).toBe("string");
      if (name === "latin1.json") expect(r.value.transcript.exitCode).toBe(3);
    },
  );

  it.each(["not-gzip.gz", "cut.gz", "binary.gz"].map((n) => [n]))(
    "GetFile %s: original bytes or a DownloadError, and no partial file left behind",
    async (name) => {
      const dest = path.join(dir, `${name}.out`);
      const r = await settle(api.downloadGetFileResult(`${base}/${name}?sig=abc`, dest));
      if (name === "binary.gz") {
        expect(r.ok, r.ok ? "" : describeError(r.error)).toBe(true);
        expect([...readFileSync(dest)]).toEqual([0xff, 0xfe, 0x00, 0x80, 0xc3, 0x28]);
      } else {
        expect(r.ok).toBe(false);
        if (!r.ok) expect(r.error, describeError(r.error)).toBeInstanceOf(MdeLrError);
        expect(readdirSync(dir).filter((f) => f.startsWith(name))).toEqual([]);
      }
    },
  );
});

describe("a 100 MB transcript", () => {
  it("is collected to disk whole while report.json keeps only a capped excerpt", async () => {
    const clock = new ScaledClock({ scale: 2_000 });
    const stdout = `${"0123456789abcdef".repeat(100 * 65_536)}\nTHE END`;
    const emu = await startEmulator({
      clock,
      devices: [
        {
          computerDnsName: "big.contoso.local",
          osPlatform: "Windows11",
          scripts: { "dump.ps1": { exitCode: 0, stdout } },
        },
      ],
      library: [{ fileName: "dump.ps1", content: "Get-Everything" }],
    });
    const dir = mkdtempSync(path.join(os.tmpdir(), "mde-lr-huge-"));
    const api = createMdeClient({
      apiUrl: emu.url,
      accessToken: emu.issueToken({ lifetimeMs: 3_600_000 }),
      clock,
    });
    try {
      const runbook = parseRunbook(
        `name: huge\ntargets:\n  machineIds: [${machineIdFor("big.contoso.local")}]\ncommands:\n  - runScript: dump.ps1\n`,
        { sourcePath: "r.yaml", baseDir: dir },
      );
      const outDir = path.join(dir, "out");
      const report = await startRun({ api, clock }, { runbook, baseDir: dir, outDir });
      expect(report.status).toBe("succeeded");
      const step = report.machines[0]?.commands[0];
      expect(step?.exitCode).toBe(0);
      expect(statSync(path.join(outDir, step?.file as string)).size).toBeGreaterThan(100 * 1024 * 1024);
      expect((step?.stdout ?? "").length).toBeLessThan(1024 * 1024);
      expect(statSync(path.join(outDir, "report.json")).size).toBeLessThan(2 * 1024 * 1024);
      const stdoutFile = (step as unknown as { stdoutFile?: string }).stdoutFile;
      // The captured transcript layout ends the output in "\n\u0000"; the client strips the NUL only.
      if (stdoutFile)
        expect(readFileSync(path.join(outDir, stdoutFile), "utf8").endsWith("THE END\n")).toBe(true);
    } finally {
      await api.close();
      await emu.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
