/**
 * The process the chaos driver starts, SIGKILLs and resumes: a thin front end over the real core, like
 * `mde-lr run/resume`, sharing the driver's service clock (scale + origins from the environment).
 * Bundled by esbuild (build-worker.ts) so it starts fast. Prints events as JSON lines on stdout (the
 * bytes the secret harness scans) and one final `{"type":"result"}` line.
 *
 * Env: CHAOS_MODE start|resume|cancel, CHAOS_RUNBOOK, CHAOS_OUT, CHAOS_CLOCK (JSON {scale, realOrigin,
 * serviceOrigin}), CHAOS_CA_FILE, CHAOS_DETACH_MS, plus the usual MDE_* connection variables.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { createMdeClient } from "../../../shared/api/client.js";
import { ScaledClock } from "../../../shared/clock.js";
import { exitCodeFor, MdeLrError } from "../../../shared/errors.js";
import { cancelRun, resumeRun, startRun } from "../../../shared/run/index.js";
import type { RunContext, RunReport } from "../../../shared/run/types.js";
import { loadRunbook } from "../../../shared/runbook/index.js";

function line(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

async function main(): Promise<number> {
  const env = process.env;
  const mode = env.CHAOS_MODE ?? "start";
  const outDir = env.CHAOS_OUT ?? "";
  const clockSpec = JSON.parse(env.CHAOS_CLOCK ?? "{}") as {
    scale: number;
    realOrigin: number;
    serviceOrigin: number;
  };
  const clock = new ScaledClock(clockSpec);
  const caPem = env.CHAOS_CA_FILE ? readFileSync(env.CHAOS_CA_FILE, "utf8") : undefined;
  // CHAOS_TRACE=1 adds the HTTP layer's hooks (paths, statuses, retries; never URLs' queries) to the log.
  // Trace times count from the driver's clock origin (≈ the emulator's start), like its fault offsets.
  const t0 = clockSpec.serviceOrigin;
  const trace = env.CHAOS_TRACE === "1";
  const api = createMdeClient({
    caPem,
    clock,
    ...(trace
      ? {
          hooks: {
            onResponse: (e) => line({ type: "http", t: clock.now() - t0, ...e }),
            onRetry: (e) => line({ type: "retry", t: clock.now() - t0, ...e }),
          },
        }
      : {}),
  });
  const controller = new AbortController();
  const onSignal = (): void => controller.abort(new Error("terminated by signal"));
  process.once("SIGTERM", onSignal);
  process.once("SIGINT", onSignal);
  const ctx: RunContext = {
    api,
    clock,
    signal: controller.signal,
    onEvent: (event) => line({ type: "event", event }),
  };
  let report: RunReport;
  try {
    if (mode === "resume") report = await resumeRun(ctx, outDir);
    else if (mode === "cancel") report = await cancelRun(ctx, outDir);
    else {
      const runbookPath = env.CHAOS_RUNBOOK ?? "";
      const runbook = await loadRunbook(runbookPath);
      const detach = env.CHAOS_DETACH_MS ? Number(env.CHAOS_DETACH_MS) : undefined;
      report = await startRun(ctx, {
        runbook,
        baseDir: path.dirname(runbookPath),
        outDir,
        ...(detach !== undefined ? { detachAfterMs: detach } : {}),
      });
    }
  } catch (error) {
    const err = error instanceof Error ? error : new Error(String(error));
    line({
      type: "error",
      name: err.name,
      kind: error instanceof MdeLrError ? error.kind : "internal",
      message: err.message,
      stack: error instanceof MdeLrError ? undefined : err.stack,
    });
    return exitCodeFor(error);
  } finally {
    await api.close();
  }
  line({ type: "result", status: report.status, runId: report.runId });
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`chaos worker crashed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exitCode = 70;
  },
);
