// The README's test command. npm puts node_modules/.bin first on PATH, so `node` here is the
// node@24 devDependency even when the machine's own Node is older (the suite needs Node >= 22).
import { spawnSync } from "node:child_process";

const extra = process.argv.slice(2);
const steps = [
  ["build (tsc → lib/)", "tsc", ["-p", "tsconfig.build.json"]],
  ["typecheck", "tsc", ["-p", "tsconfig.json", "--noEmit"]],
  ["lint", "biome", ["check", "."]],
  ["dist matches source", "node", ["scripts/check-dist.mjs"]],
  ["tests", "vitest", ["run", ...extra]],
];

console.log(`node ${process.version}`);
for (const [name, cmd, args] of steps) {
  const started = Date.now();
  console.log(`\n=== ${name}`);
  const r = spawnSync(cmd, args, { stdio: "inherit", shell: false });
  if (r.status !== 0) {
    console.error(`\n✗ ${name} failed (exit ${r.status ?? r.signal})`);
    process.exit(r.status ?? 1);
  }
  console.log(`✓ ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
}
