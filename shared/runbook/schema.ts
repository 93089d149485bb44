/**
 * The runbook JSON Schema (schema/runbook.schema.json, shipped with the package and used by editors),
 * so run-time validation and the editor agree on what a runbook is. The validators are Ajv standalone
 * code generated at build time (scripts/gen-runbook-validator.mjs): compiling the schema at every start
 * cost 0.2–1 s before the first request. test/runbook/schema-precompiled.test.ts fails if they are stale.
 */
import type { ErrorObject, ValidateFunction } from "ajv";
import runbookSchema from "../../schema/runbook.schema.json";
import { validateRunbook, validateSteps } from "./schema-validators.generated.js";

export const RUNBOOK_SCHEMA_ID: string = runbookSchema.$id;
export { runbookSchema };

// The generated module is untyped JavaScript; these are the shapes Ajv's standalone code has.
const runbook = validateRunbook as unknown as ValidateFunction;
const steps = validateSteps as unknown as ValidateFunction;

export function validateRunbookShape(value: unknown): ErrorObject[] {
  return runbook(value) ? [] : [...(runbook.errors ?? [])];
}

export function validateStepsShape(value: unknown): ErrorObject[] {
  return steps(value) ? [] : [...(steps.errors ?? [])];
}
