/**
 * Child process of bench/fleet.ts: one whole run (`startRun`) through the real client against the
 * emulator, on a ScaledClock that shares the emulator's scale and origin, so both agree on service time.
 * Reports wall time in service ms, calls by kind, 429s seen, its CPU time and event-loop delay; the
 * parent adds its peak RSS.
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
import { createMdeClient } from "../shared/api/client.js";
import { ScaledClock, type ScaledClockOptions } from "../shared/clock.js";
import { CALL_KINDS, type CallKind } from "../shared/http/events.js";
import { startRun } from "../shared/run/index.js";
import type { RunEvent } from "../shared/run/types.js";
import { parseRunbook } from "../shared/runbook/index.js";
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
  let last = "";
  const onEvent = (e: RunEvent) => {
    if (e.type === "progress") {
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
  const cpu0 = process.cpuUsage();
  const real0 = performance.now();
  const startedAt = clock.now();
  try {
    const report = await startRun(
      { api, clock, onEvent },
      { runbook, baseDir: job.baseDir, outDir: job.outDir },
    );
    const returnedAt = clock.now();
    const realEnd = performance.now();
    const cpu = process.cpuUsage(cpu0);
    lag.disable();
    const gc = (globalThis as { gc?: () => void }).gc;
    let retainedBytes: number | null = null;
    if (gc) {
      gc();
      const m = process.memoryUsage();
      retainedBytes = m.heapUsed + m.arrayBuffers;
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
    };
  } finally {
    clearInterval(ticker);
    await api.close();
  }
});
