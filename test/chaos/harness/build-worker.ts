/**
 * Bundles the chaos front ends — the real `mde-lr` CLI main (cli-entry.ts) and the core-level worker
 * (worker.ts) — into CommonJS files with esbuild, so each of the thousands of processes the chaos runs
 * start and kill loads fast and always runs the current sources. npm packages stay external.
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import { build } from "esbuild";
import { repoRoot } from "./repo-root.js";

export interface FrontEndBundles {
  /** `mde-lr` (shared/cli/main.ts). */
  cli: string;
  /** Core-level worker: startRun/resumeRun with JSON events on stdout. */
  core: string;
}

/**
 * One folder per building process: a long `npm run chaos` must keep running the code it started with
 * while tests (or another chaos run) rebuild theirs.
 */
export async function buildFrontEnds(
  outDir = path.join(repoRoot(), ".tmp", "chaos", `bundle-${process.pid}`),
): Promise<FrontEndBundles> {
  mkdirSync(outDir, { recursive: true });
  const entries = { cli: "cli-entry.ts", core: "worker.ts" } as const;
  const out = { cli: path.join(outDir, "mde-lr.cjs"), core: path.join(outDir, "worker.cjs") };
  await Promise.all(
    (Object.keys(entries) as (keyof typeof entries)[]).map((k) =>
      build({
        entryPoints: [path.join(repoRoot(), "test", "chaos", "harness", entries[k])],
        outfile: out[k],
        bundle: true,
        platform: "node",
        target: "node22",
        format: "cjs",
        packages: "external",
        sourcemap: "inline",
        logLevel: "silent",
      }),
    ),
  );
  return out;
}
