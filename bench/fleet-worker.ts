/**
 * Child process of bench/fleet.ts: one whole run (`startRun`) through the real client against the
 * emulator, on a ScaledClock that shares the emulator's scale and origin, so both agree on service time.
 * Reports wall time in service ms, calls by kind, 429s seen, its CPU time and event-loop delay; the
 * parent adds its peak RSS.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import path from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { getHeapSpaceStatistics, writeHeapSnapshot } from "node:v8";
import { createMdeClient } from "../shared/api/client.js";
import { ScaledClock, type ScaledClockOptions } from "../shared/clock.js";
import { CALL_KINDS, type CallKind } from "../shared/http/events.js";
import { startRun } from "../shared/run/index.js";
import type { RunEvent } from "../shared/run/types.js";
import { parseRunbook } from "../shared/runbook/index.js";
import { reportBurst } from "../shared/runtime/heap-policy.js";
import { childMain, reportProgress } from "./harness/child.js";

export interface FleetJob {
  apiUrl: string;
  accessToken: string;
  clock: Required<ScaledClockOptions>;
  runbookYaml: string;
  runbookPath: string;
  baseDir: string;
  outDir: string;
}

export interface FleetOutcome {
  /** Service ms: startRun called, first submission, last device done, startRun returned. */
  startedAt: number;
  firstSubmitAt: number | null;
  lastSubmitAt: number | null;
  lastDeviceDoneAt: number | null;
  returnedAt: number;
  /** Real ms from startRun to the first submission (targets, preflight, library sync, plan file). */
  planningRealMs: number | null;
  /** Real ms from the last device done to startRun returning (report, summary, manifest). */
  finishRealMs: number;
  realMs: number;
  cpuMs: number;
  eventLoopDelayP99Ms: number;
  calls: Record<CallKind, number>;
  responses429: Record<CallKind, number>;
  retries: number;
  limiterWaits: number;
  status: string;
  counts: Record<string, number>;
  devicesDone: number;
  /** Heap and array buffers still live after a full GC at the end (needs --expose-gc): what the run retains. */
  retainedBytes: number | null;
  /** BENCH_FLEET_MEMTRACE=1: process.memoryUsage() every 250 real ms, with the devices done by then. */
  memTrace: MemSample[] | null;
}

/**
 * [real ms since start, devices done, rss, heapTotal, heapUsed, external, arrayBuffers, then the size
 * V8 has committed for new space, old space and large objects] (bytes).
 */
export type MemSample = number[];

/**
 * Investigation knobs (bench/README.md): BENCH_FLEET_MEMTRACE=1 samples memory while the run goes;
 * BENCH_FLEET_HEAPSNAPSHOT=0.5 writes a heap snapshot into .tmp/bench-prof/ once half the devices are
 * done (any fraction; 1 = after the run, after a full GC). Snapshots pause the run for seconds: the
 * timing figures of such a run mean nothing.
 */
function memoryProbe(total: () => number, done: () => number): { stop(): MemSample[] | null } {
  const trace = process.env["BENCH_FLEET_MEMTRACE"] === "1" ? ([] as MemSample[]) : null;
  const snapAt = Number(process.env["BENCH_FLEET_HEAPSNAPSHOT"] ?? Number.NaN);
  let snapped = !(snapAt > 0 && snapAt < 1);
  if (!trace && snapped) return { stop: () => null };
  const t0 = performance.now();
  const timer = setInterval(() => {
    if (trace) {
      const m = process.memoryUsage();
      const space = new Map(getHeapSpaceStatistics().map((x) => [x.space_name, x.space_size]));
      trace.push([
        Math.round(performance.now() - t0),
        done(),
        m.rss,
        m.heapTotal,
        m.heapUsed,
        m.external,
        m.arrayBuffers,
        space.get("new_space") ?? 0,
        space.get("old_space") ?? 0,
        (space.get("large_object_space") ?? 0) + (space.get("new_large_object_space") ?? 0),
      ]);
    }
    if (!snapped && total() > 0 && done() >= snapAt * total()) {
      snapped = true;
      console.error(`heap snapshot: ${snapshot(`at-${done()}`)}`);
    }
  }, 250);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      return trace;
    },
  };
}

/**
 * BENCH_FLEET_ALLOCPROF=1: V8's sampling heap profiler over the whole run, including objects the GC has
 * already collected (what was allocated, not only what is live), written as a .heapprofile (DevTools);
 * BENCH_FLEET_ALLOCPROF=survivors profiles only what outlived a scavenge.
 */
async function allocationProfiler(): Promise<{ stop(): Promise<string | null> }> {
  // "survivors": leave out what scavenges collect: what outlived a young-generation GC (promoted, or live).
  const mode = process.env["BENCH_FLEET_ALLOCPROF"];
  if (mode !== "1" && mode !== "survivors") return { stop: async () => null };
  const session = new Session();
  session.connect();
  await session.post("HeapProfiler.startSampling", {
    samplingInterval: 32_768,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: mode === "1",
  });
  return {
    async stop() {
      const { profile } = await session.post("HeapProfiler.stopSampling");
      session.disconnect();
      const dir = path.resolve(".tmp", "bench-prof");
      mkdirSync(dir, { recursive: true });
      const file = path.join(dir, `fleet-${process.pid}.heapprofile`);
      writeFileSync(file, JSON.stringify(profile));
      return file;
    },
  };
}

