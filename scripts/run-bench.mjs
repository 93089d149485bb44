// `npm run bench`: builds what the benchmarks spawn (lib/ for the CLI), bundles the TypeScript
// benchmarks under bench/ with esbuild into .tmp/bench/, then hands over to bench/main.ts, which runs
// each benchmark in its own process and prints the verdict table. Options: see bench/README.md.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import path from "node:path";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");
process.chdir(root);
const bin = path.join(root, "node_modules", ".bin");
// Also works as `node scripts/run-bench.mjs` outside npm: the benchmarks need the node@24 devDependency.
process.env.PATH = `${bin}${path.delimiter}${process.env.PATH}`;
const major = Number(process.versions.node.split(".")[0]);
if (major < 22 && existsSync(path.join(bin, "node"))) {
  const r = spawnSync(path.join(bin, "node"), [process.argv[1], ...process.argv.slice(2)], {
    stdio: "inherit",
  });
  process.exit(r.status ?? 1);
}

const started = Date.now();
console.log(`node ${process.version}`);

// The CLI benchmark spawns bin/mde-lr.js, which loads lib/: build it so the figures are for this source.
const tsc = spawnSync("tsc", ["-p", "tsconfig.build.json"], { stdio: "inherit" });
if (tsc.status !== 0) console.warn("warning: tsc reported errors; lib/ may be partly stale");

const { build } = await import("esbuild");
// One folder per invocation: another `npm run bench` in the same checkout must not swap the bundles
// under this one. Inside the repository, so the bundles resolve node_modules.
const outdir = path.join(".tmp", `bench-${process.pid}`);
rmSync(outdir, { recursive: true, force: true });
mkdirSync(outdir, { recursive: true });
// Each benchmark is bundled on its own so one that does not build yet does not stop the others.
const entries = readdirSync("bench").filter((f) => f.endsWith(".ts"));
for (const entry of entries) {
  try {
    await build({
      entryPoints: [path.join("bench", entry)],
      outfile: path.join(outdir, entry.replace(/\.ts$/, ".mjs")),
      bundle: true,
      platform: "node",
      target: "node22",
      format: "esm",
      packages: "external",
      sourcemap: "inline",
      logLevel: "error",
      banner: {
        js: "import { createRequire as __benchCreateRequire } from 'node:module'; const require = __benchCreateRequire(import.meta.url);",
      },
    });
  } catch {
    console.warn(`warning: bench/${entry} does not build; it will be reported as not run`);
  }
}
console.log(`prepared in ${((Date.now() - started) / 1000).toFixed(1)} s`);

const main = path.join(outdir, "main.mjs");
if (!existsSync(main)) {
  console.error("bench/main.ts does not build; nothing to run");
  process.exit(1);
}
const r = spawnSync(process.execPath, ["--enable-source-maps", main, ...process.argv.slice(2)], {
  stdio: "inherit",
  env: { ...process.env, BENCH_PREPARED_MS: String(Date.now() - started) },
});
rmSync(outdir, { recursive: true, force: true });
process.exit(r.status ?? 1);
