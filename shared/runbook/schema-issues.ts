/**
 * Ajv's raw errors → one human message per problem: the field path, what was expected (the
 * schema's `title`), what was found, and the fix (the schema's `description`). Branch noise from
 * the step's oneOf is folded into a single message.
 */
import type { ErrorObject } from "ajv";
import type { ValidationIssue } from "../errors.js";
import { formatFieldPath, type PathSegment, pointerToSegments } from "./field-path.js";

/** Finds where a path is in the source document, e.g. "line 4, column 7"; null when unknown. */
export type Locator = (segments: readonly PathSegment[], key?: string) => string | null;

const STEP_KINDS = ["putFile", "runScript", "getFile"] as const;

export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return "nothing (null)";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  if (typeof value === "boolean") return `${value}`;
  if (typeof value === "number")
    return Number.isInteger(value) ? `the number ${value}` : `the number ${value}`;
  if (typeof value === "string") {
    if (value === "") return "an empty string";
    const shown = value.length > 60 ? `${value.slice(0, 57)}...` : value;
    return `"${JSON.stringify(shown).slice(1, -1)}"`;
  }
  return typeof value;
}

function schemaText(schema: unknown, key: "title" | "description"): string | null {
  if (schema && typeof schema === "object" && key in schema) {
    const v = (schema as Record<string, unknown>)[key];
    return typeof v === "string" ? v : null;
  }
  return null;
}

function typeNoun(type: unknown): string {
  const one = (t: string) =>
    ({ string: "text", integer: "a whole number", number: "a number", boolean: "true or false" })[t] ??
    (t === "array" ? "a list" : t === "object" ? "a mapping" : t);
  return Array.isArray(type) ? type.map((t) => one(String(t))).join(" or ") : one(String(type));
}

