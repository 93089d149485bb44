/** Runbook durations: seconds as a number, or "30s" / "45m" / "2h" (the schema checks the shape). */

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000 } as const;

/** Milliseconds, or null when the value is not a duration. */
export function parseDurationMs(value: number | string): number | null {
  if (typeof value === "number") return Number.isFinite(value) && value > 0 ? value * 1000 : null;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*$/.exec(value);
  if (!m) return null;
  const amount = Number(m[1]);
  const unit = (m[2] || "s") as keyof typeof UNIT_MS;
  const ms = amount * UNIT_MS[unit];
  return Number.isFinite(ms) && ms > 0 ? Math.round(ms) : null;
}

export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${Math.round(ms / 1000)}s`;
}
