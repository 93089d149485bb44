/**
 * Emulator benchmark: requests per second the local MDE emulator serves over loopback with concurrent
 * keep-alive clients (goal ≥ 2,000 req/s on GET /api/machineactions/{id}, the polling call), plus the
 * 1 GiB synthetic GetFile download rate and start-up time. The emulator runs in this thread; the load
 * comes from autocannon in a child process so client work does not share the server's event loop.
 *
 *   npm run bench -- --only=emulator          (bundled by scripts/run-bench.mjs; writes bench/results/emulator.json)
 *   npm run bench -- --only=emulator --quick  (shorter runs)
 */
import { fork } from "node:child_process";
import { createHash } from "node:crypto";
import os from "node:os";
import { createGunzip } from "node:zlib";
import autocannon from "autocannon";
import { request } from "undici";
import { startEmulator } from "../shared/emulator/index.js";
import { type BenchResult, environment, figure, figuresTable, table, writeResult } from "./harness/report.js";
import { isQuick, median } from "./harness/stats.js";

interface LoadJob {
  kind: "load";
  origin: string;
  path: string;
  method: "GET" | "POST";
  body?: string;
  token: string;
  connections: number;
  durationMs: number;
}
interface DownloadJob {
  kind: "download";
  url: string;
}
interface LoadResult {
  /** Responses received (any status). */
  total: number;
  ok: number;
  errors: number;
  statuses: Record<string, number>;
  seconds: number;
  p50Ms: number;
  p99Ms: number;
}
interface DownloadResult {
  bytes: number;
  seconds: number;
  sha256: string;
}

const GOAL_RPS = 2_000;
const DOWNLOAD_BYTES = 1024 * 1024 * 1024;

/** autocannon: keep-alive connections writing pre-built requests, so the client costs little CPU. */
async function load(job: LoadJob): Promise<LoadResult> {
  const headers: Record<string, string> = { authorization: `Bearer ${job.token}` };
  if (job.body) headers["content-type"] = "application/json";
  const result = await autocannon({
    url: `${job.origin}${job.path}`,
    method: job.method,
    headers,
    ...(job.body ? { body: job.body } : {}),
    connections: job.connections,
    pipelining: 1,
    duration: job.durationMs / 1000,
  });
  const statuses: Record<string, number> = {};
  for (const band of ["1xx", "2xx", "3xx", "4xx", "5xx"] as const)
    if (result[band] > 0) statuses[band] = result[band];
  const total = result["2xx"] + result["3xx"] + result.non2xx - result["3xx"];
  return {
    ok: result["2xx"],
    errors: result.errors + result.non2xx,
    statuses,
    seconds: result.duration,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    total,
  };
}

async function download(job: DownloadJob): Promise<DownloadResult> {
  const started = performance.now();
  const res = await request(job.url);
  const hash = createHash("sha256");
  let bytes = 0;
  const gunzip = createGunzip();
  res.body.pipe(gunzip);
  for await (const chunk of gunzip as AsyncIterable<Buffer>) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  return { bytes, seconds: (performance.now() - started) / 1000, sha256: hash.digest("hex") };
}

/**
 * Runs a load or download job in a child process (the bundled script re-run with the job in its
 * environment): the client never shares the server's event loop. Not a worker thread, because
 * autocannon treats any non-main thread as one of its own workers.
 */
function inChild<T>(job: LoadJob | DownloadJob): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = fork(process.argv[1] ?? "", [], {
      env: { ...process.env, [JOB_ENV]: JSON.stringify(job) },
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    child.once("message", (m) => resolve(m as T));
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`bench client exited (${code}) without a result`)));
  });
}

const JOB_ENV = "MDE_EMULATOR_BENCH_JOB";

