// The CLI and the action rely on V8 honouring --semi-space-growth-factor and --optimize-for-size when
// set at run time (shared/runtime/small-heap.ts). These run a real Node with workloads that make V8 grow
// its new space and its old space, with and without the module, so a Node upgrade that stops honouring
// either fails here.
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { OLD_SPACE_CHURN } from "./old-space-churn.js";

const MODULE = path.resolve("lib/shared/runtime/small-heap.js");

// Keeps ~20 MB alive in a ring that is replaced continuously: enough survivors for V8 to grow the new
// space at every chance it gets. Prints the new space's committed size in MiB at the end.
// Also prints when it started (ms since the process began): it runs synchronously, so the module's
// one-second timer (--optimize-for-size, which resizes the new space by itself) cannot fire during it
// if it started before that.
const WORKLOAD = `
const startedAt = performance.now();
const v8 = require("node:v8");
const ring = new Array(200000);
for (let i = 0; i < 3000000; i++) ring[i % ring.length] = { i, s: "x" + i, a: [i, i + 1] };
const ns = v8.getHeapSpaceStatistics().find((s) => s.space_name === "new_space");
console.log(String(ns.space_size / 1048576) + " " + String(startedAt));
`;

// A live set of ~100,000 objects and a ring of 50,000 replaced continuously: with a small new space
// the ring's objects are promoted and die in the old space. Prints the old space's largest committed
// size in MiB (sampled), which V8's default growth lets reach ~50 MiB here and --optimize-for-size ~30.
// Starts after 1.5 s: the module sets its old-space flag one second after start.
const OLD_SPACE_WORKLOAD = `${OLD_SPACE_CHURN}
setTimeout(() => console.log(String(churn())), 1500);
`;

function runMiB(
  workload: string,
  preload: string[],
  env: NodeJS.ProcessEnv = {},
  nodeArgs: string[] = [],
): number {
  const r = spawnSync(process.execPath, [...nodeArgs, ...preload.flatMap((p) => ["-r", p]), "-e", workload], {
    encoding: "utf8",
    env: { ...process.env, NODE_OPTIONS: "", MDE_LR_V8_DEFAULTS: "", ...env },
  });
  expect(r.stderr).toBe("");
  expect(r.status).toBe(0);
  return Number(r.stdout.trim().split(" ")[0]);
}

/**
 * The new space's size after WORKLOAD, from a run that started before the module's timer could fire
 * (a loaded machine can take that long to start Node: such runs are repeated, up to 5 times).
 */
function newSpaceMiB(preload: string[], env: NodeJS.ProcessEnv = {}): number {
  for (let attempt = 0; attempt < 5; attempt++) {
    const r = spawnSync(process.execPath, [...preload.flatMap((p) => ["-r", p]), "-e", WORKLOAD], {
      encoding: "utf8",
      env: { ...process.env, NODE_OPTIONS: "", MDE_LR_V8_DEFAULTS: "", ...env },
    });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const [size, startedAt] = r.stdout.trim().split(" ").map(Number);
    if (startedAt! < 900) return size!;
  }
  throw new Error(
    "Node took over 900 ms to start the workload 5 times: the machine is too loaded for this test",
  );
}

/** Three runs, sorted: one run's old-space peak depends on when V8's collections happen to fall. */
function oldSpacePeaksMiB(preload: string[], nodeArgs: string[]): number[] {
  return [0, 1, 2].map(() => runMiB(OLD_SPACE_WORKLOAD, preload, {}, nodeArgs)).sort((a, b) => a - b);
}

describe("small heap (the CLI's and the action's V8 settings)", () => {
  it("keeps the new space at its initial size where V8 alone grows it", () => {
    const untouched = newSpaceMiB([]);
    // 128 MiB untouched here, 2 MiB with the growth factor (before the old-space setting's timer). The
    // best of three: one clean-clone CI run under load saw 7.75 MiB once, a Node that ignored the flag
    // would give ~128 every time.
    const tuned = Math.min(...[0, 1, 2].map(() => newSpaceMiB([MODULE])));
    expect(untouched).toBeGreaterThanOrEqual(32);
    expect(tuned).toBeLessThanOrEqual(4);
    expect(tuned).toBeLessThanOrEqual(untouched / 8);
  });

  it("grows the old space in small steps where V8 alone lets promoted garbage pile up", () => {
    // Untouched: only the young-generation setting, set at run time as the module sets it (as a start-up
    // flag V8 also sizes the first semi-spaces differently); tuned: the module, which sets both. So the
    // two differ only in the old-space setting.
    const youngOnly = path.join(mkdtempSync(path.join(tmpdir(), "small-heap-")), "young-only.cjs");
    writeFileSync(youngOnly, `require("node:v8").setFlagsFromString("--semi-space-growth-factor=1");\n`);
    // The best tuned run against the median untouched one: on a loaded machine (the test suite runs
    // files in parallel) a tuned run now and then peaks high, but never all three (about 19 against
    // 47 MiB here, with or without load); without the setting all three sit at the untouched level.
    const untouched = oldSpacePeaksMiB([youngOnly], [])[1]!;
    const tuned = oldSpacePeaksMiB([MODULE], [])[0]!;
    expect(tuned).toBeLessThan(untouched * 0.8);
  }, 60_000);

  it("leaves V8 alone when the user sized the heap or opted out", () => {
    expect(newSpaceMiB([MODULE], { NODE_OPTIONS: "--max-semi-space-size=8" })).toBeGreaterThanOrEqual(8);
    expect(newSpaceMiB([MODULE], { NODE_OPTIONS: "--max-old-space-size=4096" })).toBeGreaterThanOrEqual(8);
    expect(newSpaceMiB([MODULE], { MDE_LR_V8_DEFAULTS: "1" })).toBeGreaterThanOrEqual(8);
  });
});
