/**
 * Child process for the crash tests: starts or resumes a run against an emulator the parent owns, on a
 * ScaledClock with the parent's scale and origin, and reports each event over IPC so the parent can
 * `kill -9` it at chosen moments. Bundled by esbuild at test time.
 */
import { createMdeClient } from "../../shared/api/client.js";
import { ScaledClock } from "../../shared/clock.js";
import { resumeRun, startRun } from "../../shared/run/index.js";
import { parseRunbook } from "../../shared/runbook/index.js";

interface Job {
  mode: "start" | "resume";
  apiUrl: string;
  accessToken: string;
  clock: { scale: number; realOrigin: number; serviceOrigin: number };
  runbookYaml: string;
  outDir: string;
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2] ?? "{}") as Job;
  const clock = new ScaledClock(job.clock);
  const api = createMdeClient({ apiUrl: job.apiUrl, accessToken: job.accessToken, clock, env: {} });
  const ctx = { api, clock, onEvent: (e: unknown) => process.send?.({ event: e }) };
  const report =
    job.mode === "start"
      ? await startRun(ctx, {
          runbook: parseRunbook(job.runbookYaml, { baseDir: job.outDir }),
          baseDir: job.outDir,
          outDir: job.outDir,
        })
      : await resumeRun(ctx, job.outDir);
  await api.close();
  process.send?.({ done: report.status }, () => process.exit(0));
}

main().catch((error: unknown) => {
  process.send?.({ error: error instanceof Error ? error.message : String(error) }, () => process.exit(1));
});
