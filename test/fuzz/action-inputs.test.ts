import { describe, expect, it } from "vitest";
import { inputKey, readInputs } from "../../action/inputs.js";
import { loadActionRunbook } from "../../action/runbook-source.js";
import { ValidationError } from "../../shared/errors.js";
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

  // B7 (found by FUZZ_SEED=7 at 10,000): an alias to a missing anchor escaped as a ReferenceError.
  it.each([["*c"], ["- getFile: *nowhere"], ["&a [*a, *b]"]])(
    "commands %j: a ValidationError naming `commands`, not a crash",
    async (commands) => {
      const env = {
        GITHUB_WORKSPACE: process.cwd(),
        [inputKey("commands")]: commands,
        [inputKey("machine-ids")]: "a".repeat(40),
        [inputKey("access-token")]: "tOkEn-not-used",
      };
      const read = readInputs(env);
      const error = await loadActionRunbook(read.runbook, read.machineIds, env, read.workspace).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).issues.map((i) => i.path)).toEqual(["commands"]);
    },
  );
});
