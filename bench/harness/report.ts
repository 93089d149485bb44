/**
 * Shared output format of every benchmark: a small table on stdout and one JSON file for tracking
 * (bench/results/<bench>.json, or $BENCH_OUT). Each figure carries its goal so the runner can print
 * one verdict table without knowing the benchmarks.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

export interface Goal {
  op: "<=" | ">=";
  target: number;
}

/** `pass: null` means the figure could not be measured (see `note`). */
export interface Figure {
  id: string;
  label: string;
  value: number | null;
  unit: string;
  goal: Goal | null;
  pass: boolean | null;
  note: string | null;
}

export interface BenchResult {
  bench: string;
  /** The command that reproduces this file. */
  command: string;
  startedAt: string;
  durationMs: number;
  environment: { node: string; platform: string; cpus: number; cpuModel: string; memoryMiB: number };
  figures: Figure[];
  /** Bench-specific detail rows (one per configuration or run). */
  rows: Record<string, unknown>[];
  notes: string[];
}

export function figure(
  id: string,
  label: string,
  value: number | null,
  unit: string,
  goal?: Goal | null,
  note?: string | null,
): Figure {
  const pass = goal && value !== null && Number.isFinite(value) ? meets(value, goal) : null;
  return { id, label, value, unit, goal: goal ?? null, pass, note: note ?? null };
}

export function meets(value: number, goal: Goal): boolean {
  return goal.op === "<=" ? value <= goal.target : value >= goal.target;
}

export function environment(): BenchResult["environment"] {
  const cpus = os.cpus();
  return {
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? "unknown",
    memoryMiB: Math.round(os.totalmem() / 2 ** 20),
  };
}

export function resultPath(bench: string): string {
  return process.env["BENCH_OUT"] ?? path.join("bench", "results", `${bench}.json`);
}

export function writeResult(result: BenchResult): string {
  const file = resultPath(result.bench);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  return file;
}

export function formatNumber(value: number | null, digits = 0): string {
  if (value === null || !Number.isFinite(value)) return "—";
  return value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function formatGoal(goal: Goal | null, unit: string): string {
  return goal
    ? `${goal.op === "<=" ? "≤" : "≥"} ${formatNumber(goal.target, goal.target % 1 ? 2 : 0)} ${unit}`
    : "";
}

export function verdict(f: Figure): string {
  if (!f.goal) return "";
  if (f.pass === null) return "not measured";
  return f.pass ? "ok" : "MISSED";
}

/** Plain-text table; numbers right-aligned. */
export function table(headers: string[], rows: (string | number)[][]): string {
  const cells = rows.map((r) => r.map((c) => (typeof c === "number" ? formatNumber(c) : c)));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? "").length)));
  const numeric = headers.map((_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === "number"));
  const line = (r: string[]) =>
    r
      .map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [line(headers), widths.map((w) => "-".repeat(w)).join("  "), ...cells.map(line)].join("\n");
}

export function figuresTable(figures: Figure[]): string {
  return table(
    ["figure", "value", "goal", "verdict"],
    figures.map((f) => [
      f.label,
      `${formatNumber(f.value, f.value !== null && Math.abs(f.value) < 10 && f.value % 1 ? 2 : 0)} ${f.unit}`,
      formatGoal(f.goal, f.unit),
      f.note && f.pass === null ? `not measured: ${f.note}` : verdict(f),
    ]),
  );
}
