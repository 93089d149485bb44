// `npm run chaos -- --runs 1000 --seed 1`: bundles scripts/chaos.ts (with the TypeScript core it drives)
// into one CommonJS file with esbuild, then runs it on the node@24 that npm put first on PATH.
import { spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { build } from "esbuild";

const out = path.resolve(".tmp/chaos/chaos.cjs");
mkdirSync(path.dirname(out), { recursive: true });
await build({
  entryPoints: ["scripts/chaos.ts"],
  outfile: out,
  bundle: true,
  platform: "node",
  target: "node22",
  format: "cjs",
  packages: "external",
  sourcemap: "inline",
  logLevel: "warning",
});
const r = spawnSync(process.execPath, ["--enable-source-maps", out, ...process.argv.slice(2)], {
  stdio: "inherit",
});
process.exit(r.status ?? 1);
