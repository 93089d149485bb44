/**
 * Minimal shape checks on 2xx answers. Unknown and extra fields stay ignored (the service adds fields
 * over time), but an entity without the fields the toolkit reads — a gateway's HTML turned into `null`,
 * a schema change, a hostile middlebox — becomes a typed MdeApiError instead of a value that breaks the
 * caller later with a TypeError.
 */
import { MdeApiError } from "../errors.js";

export type FieldKind = "string" | "array";

export function shapeProblem(body: unknown, fields: Record<string, FieldKind>): string | null {
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    return `expected a JSON object, got ${body === null ? "null" : Array.isArray(body) ? "an array" : typeof body}`;
  }
  const o = body as Record<string, unknown>;
  for (const [name, kind] of Object.entries(fields)) {
    const ok = kind === "array" ? Array.isArray(o[name]) : typeof o[name] === kind;
    if (!ok) return `field "${name}" should be ${kind === "array" ? "a list" : `a ${kind}`}`;
  }
  return null;
}

export function expectShape<T>(
  body: unknown,
  fields: Record<string, FieldKind>,
  where: { method: string; path: string; status?: number },
): T {
  const problem = shapeProblem(body, fields);
  if (problem === null) return body as T;
  throw new MdeApiError({
    status: where.status ?? 200,
    code: "UnexpectedResponse",
    message: `the service's answer has an unexpected shape: ${problem}`,
    method: where.method,
    path: where.path,
  });
}

export const MACHINE_FIELDS: Record<string, FieldKind> = { id: "string" };
export const ACTION_FIELDS: Record<string, FieldKind> = { id: "string", status: "string", commands: "array" };
