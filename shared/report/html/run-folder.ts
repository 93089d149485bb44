/**
 * What report.html takes from a run folder besides the report: the limits and device order from
 * the plan (run.json + plan.jsonl; its numeric options only: the steps' arguments stay out of the page) and the list of the
 * folder's other files for the header's links.
 */
import fs from "node:fs";
import path from "node:path";
import { TIMELINE_FILE } from "../../run/timeline.js";
import { loadPlan, PLAN_BATCHES_FILE, PLAN_FILE } from "../../state/journal.js";
import type { PageLimits } from "./page-data.js";

export const REPORT_HTML_FILE = "report.html";

/** Files of the run folder listed first in the header, in this order; any other file follows. */
const KNOWN_FILES = [
  "report.json",
  "summary.md",
  "manifest.sha256",
  TIMELINE_FILE,
  PLAN_FILE,
  PLAN_BATCHES_FILE,
  "journal.jsonl",
  "journal.snapshot.json",
];

export interface PlanView {
  limits: PageLimits | null;
  index: Map<string, number>;
  /** Of a planned device: the 1-based action that carries each step (made on demand, one device at a time). */
  actionOf(device: number): Map<number, number> | undefined;
}

/** What the page reads of a plan: run.json's options and each device's id and actions. */
export interface PlanLike {
  options?: object;
  devices?: { machineId?: string; actions?: { steps?: number[] }[] }[];
}

/** The plan of the run folder (run.json + plan.jsonl), or an empty view when it cannot be read. */
export function readPlan(outDir: string): PlanView {
  let plan: PlanLike;
  try {
    // run.json and the batches of plan.jsonl: device indexes are positions in the merged list.
    plan = loadPlan(outDir) as unknown as PlanLike;
  } catch {
    return { limits: null, index: new Map(), actionOf: () => undefined };
  }
  return planView(plan);
}

/**
 * The page's view of a plan. A run that has its plan in memory passes it here: reading run.json again
 * at the end of a 5,000-device run held a second copy of every planned command (+11 MiB at the peak).
 */
export function planView(plan: PlanLike): PlanView {
  const o = (plan.options ?? {}) as Record<string, unknown>;
  const num = (k: string) => (typeof o[k] === "number" ? (o[k] as number) : null);
  const keys = [
    "submitPerMinute",
    "maxConcurrentSessions",
    "callsPerMinute",
    "callsPerHour",
    "canary",
    "timeoutMs",
    "pollIntervalMs",
  ] as const;
  const limits = keys.every((k) => num(k) !== null)
    ? (Object.fromEntries(keys.map((k) => [k, num(k)])) as unknown as PageLimits)
    : null;
  const devices = Array.isArray(plan.devices) ? plan.devices : [];
  return {
    limits,
    index: new Map(devices.map((d, i) => [String(d.machineId ?? "").toLowerCase(), i])),
    actionOf(device) {
      const d = devices[device];
      if (!d) return undefined;
      return new Map((d.actions ?? []).flatMap((a, n) => (a.steps ?? []).map((s) => [s, n + 1] as const)));
    },
  };
}

export function listFiles(outDir: string): { name: string; bytes: number }[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(outDir, { withFileTypes: true });
  } catch {
    return [];
  }
  const files = entries
    // Atomic writes leave `<name>.<pid>.<hex>.tmp` only for an instant (or after a crash): not a file of the run.
    .filter(
      (e) => e.isFile() && e.name !== REPORT_HTML_FILE && !e.name.startsWith(".") && !e.name.endsWith(".tmp"),
    )
    .map((e) => ({ name: e.name, bytes: safeSize(path.join(outDir, e.name)) }));
  const rank = (n: string) => {
    const i = KNOWN_FILES.indexOf(n);
    return i < 0 ? KNOWN_FILES.length : i;
  };
  return files.sort((a, b) => rank(a.name) - rank(b.name) || a.name.localeCompare(b.name));
}

function safeSize(file: string): number {
  try {
    return fs.lstatSync(file).size;
  } catch {
    return 0;
  }
}
