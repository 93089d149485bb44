/**
 * Bundles the chaos worker (TypeScript core included) into one CommonJS file with esbuild, so each of
 * the thousands of worker processes starts in a fraction of the time a TypeScript loader would take.
 * npm packages stay external and resolve from the repository's node_modules.
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import { build } from "esbuild";
import { repoRoot } from "./repo-root.js";

export async function buildWorker(
  outFile = path.join(repoRoot(), ".tmp", "chaos", "worker.cjs"),
): Promise<string> {
  mkdirSync(path.dirname(outFile), { recursive: true });
  await build({
    entryPoints: [path.join(repoRoot(), "test", "chaos", "harness", "worker.ts")],
    outfile: outFile,
    bundle: true,
    platform: "node",
    target: "node22",
    format: "cjs",
    packages: "external",
    sourcemap: "inline",
    logLevel: "silent",
  });
  return outFile;
}
