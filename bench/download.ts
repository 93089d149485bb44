/**
 * Download benchmark (issue 10, point 6): a 1 GiB GetFile through the real `mde-lr run` (a runbook that
 * targets the device by machine id, against the emulator in this process): its peak RSS and the rate of
 * its download against `curl -o file` from a fresh link to the same result. For context, the same
 * download through the client library alone in a bare process, the same work done by native tools
 * (`curl | gzip -dc | tee file | sha256sum`), and curl to /dev/null (its first 256 MiB: what the
 * emulator and loopback can serve at all). Trials alternate the order so nobody always gets the warmer
 * page cache.
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
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

/** curl's own transfer time (`time_total`: connect to last byte, without its process start). */
function curl(url: string, out: string): Promise<CurlRun> {
  return new Promise((resolve, reject) => {
    const child = spawn("curl", ["-sS", "--fail", "-o", out, "-w", "%{size_download} %{time_total}", url], {
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
      const [bytes, seconds] = stdout.trim().split(" ").map(Number);
      if (code !== 0) reject(new Error(`curl exited ${code}: ${stderr.trim()}`));
      else resolve({ ms: seconds! * 1000, bytes: bytes! });
    });
  });
}

/**
 * The same work as the client, by native tools: download, gunzip, write the file, sha256 of it. No
 * pipefail (not in every sh, and gzip warns, exit 2, on the stored-block stream): the sha256 is checked
 * against the emulator's record instead, so a broken pipe cannot pass.
 */
function nativeSameWork(url: string, out: string): Promise<{ ms: number; sha256: string }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(
      "sh",
      ["-c", 'curl -sS --fail "$0" | gzip -dc 2>/dev/null | tee "$1" | sha256sum', url, out],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    let stdout = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.on("error", reject);
    child.on("exit", (code) =>
      code === 0
        ? resolve({ ms: performance.now() - started, sha256: stdout.trim().split(/\s+/)[0] ?? "" })
        : reject(new Error(`curl | gzip -dc | tee | sha256sum exited ${code}`)),
    );
  });
}

interface CliRun {
  /** From the result's `.part` file appearing to its rename (polled every few ms): the download. */
  downloadMs: number;
  maxRssBytes: number;
  sha256: string | null;
}

/**
 * Preloaded into the `mde-lr` process (`node -r`): writes its peak RSS at exit, nothing else. Its own
 * high-water mark (VmHWM), as the library worker's (ownPeakRssBytes in bench/harness/child.ts says why
 * not maxRSS: a child spawned by this process would start at this process's RSS); a file, so stdout
 * stays the CLI's own.
 */
const RSS_PROBE = `process.on("exit", () => {
  const fs = require("node:fs");
  let kib = null;
  try { kib = /^VmHWM:\\s+(\\d+)\\s+kB$/m.exec(fs.readFileSync("/proc/self/status", "utf8"))?.[1] ?? null; } catch {}
  fs.writeFileSync(process.env.MDE_BENCH_RSS_OUT, String(kib ? Number(kib) * 1024 : process.resourceUsage().maxRSS * 1024));
});\n`;

/** Every `.part` file under `dir` (the download in progress), [] while there is none. */
function partFiles(dir: string): string[] {
  try {
    return (readdirSync(dir, { recursive: true }) as string[]).filter((f) => f.endsWith(".part"));
  } catch {
    return [];
  }
}

