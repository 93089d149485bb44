/** Reading raw input values the way `@actions/core` does (INPUT_<NAME>), and the shared value shapes. */
import type { ValidationIssue } from "../shared/errors.js";

export type Env = Record<string, string | undefined>;

/** `@actions/core` getInput's key: spaces become `_`, upper-cased, hyphens kept (`INPUT_CLIENT-ID`). */
export function inputKey(name: string): string {
  return `INPUT_${name.replace(/ /g, "_").toUpperCase()}`;
}

export function raw(env: Env, name: string): string {
  return env[inputKey(name)] ?? "";
}

export function text(env: Env, name: string): string | null {
  const v = raw(env, name).trim();
  return v === "" ? null : v;
}

export const MACHINE_ID = /^[0-9a-f]{40}$/;
export const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const DOMAIN = /^(?=.{3,253}$)([a-z0-9-]{1,63}\.)+[a-z]{2,63}$/i;
/** Characters the artifact service rejects in names (@actions/artifact path-and-artifact-name-validation). */
export const ARTIFACT_NAME_FORBIDDEN = /["':<>|*?\r\n\\/]/g;

/** Splits a newline/comma separated list, dropping blanks and duplicates (order kept). */
export function splitList(value: string): string[] {
  const seen = new Set<string>();
  for (const part of value.split(/[\n,]/)) {
    const v = part.trim();
    if (v !== "") seen.add(v);
  }
  return [...seen];
}

export function parseBoolean(env: Env, name: string, fallback: boolean, issues: ValidationIssue[]): boolean {
  const v = text(env, name);
  if (v === null) return fallback;
  if (/^true$/i.test(v)) return true;
  if (/^false$/i.test(v)) return false;
  issues.push({ path: name, message: `must be true or false, got "${v}"` });
  return fallback;
}

export function parseChoice<T extends string>(
  env: Env,
  name: string,
  allowed: readonly T[],
  fallback: T,
  issues: ValidationIssue[],
): T {
  const v = text(env, name);
  if (v === null) return fallback;
  const hit = allowed.find((a) => a === v.toLowerCase());
  if (hit) return hit;
  issues.push({ path: name, message: `must be one of ${allowed.join(", ")}; got "${v}"` });
  return fallback;
}
