/**
 * Download benchmark: a 1 GiB GetFile result (gzip) from the emulator, fetched by the client in a child
 * process (peak RSS, throughput) and by `curl` to a file from the same URL in the same run. Trials
 * alternate which goes first so neither always gets the warmer page cache. A third fetch, curl to
 * /dev/null (its first 256 MiB), shows what the emulator and loopback can serve at all (the ceiling of both).
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createMdeClient } from "../shared/api/client.js";
import type { MachineAction } from "../shared/api/types.js";
import { FINAL_ACTION_STATUSES } from "../shared/api/types.js";
import { startEmulator } from "../shared/emulator/index.js";
import type { DownloadJob, DownloadOutcome } from "./download-worker.js";
import { MiB, runChild } from "./harness/child.js";
import { environment, figure, figuresTable, table, writeResult } from "./harness/report.js";
import { isQuick, median } from "./harness/stats.js";

const SIZE = isQuick() ? 256 * MiB : 1024 * MiB;
const TRIALS = isQuick() ? 1 : 2;
/** The ceiling only needs a rate: the first 256 MiB of the stream are enough. */
const CEILING_BYTES = 256 * MiB;
const DEVICE_PATH = "C:\\Windows\\Temp\\memory.dmp";
// Its own folder under the OS temp dir: other tools in this checkout may clean .tmp/ while it runs.
const WORK = mkdtempSync(path.join(os.tmpdir(), "mde-bench-download-"));

interface CurlRun {
  ms: number;
  bytes: number;
}

/** Wall time of `curl` from spawn to exit; the file is the same one our client would fetch. */
function curl(url: string, out: string): Promise<CurlRun> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn("curl", ["-sS", "--fail", "-o", out, "-w", "%{size_download}", url], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    child.on("error", reject);
    child.on("exit", (code) => {
      const ms = performance.now() - started;
      if (code !== 0) reject(new Error(`curl exited ${code}: ${stderr.trim()}`));
      else resolve({ ms, bytes: Number(stdout.trim()) });
    });
  });
}

/** Wall time for `curl` to deliver the first `bytes` of the URL to nowhere: what the server can send. */
function curlHead(url: string, bytes: number): Promise<CurlRun> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn("sh", ["-c", `curl -sS "$0" | head -c ${bytes} > /dev/null`, url], {
      stdio: "ignore",
    });
    child.on("error", reject);
    child.on("exit", (code) =>
      code === 0
        ? resolve({ ms: performance.now() - started, bytes })
        : reject(new Error(`curl | head exited ${code}`)),
    );
  });
}

