import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { CommandType } from "../../shared/api/types.js";
import { packSteps, stepToCommand } from "../../shared/plan/pack.js";
import type { Step } from "../../shared/runbook/types.js";

const PHASE: Record<CommandType, number> = { PutFile: 0, RunScript: 1, GetFile: 2 };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  fc.constantFrom("tool.exe", "a.ps1").map((fileName): Step => ({ type: "PutFile", fileName })),
  fc
    .record({
      scriptName: fc.constantFrom("collect.ps1", "b.ps1"),
      args: fc.option(fc.string(), { nil: null }),
    })
    .map((r): Step => ({ type: "RunScript", ...r })),
  fc.string({ minLength: 1 }).map((path): Step => ({ type: "GetFile", path })),
);

function isValidAction(types: CommandType[]): boolean {
  return types.every((t, i) => i === 0 || PHASE[types[i - 1]!] <= PHASE[t]);
}

/** Fewest consecutive valid actions by exhaustive search over every cut set (small n only). */
function bruteForceMinimum(steps: Step[]): number {
  const n = steps.length;
  let best = n;
  for (let mask = 0; mask < 1 << (n - 1); mask++) {
    let ok = true;
    let start = 0;
    let count = 0;
    for (let i = 1; i <= n && ok; i++) {
      if (i === n || mask & (1 << (i - 1))) {
        ok = isValidAction(steps.slice(start, i).map((s) => s.type));
        count++;
        start = i;
      }
    }
    if (ok) best = Math.min(best, count);
  }
  return best;
}

describe("packSteps", () => {
  it("packs the issue's examples", () => {
    const a: Step = { type: "RunScript", scriptName: "a.ps1", args: null };
    const x: Step = { type: "GetFile", path: "X" };
    const b: Step = { type: "RunScript", scriptName: "b.ps1", args: "-v" };
    const y: Step = { type: "GetFile", path: "Y" };
    const packed = packSteps([a, x, b, y]);
    expect(packed.map((p) => p.steps)).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(packed[1]!.commands).toEqual([
      {
        type: "RunScript",
        params: [
          { key: "ScriptName", value: "b.ps1" },
          { key: "Args", value: "-v" },
        ],
      },
      { type: "GetFile", params: [{ key: "Path", value: "Y" }] },
    ]);
    const put: Step = { type: "PutFile", fileName: "tool.exe" };
    expect(packSteps([put, a, x]).map((p) => p.steps)).toEqual([[1, 2, 3]]);
    expect(packSteps([x, put, a, x]).map((p) => p.steps)).toEqual([[1], [2, 3, 4]]);
    expect(packSteps([])).toEqual([]);
  });

  it("keeps runbook order, makes only valid actions, and is minimal (property)", () => {
    fc.assert(
      fc.property(fc.array(stepArb, { minLength: 1, maxLength: 11 }), (steps) => {
        const packed = packSteps(steps);
        // Order and completeness: concatenating the actions gives back the runbook.
        expect(packed.flatMap((p) => p.steps)).toEqual(steps.map((_, i) => i + 1));
        expect(packed.flatMap((p) => p.commands)).toEqual(steps.map(stepToCommand));
        packed.forEach((p, i) => {
          expect(p.index).toBe(i);
          expect(isValidAction(p.steps.map((s) => steps[s - 1]!.type))).toBe(true);
        });
        // Minimality against an exhaustive search.
        expect(packed.length).toBe(bruteForceMinimum(steps));
      }),
      { numRuns: 500 },
    );
  });

  it("needs exactly one action more per backwards step (property, long lists)", () => {
    fc.assert(
      fc.property(fc.array(stepArb, { minLength: 1, maxLength: 100 }), (steps) => {
        const backwards = steps.filter((s, i) => i > 0 && PHASE[s.type] < PHASE[steps[i - 1]!.type]).length;
        expect(packSteps(steps)).toHaveLength(1 + backwards);
      }),
      { numRuns: 300 },
    );
  });
});
