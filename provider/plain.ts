/**
 * Pulumi's struct encoder rejects undefined (even inside arrays), functions, BigInt and secret wrappers
 * ("Unexpected struct type", pulumi#3012): everything handed back to the host goes through here.
 */
export function toPlain<T>(value: T): T {
  return JSON.parse(
    JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? Number(v) : v)),
  ) as T;
}

/** Deterministic JSON (object keys sorted) so equal declarations compare equal whatever their key order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v && typeof v === "object" && !Array.isArray(v)) {
      const sorted: Record<string, unknown> = {};
      for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k];
      return sorted;
    }
    return v;
  });
}