async function waitFinal(api: ReturnType<typeof createMdeClient>, id: string): Promise<MachineAction> {
  for (;;) {
    const a = await api.getMachineAction(id);
    if (FINAL_ACTION_STATUSES.has(a.status)) return a;
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function main(): Promise<void> {
  const startedAt = new Date();
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  const emu = await startEmulator({
    devices: [
      { computerDnsName: "dump-host.corp.contoso.com", files: { [DEVICE_PATH]: { size: SIZE, seed: 7 } } },
    ],
    defaultCommandDurationMs: 200,
    pickupDelayMs: 0,
    recordCalls: false,
  });
  const accessToken = emu.issueToken();
  const api = createMdeClient({ apiUrl: emu.url, accessToken, clock: emu.clock, useEnvProxy: false });
  const rows: Record<string, unknown>[] = [];
  const notes: string[] = [];
  try {
    const machineId = emu.state.machineIds()[0]!;
    const submitted = await api.runLiveResponse(machineId, {
      Commands: [{ type: "GetFile", params: [{ key: "Path", value: DEVICE_PATH }] }],
      Comment: "bench: download",
    });
    const done = await waitFinal(api, submitted.id);
    if (done.status !== "Succeeded") throw new Error(`GetFile action ended ${done.status}`);
    const workerScript = path.join(path.dirname(process.argv[1]!), "download-worker.mjs");

    const client: DownloadOutcome[] = [];
    const clientRss: number[] = [];
    const curls: CurlRun[] = [];
    for (let trial = 0; trial < TRIALS; trial++) {
      const url = await api.getResultDownloadLink(submitted.id, 0);
      const runClient = async () => {
        const dest = path.join(WORK, "client.bin");
        const r = await runChild<DownloadJob, DownloadOutcome>(
          workerScript,
          { url, dest, apiUrl: emu.url, accessToken },
          {
            timeoutMs: 180_000,
            execArgv: process.env["BENCH_PROFILE"]
              ? ["--cpu-prof", `--cpu-prof-dir=${path.resolve(".tmp", "bench-prof")}`]
              : [],
          },
        );
        if (r.result.bytes !== SIZE)
          throw new Error(`client wrote ${r.result.bytes} bytes, expected ${SIZE}`);
        rmSync(dest, { force: true });
        client.push(r.result);
        clientRss.push(r.maxRssBytes);
        rows.push({
          trial,
          tool: "client",
          ms: r.result.ms,
          wireBytes: null,
          fileBytes: r.result.bytes,
          maxRssMiB: r.maxRssBytes / MiB,
        });
      };
      const runCurl = async () => {
        const out = path.join(WORK, "curl.gz");
        const r = await curl(url, out);
        if (statSync(out).size !== r.bytes) throw new Error("curl's file does not match its byte count");
        rmSync(out, { force: true });
        curls.push(r);
        rows.push({
          trial,
          tool: "curl -o file",
          ms: r.ms,
          wireBytes: r.bytes,
          fileBytes: r.bytes,
          maxRssMiB: null,
        });
      };
      if (trial % 2 === 0) {
        await runClient();
        await runCurl();
      } else {
        await runCurl();
        await runClient();
      }
    }
    const ceilingUrl = await api.getResultDownloadLink(submitted.id, 0);
    const ceiling = await curlHead(ceilingUrl, CEILING_BYTES);
    rows.push({
      trial: "ceiling",
      tool: `curl | head -c ${CEILING_BYTES / MiB}M > /dev/null`,
      ms: ceiling.ms,
      wireBytes: ceiling.bytes,
      fileBytes: null,
      maxRssMiB: null,
    });

    // Every download must have produced the device's bytes: the emulator records what it served.
    const served = emu.records.filter((r) => r.kind === "download" && r.complete);
    const expected = served[0]?.kind === "download" ? served[0].sha256 : undefined;
    for (const c of client) {
      if (c.sha256 !== expected)
        throw new Error("client's sha256 differs from the emulator's record of the file");
    }

    const wireBytes = curls[0]!.bytes;
    const clientMs = median(client.map((c) => c.ms));
    const curlMs = median(curls.map((c) => c.ms));
    const clientMBs = wireBytes / MiB / (clientMs / 1000);
    const curlMBs = wireBytes / MiB / (curlMs / 1000);
    const figures = [
      figure("peakRss", "client peak RSS (1 GiB GetFile)", Math.max(...clientRss) / MiB, "MiB", {
        op: "<=",
        target: 120,
      }),
      figure("clientThroughput", "client throughput (gzip bytes, median)", clientMBs, "MiB/s"),
      figure("curlThroughput", "curl -o file throughput (median)", curlMBs, "MiB/s"),
      figure(
        "ceilingThroughput",
        "curl to /dev/null (emulator ceiling)",
        ceiling.bytes / MiB / (ceiling.ms / 1000),
        "MiB/s",
      ),
      figure("throughputRatio", "client / curl throughput", clientMBs / curlMBs, "×", {
        op: ">=",
        target: 0.8,
      }),
    ];
    console.log(
      table(
        ["trial", "tool", "ms", "MiB/s", "peak RSS MiB"],
        rows.map((r) => [
          String(r["trial"]),
          String(r["tool"]),
          Math.round(r["ms"] as number),
          Math.round((((r["wireBytes"] as number | null) ?? wireBytes) / MiB) * (1000 / (r["ms"] as number))),
          r["maxRssMiB"] === null ? "" : (r["maxRssMiB"] as number).toFixed(1),
        ]),
      ),
    );
    console.log(`\n${figuresTable(figures)}`);
    notes.push(
      `${SIZE / MiB} MiB synthetic file (incompressible, gzip stored blocks: ${wireBytes} bytes on the wire); ${TRIALS} trial(s), medians`,
      `client RSS before the download started (modules loaded): ${(median(client.map((c) => c.rssBeforeBytes)) / MiB).toFixed(1)} MiB`,
    );
    const file = writeResult({
      bench: "download",
      command: "npm run bench -- --only=download",
      startedAt: startedAt.toISOString(),
      durationMs: Date.now() - startedAt.getTime(),
      environment: environment(),
      figures,
      rows,
      notes,
    });
    console.log(`wrote ${file}`);
  } finally {
    await api.close();
    await emu.close();
    rmSync(WORK, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
