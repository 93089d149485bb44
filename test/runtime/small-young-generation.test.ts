// The CLI and the action rely on V8 honouring --semi-space-growth-factor when set at run time
// (shared/runtime/small-young-generation.ts). These run a real Node with a workload that makes V8 grow
// its new space, with and without the module, so a Node upgrade that stops honouring it fails here.
import { spawnSync } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";

const MODULE = path.resolve("lib/shared/runtime/small-young-generation.js");

// Keeps ~20 MB alive in a ring that is replaced continuously: enough survivors for V8 to grow the new
// space at every chance it gets. Prints the new space's committed size in MiB at the end.
const WORKLOAD = `
const v8 = require("node:v8");
const ring = new Array(200000);
for (let i = 0; i < 3000000; i++) ring[i % ring.length] = { i, s: "x" + i, a: [i, i + 1] };
const ns = v8.getHeapSpaceStatistics().find((s) => s.space_name === "new_space");
console.log(String(ns.space_size / 1048576));
`;

function newSpaceMiB(preload: string[], env: NodeJS.ProcessEnv = {}): number {
  const r = spawnSync(process.execPath, [...preload.flatMap((p) => ["-r", p]), "-e", WORKLOAD], {
    encoding: "utf8",
    env: { ...process.env, NODE_OPTIONS: "", MDE_LR_V8_DEFAULTS: "", ...env },
  });
  expect(r.stderr).toBe("");
  expect(r.status).toBe(0);
  return Number(r.stdout.trim());
}

describe("small young generation (the CLI's and the action's V8 setting)", () => {
  it("keeps the new space at its initial size where V8 alone grows it", () => {
    const untouched = newSpaceMiB([]);
    const tuned = newSpaceMiB([MODULE]);
    expect(untouched).toBeGreaterThanOrEqual(8);
    expect(tuned).toBeLessThanOrEqual(2);
  });

  it("leaves V8 alone when the user chose a young-generation size or opted out", () => {
    expect(newSpaceMiB([MODULE], { NODE_OPTIONS: "--max-semi-space-size=8" })).toBeGreaterThanOrEqual(8);
    expect(newSpaceMiB([MODULE], { MDE_LR_V8_DEFAULTS: "1" })).toBeGreaterThanOrEqual(8);
  });
});