function snapshot(label: string): string {
  const dir = path.resolve(".tmp", "bench-prof");
  mkdirSync(dir, { recursive: true });
  return writeHeapSnapshot(path.join(dir, `fleet-${process.pid}-${label}.heapsnapshot`));
}

const zero = (): Record<CallKind, number> =>
  Object.fromEntries(CALL_KINDS.map((k) => [k, 0])) as Record<CallKind, number>;

childMain<FleetJob, FleetOutcome>(async (job) => {
  const clock = new ScaledClock(job.clock);
  const responses429 = zero();
  let retries = 0;
  let limiterWaits = 0;
  const api = createMdeClient({
    apiUrl: job.apiUrl,
    accessToken: job.accessToken,
    clock,
    useEnvProxy: false,
    hooks: {
      onResponse: (e) => {
        if (e.status === 429) responses429[e.kind]++;
      },
      onRetry: () => {
        retries++;
      },
      onRateLimited: () => {
        limiterWaits++;
      },
    },
  });
  let firstSubmitAt: number | null = null;
  let lastSubmitAt: number | null = null;
  let firstSubmitReal: number | null = null;
  let lastDeviceDoneAt: number | null = null;
  let lastDeviceDoneReal = 0;
  let devicesDone = 0;
  let devicesTotal = 0;
  let last = "";
  const onEvent = (e: RunEvent) => {
    if (e.type === "planned") devicesTotal = e.devices;
    if (e.type === "progress") {
      devicesTotal = e.total;
      last = `done ${e.done}/${e.total}, pending ${e.pending}, running ${e.running}, queued ${e.queued}`;
    } else if (e.type === "waiting" || e.type === "warning") {
      last = `${JSON.stringify(e)}`;
    }
    if (e.type === "submitted") {
      lastSubmitAt = clock.now();
      firstSubmitAt ??= lastSubmitAt;
      firstSubmitReal ??= performance.now();
    }
    if (e.type === "deviceDone") {
      devicesDone++;
      lastDeviceDoneAt = clock.now();
      lastDeviceDoneReal = performance.now();
    }
  };
  const runbook = parseRunbook(job.runbookYaml, { sourcePath: job.runbookPath, baseDir: job.baseDir });
  // Where the run is, every 2 real seconds: the parent shows it if the run times out.
  const ticker = setInterval(() => {
    const c = api.callCounts();
    reportProgress(
      `service +${((clock.now() - startedAt) / 60_000).toFixed(1)} min, ${last}, calls ${JSON.stringify(c)}`,
    );
  }, 2000);
  ticker.unref();
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  const probe = memoryProbe(
    () => devicesTotal,
    () => devicesDone,
  );
  const allocations = await allocationProfiler();
  const cpu0 = process.cpuUsage();
  const real0 = performance.now();
  const startedAt = clock.now();
  try {
    const report = await startRun(
      // As mde-lr passes it: this process stands in for `mde-lr run`.
      { api, clock, onEvent, aroundReport: reportBurst },
      { runbook, baseDir: job.baseDir, outDir: job.outDir },
    );
    const returnedAt = clock.now();
    const realEnd = performance.now();
    const cpu = process.cpuUsage(cpu0);
    lag.disable();
    const memTrace = probe.stop();
    const profiled = await allocations.stop();
    if (profiled) console.error(`allocation profile: ${profiled}`);
    const gc = (globalThis as { gc?: () => void }).gc;
    let retainedBytes: number | null = null;
    if (gc) {
      gc();
      const m = process.memoryUsage();
      retainedBytes = m.heapUsed + m.arrayBuffers;
      if (Number(process.env["BENCH_FLEET_HEAPSNAPSHOT"]) === 1) {
        console.error(`heap snapshot: ${snapshot("end")}`);
      }
    }
    return {
      startedAt,
      firstSubmitAt,
      lastSubmitAt,
      lastDeviceDoneAt,
      returnedAt,
      planningRealMs: firstSubmitReal === null ? null : firstSubmitReal - real0,
      finishRealMs: lastDeviceDoneAt === null ? 0 : realEnd - lastDeviceDoneReal,
      realMs: realEnd - real0,
      cpuMs: (cpu.user + cpu.system) / 1000,
      eventLoopDelayP99Ms: lag.percentile(99) / 1e6,
      calls: api.callCounts(),
      responses429,
      retries,
      limiterWaits,
      status: report.status,
      counts: report.counts,
      devicesDone,
      retainedBytes,
      memTrace,
    };
  } finally {
    clearInterval(ticker);
    await api.close();
  }
});
