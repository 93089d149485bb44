/**
 * Minimal shape checks on 2xx answers. Unknown and extra fields stay ignored (the service adds fields
 * over time), but an entity without the fields the toolkit reads — a gateway's HTML turned into `null`,
 * a schema change, a hostile middlebox — becomes a typed MdeApiError instead of a value that breaks the
 * caller later with a TypeError.
 */
import { MdeApiError } from "../errors.js";
import type { LibraryFile, Machine } from "./types.js";

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

const text = (v: unknown): string | null => (typeof v === "string" ? v : null);
const whole = (v: unknown): number | null => {
  if (typeof v === "number" && Number.isFinite(v)) return v;
  // A number sent as a string ("19042") is still the number; anything else is unknown.
  if (typeof v === "string" && /^\s*-?\d+\s*$/.test(v)) return Number(v);
  return null;
};

/**
 * The Machine every reader sees: the answer's own fields kept, each field the toolkit reads present as
 * its type or `null` (absent, null or wrongly typed in the answer, real-captures D5). Call it only on a
 * body whose shape passed MACHINE_FIELDS (an object with a string id).
 */
export function normalizeMachine(body: unknown): Machine {
  const o = body as Record<string, unknown>;
  const tags = Array.isArray(o.machineTags)
    ? o.machineTags.filter((t): t is string => typeof t === "string")
    : null;
  return {
    ...o,
    id: String(o.id),
    computerDnsName: text(o.computerDnsName),
    osPlatform: text(o.osPlatform),
    osVersion: text(o.osVersion),
    osBuild: whole(o.osBuild),
    version: text(o.version),
    agentVersion: text(o.agentVersion),
    healthStatus: text(o.healthStatus),
    onboardingStatus: text(o.onboardingStatus),
    machineTags: tags,
    rbacGroupId: whole(o.rbacGroupId),
    rbacGroupName: text(o.rbacGroupName),
    lastSeen: text(o.lastSeen),
    mergedIntoMachineId: text(o.mergedIntoMachineId),
  };
}

export const LIBRARY_FILE_FIELDS: Record<string, FieldKind> = { fileName: "string" };

/**
 * The LibraryFile every reader sees (same rule as normalizeMachine): each field present as its type or
 * `null`, `hasParameters` false unless the answer says true. Call it on a body that passed
 * LIBRARY_FILE_FIELDS.
 */
export function normalizeLibraryFile(body: unknown): LibraryFile {
  const o = body as Record<string, unknown>;
  return {
    ...o,
    fileName: String(o.fileName),
    // Compared against a local digest: blank means unknown, and hex case is not part of the value.
    sha256: text(o.sha256)?.trim().toLowerCase() || null,
    description: text(o.description),
    creationTime: text(o.creationTime),
    lastUpdatedTime: text(o.lastUpdatedTime),
    createdBy: text(o.createdBy),
    hasParameters: o.hasParameters === true || o.hasParameters === "true",
    parametersDescription: text(o.parametersDescription),
  };
}