/** Levenshtein distance, for "did you mean" on unknown keys. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}

function suggest(key: string, allowed: string[]): string | null {
  let best: string | null = null;
  let bestD = Number.POSITIVE_INFINITY;
  for (const a of allowed) {
    const d = distance(key.toLowerCase(), a.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = a;
    }
  }
  return best !== null && bestD <= Math.max(2, Math.floor(best.length / 3)) ? best : null;
}

function withFix(message: string, parentSchema: unknown): string {
  const fix = schemaText(parentSchema, "description");
  return fix ? `${message}. ${fix}` : message;
}

function stepKindsPresent(data: unknown): string[] {
  if (!data || typeof data !== "object" || Array.isArray(data)) return [];
  return STEP_KINDS.filter((k) => k in (data as Record<string, unknown>));
}

interface Draft {
  segments: PathSegment[];
  key?: string;
  message: string;
}

function humanize(e: ErrorObject, segments: PathSegment[]): Draft | null {
  const title = schemaText(e.parentSchema, "title");
  const found = describeValue(e.data);
  switch (e.keyword) {
    case "type":
      return {
        segments,
        message: withFix(`expected ${title ?? typeNoun(e.params.type)}, got ${found}`, e.parentSchema),
      };
    case "additionalProperties": {
      const key = String(e.params.additionalProperty);
      const props = Object.keys(
        ((e.parentSchema as Record<string, unknown> | undefined)?.properties as object | undefined) ?? {},
      );
      const guess = suggest(key, props);
      const hint = guess ? `did you mean "${guess}"? ` : "";
      return {
        segments: [...segments, key],
        key,
        message: `unknown key; ${hint}allowed here: ${props.join(", ")}`,
      };
    }
    case "required": {
      const missing = String(e.params.missingProperty);
      const props = (e.parentSchema as Record<string, unknown> | undefined)?.properties as
        | Record<string, unknown>
        | undefined;
      const sub = props?.[missing];
      return {
        segments: [...segments, missing],
        message: withFix(`is required`, sub && !("$ref" in (sub as object)) ? sub : e.parentSchema),
      };
    }
    case "oneOf": {
      const present = stepKindsPresent(e.data);
      if (present.length > 1) {
        return {
          segments,
          message: `a step does exactly one thing, but this one has ${present.join(" and ")}; split it into ${present.length} steps, one per command`,
        };
      }
      if (e.data && typeof e.data === "object" && "args" in (e.data as object)) {
        return {
          segments,
          message: "args belongs to a runScript step; add runScript: <library file> to this step",
        };
      }
      return {
        segments,
        message: withFix("a step needs one of putFile, runScript or getFile", e.parentSchema),
      };
    }
    case "dependencies":
      return {
        segments: [...segments, String(e.params.property)],
        message: `${e.params.property} belongs to a ${e.params.missingProperty} step; move it to the step that runs the script`,
      };
    case "enum": {
      const allowed = (e.params.allowedValues as unknown[]).map(String);
      return { segments, message: withFix(`expected ${allowed.join(" or ")}, got ${found}`, e.parentSchema) };
    }
    case "pattern":
    case "minLength":
    case "maxLength":
    case "format": {
      const what = title ?? "a valid value";
      const why =
        e.keyword === "minLength"
          ? `expected ${what}, got an empty string`
          : e.keyword === "maxLength"
            ? `too long (at most ${e.params.limit} characters), expected ${what}`
            : `expected ${what}, got ${found}`;
      return { segments, message: withFix(why, e.parentSchema) };
    }
    case "minimum":
    case "maximum":
    case "exclusiveMinimum":
    case "exclusiveMaximum": {
      const cmp = String(e.params.comparison);
      const limit = String(e.params.limit);
      return { segments, message: withFix(`must be ${cmp} ${limit}, got ${found}`, e.parentSchema) };
    }
    case "minItems":
      return {
        segments,
        message: withFix(
          `needs at least ${e.params.limit} item${e.params.limit === 1 ? "" : "s"}, got ${Array.isArray(e.data) ? e.data.length : 0}`,
          e.parentSchema,
        ),
      };
    case "maxItems":
      return {
        segments,
        message: withFix(`has more than ${e.params.limit} items`, e.parentSchema),
      };
    default:
      return { segments, message: withFix(`is not valid (${e.message ?? e.keyword})`, e.parentSchema) };
  }
}

/** Turns Ajv errors into issues: one per problem, located in the source when a locator is given. */
export function schemaIssues(
  errors: readonly ErrorObject[],
  data: unknown,
  root: string,
  locate?: Locator,
): ValidationIssue[] {
  // A oneOf failure explains its branches; drop the per-branch "required" noise under it.
  const oneOfAt = new Set(errors.filter((e) => e.keyword === "oneOf").map((e) => e.instancePath));
  const unknownKeyAt = new Set(
    errors.filter((e) => e.keyword === "additionalProperties").map((e) => e.instancePath),
  );
  const issues: ValidationIssue[] = [];
  const seen = new Set<string>();
  for (const e of errors) {
    if (/\/oneOf\/\d+\//.test(e.schemaPath) && oneOfAt.has(e.instancePath)) continue;
    // "args without runScript" is already explained by the step's oneOf message when that failed too.
    if (e.keyword === "dependencies" && oneOfAt.has(e.instancePath)) continue;
    // A step with none of the kinds but an unknown key (e.g. "runscript"): the unknown-key message,
    // with its "did you mean", is the one problem to report.
    if (e.keyword === "oneOf" && e.params.passingSchemas === null && unknownKeyAt.has(e.instancePath))
      continue;
    // A type error on a value makes its other complaints (pattern of a number, ...) noise.
    const segments = pointerToSegments(e.instancePath, data);
    const draft = humanize(e, segments);
    if (!draft) continue;
    const path = formatFieldPath(root, draft.segments);
    const where = locate?.(segments, draft.key) ?? null;
    const message = where ? `${draft.message} (${where})` : draft.message;
    const dedupe = `${path}\u0000${message}`;
    if (seen.has(dedupe)) continue;
    seen.add(dedupe);
    issues.push({ path, message });
  }
  return dropShadowed(issues);
}

/** When a field has a type error, other errors on the very same field add nothing. */
function dropShadowed(issues: ValidationIssue[]): ValidationIssue[] {
  const typed = new Set(issues.filter((i) => i.message.startsWith("expected ")).map((i) => i.path));
  return issues.filter((i) => !typed.has(i.path) || i.message.startsWith("expected "));
}
