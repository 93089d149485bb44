/**
 * The runbook JSON Schema (schema/runbook.schema.json, shipped with the package and used by editors)
 * compiled once with Ajv, so run-time validation and the editor agree on what a runbook is.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import runbookSchema from "../../schema/runbook.schema.json";

export const RUNBOOK_SCHEMA_ID: string = runbookSchema.$id;
export { runbookSchema };

let compiled: { ajv: Ajv; runbook: ValidateFunction; steps: ValidateFunction } | undefined;

function validators() {
  if (!compiled) {
    // verbose: errors carry parentSchema (titles for messages) and data (what was found instead).
    // strictRequired is off because the step's oneOf names properties declared one level up.
    const ajv = new Ajv({
      allErrors: true,
      verbose: true,
      strict: true,
      strictRequired: false,
      allowUnionTypes: true,
    });
    const runbook = ajv.compile(runbookSchema);
    const steps = ajv.getSchema(`${RUNBOOK_SCHEMA_ID}#/definitions/steps`);
    if (!steps) throw new Error("runbook schema has no #/definitions/steps");
    compiled = { ajv, runbook, steps };
  }
  return compiled;
}

export function validateRunbookShape(value: unknown): ErrorObject[] {
  const v = validators().runbook;
  return v(value) ? [] : [...(v.errors ?? [])];
}

export function validateStepsShape(value: unknown): ErrorObject[] {
  const v = validators().steps;
  return v(value) ? [] : [...(v.errors ?? [])];
}
