// mde-lr and the action wrap a run's end-of-run writing in reportBurst (shared/runtime/heap-policy.ts),
// which turns --optimize-for-size off at run time for the burst and on again after. This runs a real
// Node with the CLI's small-heap settings and a workload that promotes garbage, once inside the burst
// and once after it, so a Node upgrade that stops honouring either change at run time fails here.
import { spawnSync } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { OLD_SPACE_CHURN } from "./old-space-churn.js";

const SMALL_HEAP = path.resolve("lib/shared/runtime/small-heap.js");
const POLICY = path.resolve("lib/shared/runtime/heap-policy.js");

// One OLD_SPACE_CHURN warms up; then the old space's largest committed size (MiB) in a churn before
// the burst, in one inside it, and in the second churn after it (the first after still starts from the
// burst's larger space). Here: ~21, 44–81 and ~20 MiB; ~21 inside when the burst changes nothing, ~47
// after when it does not turn the setting on again. Starts after 1.5 s: small-heap sets
// --optimize-for-size one second after start.
const WORKLOAD = `${OLD_SPACE_CHURN}
const { reportBurst } = require(${JSON.stringify(POLICY)});
setTimeout(() => {
  churn();
  const before = churn();
  const inside = reportBurst(churn);
  churn();
  const after = churn();
  console.log([before, inside, after].join(" "));
}, 1500);
`;

function peaks(): { before: number; inside: number; after: number } {
  const r = spawnSync(process.execPath, ["-r", SMALL_HEAP, "-e", WORKLOAD], {
    encoding: "utf8",
    env: { ...process.env, NODE_OPTIONS: "", MDE_LR_V8_DEFAULTS: "" },
  });
  expect(r.stderr).toBe("");
  expect(r.status).toBe(0);
  const [before, inside, after] = r.stdout.trim().split(" ").map(Number);
  return { before: before!, inside: inside!, after: after! };
}

describe("reportBurst (the end of a run in mde-lr and the action)", () => {
  it("lets the old space grow as V8 alone does inside the burst, and in small steps again after it", () => {
    // Medians of three: one run's peak depends on when V8's collections happen to fall.
    const runs = [peaks(), peaks(), peaks()];
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[1]!;
    const before = median(runs.map((p) => p.before));
    const inside = median(runs.map((p) => p.inside));
    const after = median(runs.map((p) => p.after));
    expect(inside).toBeGreaterThan(before * 1.5);
    expect(after).toBeLessThan(inside * 0.7);
  }, 90_000);
});
