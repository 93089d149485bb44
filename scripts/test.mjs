// The README's test command. npm puts node_modules/.bin first on PATH, so `node` here is the
// node@24 devDependency even when the machine's own Node is older (the suite needs Node >= 22).
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";

// Also works when called as `node scripts/test.mjs` outside npm.
process.env.PATH = `${path.resolve("node_modules/.bin")}${path.delimiter}${process.env.PATH}`;

const extra = process.argv.slice(2);
const resultsFile = ".tmp/vitest-results.json";
const steps = [
  ["build (tsc → lib/)", "tsc", ["-p", "tsconfig.build.json"]],
  ["typecheck", "tsc", ["-p", "tsconfig.json", "--noEmit"]],
  ["typecheck (report.html's browser script)", "tsc", ["-p", "shared/report/html/page/tsconfig.json"]],
  ["lint", "biome", ["check", "."]],
  ["dist matches source", "node", ["scripts/check-dist.mjs"]],
  [
    "tests",
    "vitest",
    ["run", "--reporter=default", "--reporter=json", `--outputFile.json=${resultsFile}`, ...extra],
  ],
];

console.log(`node ${process.version}`);
mkdirSync(".tmp", { recursive: true });
rmSync(resultsFile, { force: true });
let failedStep = null;
for (const [name, cmd, args] of steps) {
  const started = Date.now();
  console.log(`\n=== ${name}`);
  const r = spawnSync(cmd, args, { stdio: "inherit", shell: false });
  if (r.status !== 0) {
    console.error(`\n✗ ${name} failed (${r.error ? r.error.message : `exit ${r.status ?? r.signal}`})`);
    failedStep = { name, code: r.status ?? 1 };
    break;
  }
  console.log(`✓ ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
}

// One plain closing line, so CI can tell a run that tested nothing from one that passed.
if (existsSync(resultsFile)) {
  const r = JSON.parse(readFileSync(resultsFile, "utf8"));
  const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  console.log(
    `\n${r.numPassedTests} passed, ${r.numFailedTests} failed${skipped ? `, ${skipped} skipped` : ""}`,
  );
}
if (failedStep) process.exit(failedStep.code);