/** `mde-lr run <runbook>` as a user runs it, against the emulator, with its download timed from outside. */
async function runCli(runbook: string, outDir: string, env: NodeJS.ProcessEnv): Promise<CliRun> {
  const probe = path.join(WORK, "rss-probe.cjs");
  const rssOut = path.join(WORK, "cli-rss.txt");
  writeFileSync(probe, RSS_PROBE);
  rmSync(rssOut, { force: true });
  const bin = path.resolve("bin", "mde-lr.js");
  let firstPart: number | null = null;
  let lastPart: number | null = null;
  const watch = setInterval(() => {
    if (partFiles(outDir).length > 0) {
      const now = performance.now();
      firstPart ??= now;
      lastPart = now;
    }
  }, 2);
  const code = await new Promise<number | null>((resolve, reject) => {
    // BENCH_DOWNLOAD_NODE_ARGS: extra node/V8 flags for mde-lr (investigation only, e.g.
    // "--max-semi-space-size=1"); the figures are for mde-lr as installed, without flags.
    const extra = process.env["BENCH_DOWNLOAD_NODE_ARGS"]?.split(/\s+/).filter(Boolean) ?? [];
    const child = spawn(process.execPath, [...extra, "-r", probe, bin, "run", runbook, "--out", outDir], {
      env: { ...env, MDE_BENCH_RSS_OUT: rssOut, NO_COLOR: "1" },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    child.on("error", reject);
    child.on("exit", (c) => (c === 0 ? resolve(c) : reject(new Error(`mde-lr run exited ${c}: ${stderr}`))));
  }).finally(() => clearInterval(watch));
  if (code !== 0 || firstPart === null || lastPart === null) {
    throw new Error("mde-lr run: no download seen in its output folder");
  }
  const report = JSON.parse(readFileSync(path.join(outDir, "report.json"), "utf8")) as {
    machines: { commands: { sha256: string | null; bytes: number | null }[] }[];
  };
  const cmd = report.machines[0]?.commands[0];
  if (cmd?.bytes !== SIZE) throw new Error(`mde-lr wrote ${cmd?.bytes} bytes, expected ${SIZE}`);
  return {
    // The last poll saw the .part file, the next one (≤ 2 ms later) did not: count half of that gap.
    downloadMs: lastPart - firstPart + 1,
    maxRssBytes: Number(readFileSync(rssOut, "utf8")),
    sha256: cmd.sha256,
  };
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
  const accessToken = emu.issueToken({ lifetimeMs: 3_600_000 });
  const api = createMdeClient({ apiUrl: emu.url, accessToken, clock: emu.clock, useEnvProxy: false });
  const rows: Record<string, unknown>[] = [];
  const notes: string[] = [];
  try {
    const machineId = emu.state.machineIds()[0]!;
    // The CLI runs its own action per trial; curl, the library and the native tools fetch this one's.
    const submitted = await api.runLiveResponse(machineId, {
      Commands: [{ type: "GetFile", params: [{ key: "Path", value: DEVICE_PATH }] }],
      Comment: "bench: download",
    });
    const done = await waitFinal(api, submitted.id);
    if (done.status !== "Succeeded") throw new Error(`GetFile action ended ${done.status}`);
    const workerScript = path.join(path.dirname(process.argv[1]!), "download-worker.mjs");
    const runbook = path.join(WORK, "dump.yaml");
    // Targeted by machine id, as a responder names the host they collect from.
    writeFileSync(
      runbook,
      `name: bench-dump\ntargets:\n  machineIds: [${machineId}]\ncommands:\n  - getFile: '${DEVICE_PATH}'\n` +
        "options:\n  pollInterval: 1\n  timeout: 10m\n",
    );
    const cliEnv = { ...process.env, MDE_API_URL: emu.url, MDE_ACCESS_TOKEN: accessToken };

    const cli: CliRun[] = [];
    const library: { outcome: DownloadOutcome; maxRssBytes: number }[] = [];
    const curls: CurlRun[] = [];
    const native: { ms: number; sha256: string }[] = [];
    const row = (trial: unknown, tool: string, ms: number, maxRssBytes: number | null) =>
      rows.push({
        trial,
        tool,
        ms,
        wireBytes: null,
        maxRssMiB: maxRssBytes === null ? null : maxRssBytes / MiB,
      });
    const runMdeLr = async (trial: number) => {
      const outDir = path.join(WORK, `cli-${trial}`);
      const r = await runCli(runbook, outDir, cliEnv);
      rmSync(outDir, { recursive: true, force: true });
      cli.push(r);
      row(trial, "mde-lr run (machine id)", r.downloadMs, r.maxRssBytes);
    };
    const runCurl = async (trial: number) => {
      const out = path.join(WORK, "curl.gz");
      const r = await curl(await api.getResultDownloadLink(submitted.id, 0), out);
      if (statSync(out).size !== r.bytes) throw new Error("curl's file does not match its byte count");
      rmSync(out, { force: true });
      curls.push(r);
      row(trial, "curl -o file", r.ms, null);
    };
    const runLibrary = async (trial: number) => {
      const dest = path.join(WORK, "client.bin");
      const url = await api.getResultDownloadLink(submitted.id, 0);
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
      if (r.result.bytes !== SIZE) throw new Error(`client wrote ${r.result.bytes} bytes, expected ${SIZE}`);
      rmSync(dest, { force: true });
      library.push({ outcome: r.result, maxRssBytes: r.maxRssBytes });
      row(trial, "client library, bare process", r.result.ms, r.maxRssBytes);
    };
    const runNative = async (trial: number) => {
      const out = path.join(WORK, "native.bin");
      const r = await nativeSameWork(await api.getResultDownloadLink(submitted.id, 0), out);
      rmSync(out, { force: true });
      native.push(r);
      row(trial, "curl | gzip -dc | tee file | sha256sum", r.ms, null);
    };
    for (let trial = 0; trial < TRIALS; trial++) {
      const order = [runMdeLr, runCurl, runLibrary, runNative];
      for (const run of trial % 2 === 0 ? order : order.reverse()) await run(trial);
    }
    const ceiling = await curlHead(await api.getResultDownloadLink(submitted.id, 0), CEILING_BYTES);
    rows.push({
      trial: "ceiling",
      tool: `curl | head -c ${CEILING_BYTES / MiB}M > /dev/null`,
      ms: ceiling.ms,
      wireBytes: ceiling.bytes,
      maxRssMiB: null,
    });

    // Every download must have produced the device's bytes: the emulator records what it served.
    const served = emu.records.filter((r) => r.kind === "download" && r.complete);
    const expected = served[0]?.kind === "download" ? served[0].sha256 : undefined;
    const got = [
      ...cli.map((c) => c.sha256),
      ...library.map((l) => l.outcome.sha256),
      ...native.map((n) => n.sha256),
    ];
    if (got.some((sha) => sha !== expected)) {
      throw new Error("a download's sha256 differs from the emulator's record of the file");
    }

    const wireBytes = curls[0]!.bytes;
    const rate = (ms: number) => wireBytes / MiB / (ms / 1000);
    const cliMBs = rate(median(cli.map((c) => c.downloadMs)));
    const curlMBs = rate(median(curls.map((c) => c.ms)));
    const figures = [
      figure(
        "peakRss",
        `mde-lr run: peak RSS (${SIZE >= 1024 * MiB ? `${SIZE / 1024 / MiB} GiB` : `${SIZE / MiB} MiB`} GetFile)`,
        Math.max(...cli.map((c) => c.maxRssBytes)) / MiB,
        "MiB",
        {
          op: "<=",
          target: 120,
        },
      ),
      figure("throughputRatio", "mde-lr / curl -o file throughput (medians)", cliMBs / curlMBs, "×", {
        op: ">=",
        target: 0.8,
      }),
      figure("clientThroughput", "mde-lr run: download rate (gzip bytes, median)", cliMBs, "MiB/s"),
      figure("curlThroughput", "curl -o file (median)", curlMBs, "MiB/s"),
      figure(
        "libraryPeakRss",
        "client library alone, bare process: peak RSS",
        Math.max(...library.map((l) => l.maxRssBytes)) / MiB,
        "MiB",
      ),
      figure(
        "libraryThroughput",
        "client library alone: rate (median)",
        rate(median(library.map((l) => l.outcome.ms))),
        "MiB/s",
      ),
      figure(
        "nativeThroughput",
        "same work by native tools (curl | gzip -dc | tee | sha256sum)",
        rate(median(native.map((n) => n.ms))),
        "MiB/s",
      ),
      figure(
        "ceilingThroughput",
        "curl to /dev/null (emulator ceiling)",
        ceiling.bytes / MiB / (ceiling.ms / 1000),
        "MiB/s",
      ),
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
      "mde-lr: `node bin/mde-lr.js run` with a runbook targeting the device by machine id; its download is timed from its .part file appearing to its rename; curl by its own time_total",
      `client library alone, RSS before the download started (modules loaded): ${(median(library.map((l) => l.outcome.rssBeforeBytes)) / MiB).toFixed(1)} MiB`,
      `machine load average at the end: ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(" ")}`,
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