async function main(): Promise<void> {
  const quick = isQuick();
  const benchStarted = Date.now();
  const durationMs = quick ? 2_000 : 5_000;

  const startups: number[] = [];
  for (let i = 0; i < (quick ? 3 : 7); i++) {
    const t = performance.now();
    const e = await startEmulator({ fleet: { seed: i, count: 1_000 } });
    startups.push(performance.now() - t);
    await e.close();
  }

  const emu = await startEmulator({
    fleet: { seed: 1, count: 5_000 },
    devices: [{ computerDnsName: "bench-big", files: { "C:\\big.bin": { size: DOWNLOAD_BYTES, seed: 7 } } }],
    library: [{ fileName: "bench.ps1", content: "Get-Process" }],
    limits: { submitPerMinute: 1e12, callsPerMinute: 1e12, callsPerHour: 1e12, concurrentSessions: 1e9 },
    defaultCommandDurationMs: 1,
    pickupDelayMs: 0,
    recordCalls: false,
  });
  const token = emu.issueToken({ lifetimeMs: 24 * 3_600_000 });
  const auth = { authorization: `Bearer ${token}`, "content-type": "application/json" };
  const bigId = emu.state.machineIds()[0] ?? ""; // explicit devices come before the generated fleet
  const submitted = await fetch(`${emu.url}/api/machines/${bigId}/runliveresponse`, {
    method: "POST",
    headers: auth,
    body: JSON.stringify({
      Commands: [{ type: "GetFile", params: [{ key: "Path", value: "C:\\big.bin" }] }],
      Comment: "bench",
    }),
  });
  const actionId = ((await submitted.json()) as { id: string }).id;
  await new Promise((r) => setTimeout(r, 50));

  const scenarios: {
    name: string;
    path: string;
    method: "GET" | "POST";
    connections: number;
    body?: string;
  }[] = [
    {
      name: "GET machineactions/{id}",
      path: `/api/machineactions/${actionId}`,
      method: "GET",
      connections: 32,
    },
    {
      name: "GET machineactions/{id} (8 conns)",
      path: `/api/machineactions/${actionId}`,
      method: "GET",
      connections: 8,
    },
    { name: "GET machines/{id}", path: `/api/machines/${bigId}`, method: "GET", connections: 32 },
    {
      name: "GET result link",
      path: `/api/machineactions/${actionId}/GetLiveResponseResultDownloadLink(index=0)`,
      method: "GET",
      connections: 32,
    },
  ];
  const rows: Record<string, unknown>[] = [];
  const repetitions = quick ? 1 : 3;
  const mainRuns: number[] = [];
  // Only the goal scenario is repeated: the runner gives this benchmark 120 s in all.
  const runs = [...Array.from({ length: repetitions }, () => scenarios[0]), ...scenarios.slice(1)];
  for (const s of runs.filter((x): x is (typeof scenarios)[number] => x !== undefined)) {
    const r = await inChild<LoadResult>({
      kind: "load",
      origin: emu.url,
      path: s.path,
      method: s.method,
      token,
      connections: s.connections,
      durationMs,
      ...(s.body ? { body: s.body } : {}),
    });
    rows.push({
      scenario: s.name,
      connections: s.connections,
      requests: r.total,
      errors: r.errors,
      rps: Math.round(r.total / r.seconds),
      p50Ms: Number(r.p50Ms.toFixed(2)),
      p99Ms: Number(r.p99Ms.toFixed(2)),
      statuses: r.statuses,
    });
    if (s === scenarios[0]) mainRuns.push(r.errors === 0 ? r.total / r.seconds : 0);
  }

  const link = await fetch(
    `${emu.url}/api/machineactions/${actionId}/GetLiveResponseResultDownloadLink(index=0)`,
    {
      headers: auth,
    },
  );
  const linkBody = (await link.json()) as { value?: string };
  if (!linkBody.value) throw new Error(`no result link: ${link.status} ${JSON.stringify(linkBody)}`);
  const url = linkBody.value;
  const dl = await inChild<DownloadResult>({ kind: "download", url });
  const record = emu.records.find((r) => r.kind === "download");
  const downloadOk =
    dl.bytes === DOWNLOAD_BYTES && record?.kind === "download" && record.sha256 === dl.sha256;
  await emu.close();

  const rps = median(mainRuns);
  const figures = [
    figure(
      "emulator.rps",
      `GET machineactions/{id}, 32 keep-alive conns (median of ${repetitions})`,
      rps > 0 ? Math.round(rps) : null,
      "req/s",
      { op: ">=", target: GOAL_RPS },
      rps > 0 ? null : "errors during the run",
    ),
    figure(
      "emulator.rps.best",
      `GET machineactions/{id}, 32 keep-alive conns (best of ${repetitions})`,
      mainRuns.length > 0 && Math.max(...mainRuns) > 0 ? Math.round(Math.max(...mainRuns)) : null,
      "req/s",
    ),
    figure(
      "emulator.download",
      "1 GiB synthetic GetFile (gzip stream, client gunzip + sha256)",
      downloadOk ? Math.round(dl.bytes / 2 ** 20 / dl.seconds) : null,
      "MiB/s",
      null,
      downloadOk ? null : "bytes or sha256 mismatch",
    ),
    figure(
      "emulator.startup",
      "startEmulator() with 1,000 devices (median)",
      Math.round(median(startups)),
      "ms",
    ),
  ];
  console.log("\nemulator benchmark\n");
  console.log(
    table(
      ["scenario", "conns", "requests", "errors", "req/s", "p50 ms", "p99 ms"],
      rows.map((r) => [
        String(r.scenario),
        Number(r.connections),
        Number(r.requests),
        Number(r.errors),
        Number(r.rps),
        String(r.p50Ms),
        String(r.p99Ms),
      ]),
    ),
  );
  console.log("");
  console.log(figuresTable(figures));
  const result: BenchResult = {
    bench: "emulator",
    command: "npm run bench -- --only=emulator",
    startedAt: new Date(benchStarted).toISOString(),
    durationMs: Date.now() - benchStarted,
    environment: environment(),
    figures,
    rows: [...rows, { scenario: "download 1 GiB", ...dl }, { scenario: "startup ms", runs: startups }],
    notes: [
      `Load average at the end (1/5/15 min): ${os
        .loadavg()
        .map((x) => x.toFixed(1))
        .join(" / ")} on ${os.cpus().length} CPUs; other work on the machine lowers the figure.`,
      "Server in the bench process, load from autocannon in a child process (keep-alive, pipelining 1).",
      "Per-call records off, quotas lifted: this measures the HTTP path, auth, routing and entity rendering.",
    ],
  };
  console.log(`\nwrote ${writeResult(result)}`);
}

const childJob = process.env[JOB_ENV];
if (childJob === undefined) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
} else {
  const job = JSON.parse(childJob) as LoadJob | DownloadJob;
  (job.kind === "load" ? load(job) : download(job)).then(
    (r) => process.send?.(r, () => process.exit(0)),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
