import { readFileSync } from "node:fs";
import { Ajv } from "ajv";
import { describe, expect, it } from "vitest";
// @ts-expect-error: a plain .mjs build script without type declarations
import { GENERATED_PATH, generateRunbookValidators } from "../../scripts/gen-runbook-validator.mjs";
import { runbookSchema, validateRunbookShape, validateStepsShape } from "../../shared/runbook/schema.js";

describe("precompiled runbook validators", () => {
  it("match what the schema generates today (run scripts/gen-runbook-validator.mjs if not)", () => {
    expect(readFileSync(GENERATED_PATH as string, "utf8")).toBe(
      (generateRunbookValidators as () => string)(),
    );
  });

  it("report the same errors as Ajv compiling the schema at run time", () => {
    const ajv = new Ajv({
      allErrors: true,
      verbose: true,
      strict: true,
      strictRequired: false,
      allowUnionTypes: true,
    });
    const runbook = ajv.compile(runbookSchema);
    const steps = ajv.getSchema(`${runbookSchema.$id}#/definitions/steps`);
    if (!steps) throw new Error("no #/definitions/steps");
    const samples: unknown[] = [
      {
        name: "ok",
        targets: { machineIds: ["0123456789abcdef0123456789abcdef01234567"] },
        commands: [{ run: "x.ps1" }],
      },
      { name: "", targets: {}, commands: "nope", extra: 1 },
      {
        name: "bad name!",
        targets: { tags: [5] },
        commands: [{ run: "a" }, { getfile: "" }, {}],
        options: { x: 1 },
      },
      "not a map",
      { name: "𝒜".repeat(101), targets: { machineIds: ["zz"] }, commands: [] },
    ];
    for (const sample of samples) {
      runbook(sample);
      expect(validateRunbookShape(sample)).toEqual(runbook.errors ?? []);
      const cmds = (sample as { commands?: unknown }).commands;
      steps(cmds);
      expect(validateStepsShape(cmds)).toEqual(steps.errors ?? []);
    }
    expect(validateRunbookShape(samples[1]).length).toBeGreaterThan(0);
  });
});
