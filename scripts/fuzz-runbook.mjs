// Long fuzz run of the runbook parser: the same properties as test/runbook/fuzz.test.ts, over
// 10,000+ generated documents. Usage: node scripts/fuzz-runbook.mjs [runs] [seed]
// (run through npm's PATH or node_modules/.bin/node so vitest runs on node@24).
import { spawnSync } from "node:child_process";

const runs = Number(process.argv[2] ?? 10_000);
if (!Number.isInteger(runs) || runs < 1) {
  console.error("usage: node scripts/fuzz-runbook.mjs [runs ≥ 1] [seed]");
  process.exit(2);
}
const env = { ...process.env, FUZZ_RUNS: String(runs) };
if (process.argv[3]) env.FUZZ_SEED = process.argv[3];

const r = spawnSync(
  "vitest",
  ["run", "test/runbook/fuzz.test.ts", "--testTimeout", String(60_000 + runs * 50)],
  {
    stdio: "inherit",
    env,
    shell: false,
  },
);
if (r.error) {
  console.error(
    `could not start vitest (${r.error.message}); run from the repository with npm's PATH, e.g. npx node scripts/fuzz-runbook.mjs`,
  );
  process.exit(1);
}
process.exit(r.status ?? 1);
