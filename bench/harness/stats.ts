export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function max(values: readonly number[]): number {
  return values.reduce((a, b) => Math.max(a, b), Number.NEGATIVE_INFINITY);
}

export function min(values: readonly number[]): number {
  return values.reduce((a, b) => Math.min(a, b), Number.POSITIVE_INFINITY);
}

export const isQuick = (): boolean => process.env["BENCH_QUICK"] === "1";

/**
 * Epoch ms by which this benchmark must be done so `npm run bench` stays inside its budget
 * (set by bench/main.ts; +Infinity when a benchmark runs on its own).
 */
export function deadline(): number {
  const v = Number(process.env["BENCH_DEADLINE"]);
  return Number.isFinite(v) && v > 0 ? v : Number.POSITIVE_INFINITY;
}
