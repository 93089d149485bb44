import { describe, expect, it } from "vitest";
import { runActionInputsFuzz } from "./action-inputs.property.js";

// Small, seeded count here; `npm run chaos -- --fuzz 10000` runs the CI-independent 10,000
// (FUZZ_RUNS / FUZZ_SEED, as test/runbook/fuzz.test.ts, also scale this file).
const RUNS = Number(process.env.FUZZ_RUNS ?? 400);
const SEED = Number(process.env.FUZZ_SEED ?? 20261123);

describe("fuzz: action inputs", () => {
  it(`${RUNS} generated input sets: a result or a ValidationError naming an input, never a crash or a leaked credential`, async () => {
    const counts = await runActionInputsFuzz(RUNS, SEED);
    expect(counts.cases).toBe(RUNS);
    // The generator must reach every layer, not just bounce off the first check.
    expect(counts.rejectedInputs).toBeGreaterThan(RUNS / 10);
    expect(counts.rejectedRunbook).toBeGreaterThan(RUNS / 20);
    expect(counts.accepted).toBeGreaterThan(0);
    console.log(`action-inputs fuzz: ${JSON.stringify(counts)}`);
  });
});
