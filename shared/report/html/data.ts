/**
 * Builds report.html's data (WireData, as stored in the page) from a run folder: the report (any
 * schema version this page knows, optional fields tolerated), the limits and device order from
 * run.json, and the history in timeline.jsonl. Without a timeline (older runs) each device's spans are reconstructed from its
 * first submission, command times and end. Nothing secret goes in: only report.json's content (itself
 * checked by the secret harness), run.json's numeric options, the timeline and the folder's file names.
 */
import path from "node:path";
import { TIMELINE_FILE } from "../../run/timeline.js";
import type { CommandReport, ReportError } from "../types.js";
import { costInPage, jsonForScriptChunks } from "./escape.js";
import {
  ACTION_OUTCOMES,
  derivedTextFile,
  PAGE_DATA_VERSION,
  type PageStep,
  type PageTimeline,
  SPAN_KINDS,
  type WireCommand,
  type WireData,
  type WireDevice,
} from "./page-data.js";
import { listFiles, REPORT_HTML_FILE, readPlan } from "./run-folder.js";
import { closeOpen, type FoldedTimeline, foldTimeline } from "./timeline-fold.js";

export { REPORT_HTML_FILE };

/** report.json as this page reads it: schema 1, and schema 2's additions when present. */
export interface ReportLike {
  schemaVersion: number;
  runId: string;
  runbook: string;
  startedAt: string;
  finishedAt: string | null;
  status: string;
  counts: Record<string, number>;
  machines: MachineLike[];
  comment?: string | null;
  apiCalls?: Record<string, number>;
  unresolved?: { selector: string; value: string; error?: ReportError | null }[];
  warnings?: string[];
  error?: ReportError | null;
  custody?: unknown;
}

export interface MachineLike {
  machineId: string | null;
  computerDnsName: string | null;
  actionIds?: string[];
  status: string;
  error: ReportError | null;
  startedAt: string | null;
  finishedAt: string | null;
  commands: CommandReport[];
  folder?: string | null;
  warnings?: string[];
  target?: { selector: string; value: string } | null;
}

/**
 * The page's data may take this many bytes; output excerpts get what the rest leaves (split evenly over
 * every stdout and stderr, at most EXCERPT_MAX each), so 5,000 devices stay below 10 MB and a small run
 * shows whole outputs. The full text is one link away.
 */
const DATA_TARGET_BYTES = 9_000_000;
/** The page's data is written and measured a device at a time (`data.devices[i]` is at depth 2). */
export const PAGE_DATA_DEPTH = 2;
const EXCERPT_MAX = 4096;
/** The service starts every script output with this line (mde-api.md §4.6); it says nothing. */
const TRANSCRIPT_HEADER = /^Transcript started, output file is [^\n]*\n/;

/** Bytes `value` takes in the page as jsonForScript writes it (piece by piece: never the whole text). */
function pageBytes(value: unknown): number {
  let bytes = 0;
  for (const piece of jsonForScriptChunks(value, PAGE_DATA_DEPTH)) bytes += Buffer.byteLength(piece);
  return bytes;
}

/** Cut `text` so that, as written into the page, it costs at most `budget` bytes. */
export function cutExcerpt(text: string | null, budget: number): { text: string | null; cut: boolean } {
  if (text === null) return { text: null, cut: false };
  let cost = 0;
  for (let i = 0; i < text.length; i++) {
    cost += costInPage(text.charCodeAt(i));
    if (cost > budget) {
      // Never leave half of a surrogate pair.
      const end = i > 0 && (text.charCodeAt(i - 1) & 0xfc00) === 0xd800 ? i - 1 : i;
      return { text: text.slice(0, end), cut: true };
    }
  }
  return { text, cut: false };
}

function ms(iso: string | null | undefined): number | null {
  if (!iso) return null;
  const t = Date.parse(iso);
  return Number.isFinite(t) ? t : null;
}

/** A file path relative to the device folder when it is inside it (no `/` left), else as given. */
function inFolder(file: string | null | undefined, folder: string | null): string | null {
  if (!file) return null;
  if (folder && file.startsWith(`${folder}/`) && !file.slice(folder.length + 1).includes("/")) {
    return file.slice(folder.length + 1);
  }
  return file;
}

/** A text file's name as the wire stores it (see WireCommand.stdoutFile). */
function wireTextFile(
  given: string | null,
  file: string | null,
  stream: "stdout" | "stderr",
): string | undefined {
  if (given === derivedTextFile(file, stream)) return undefined;
  return given ?? "";
}

/** The command without its excerpts (they are cut once the page's size without them is known). */
function commandData(
  c: CommandReport,
  folder: string | null,
  rel: (t: number | null) => number | null,
  action: number | undefined,
): WireCommand {
  const file = inFolder(c.file, folder);
  const stdoutFile = wireTextFile(inFolder(c.stdoutFile, folder), file, "stdout");
  const stderrFile = wireTextFile(inFolder(c.stderrFile, folder), file, "stderr");
  const w: WireCommand = { step: c.step, status: c.status };
  if (action !== undefined) w.action = action;
  if (c.exitCode !== null && c.exitCode !== undefined) w.exitCode = c.exitCode;
  const t0 = rel(ms(c.startedAt));
  const t1 = rel(ms(c.finishedAt));
  if (t0 !== null) w.startedAt = t0;
  if (t1 !== null) w.finishedAt = t1;
  if (file) w.file = file;
  if (c.bytes !== null && c.bytes !== undefined) w.bytes = c.bytes;
  if (c.sha256) w.sha256 = c.sha256;
  if (stdoutFile !== undefined) w.stdoutFile = stdoutFile;
  if (stderrFile !== undefined) w.stderrFile = stderrFile;
  if (Array.isArray(c.errors) && c.errors.length) w.errors = c.errors;
  return w;
}

/** Excerpt text worth showing: the report's, without the service's transcript header line. */
function excerptText(text: string | null | undefined): string | null {
  if (!text) return null;
  return text.replace(TRANSCRIPT_HEADER, "") || null;
}

const K = Object.fromEntries(SPAN_KINDS.map((k, i) => [k, i])) as Record<(typeof SPAN_KINDS)[number], number>;

/** Spans and actions of a device with no timeline lines: from report.json's times alone. */
function reconstruct(m: MachineLike, end: number): { spans: number[]; actions: number[] } {
  const spans: number[] = [];
  const actions: number[] = [];
  const start = ms(m.startedAt);
  if (start === null) return { spans, actions };
  const finish = ms(m.finishedAt) ?? end;
  const starts = m.commands.map((c) => ms(c.startedAt)).filter((t): t is number => t !== null);
  const ends = m.commands.map((c) => ms(c.finishedAt)).filter((t): t is number => t !== null);
  const clamp = (t: number) => Math.min(finish, Math.max(start, t));
  if (starts.length === 0) spans.push(K.pending, start, finish);
  else {
    const first = clamp(Math.min(...starts));
    const last = ends.length ? clamp(Math.max(...ends)) : finish;
    if (first > start) spans.push(K.pending, start, first);
    spans.push(K.running, first, Math.max(first, last));
    if (finish > last) spans.push(K.collecting, last, finish);
  }
  const ids = m.actionIds?.length ? m.actionIds : [...new Set(m.commands.map((c) => c.actionId))];
  ids.forEach((id, n) => {
    const mine = m.commands.filter((c) => c.actionId === id);
    if (mine.length === 0) return;
    const a0 = mine.map((c) => ms(c.startedAt)).filter((t): t is number => t !== null);
    const a1 = mine.map((c) => ms(c.finishedAt)).filter((t): t is number => t !== null);
    const s = a0.length ? clamp(Math.min(...a0)) : start;
    const e = a1.length ? clamp(Math.max(...a1)) : finish;
    const outcome = mine.every((c) => c.status === "succeeded")
      ? "Succeeded"
      : mine.some((c) => c.status === "failed")
        ? "Failed"
        : mine.some((c) => c.status === "cancelled")
          ? "Cancelled"
          : "";
    actions.push(s, Math.max(s, e), ACTION_OUTCOMES.indexOf(outcome), n + 1);
  });
  return { spans, actions };
}

function relArray(values: number[], stride: number, offsets: number[], t0: number): number[] {
  return values.map((v, i) => (offsets.includes(i % stride) ? v - t0 : v));
}

function timelineData(folded: FoldedTimeline | null, t0: number, end: number): PageTimeline {
  if (!folded) return { recorded: false, t0, end: end - t0, processes: [], waits: [], calls: null };
  const seconds = [...folded.calls.keys()].sort((a, b) => a - b);
  const kinds: Record<string, number[]> = {};
  for (const b of folded.calls.values()) for (const k of Object.keys(b)) kinds[k] ??= [];
  for (const s of seconds) {
    const b = folded.calls.get(s)!;
    for (const k of Object.keys(kinds)) kinds[k]!.push(b[k] ?? 0);
  }
  return {
    recorded: true,
    t0,
    end: end - t0,
    processes: folded.processes.map(([t, kind]) => [t - t0, kind]),
    waits: folded.waits.map(([t, reason, until]) => [t - t0, reason, until - t0]),
    calls: { t: seconds.map((s) => s - t0), kinds },
  };
}

export function buildPageData(outDir: string, report: ReportLike, now = Date.now()): WireData {
  const plan = readPlan(outDir);
  const folded = foldTimeline(path.join(outDir, TIMELINE_FILE), plan.index.size);
  const started = ms(report.startedAt) ?? now;
  const t0 = Math.min(started, folded && Number.isFinite(folded.first) ? folded.first : started);
  let end = Math.max(ms(report.finishedAt) ?? t0, folded && Number.isFinite(folded.last) ? folded.last : t0);
  for (const m of report.machines) end = Math.max(end, ms(m.finishedAt) ?? end);
  if (folded) {
    const finished = new Map(
      report.machines.map((m) => [m.machineId?.toLowerCase() ?? "", ms(m.finishedAt)]),
    );
    const ids = [...plan.index.keys()];
    closeOpen(folded, end, (i) => finished.get(ids[i] ?? "") ?? null);
  }
  const rel = (t: number | null) => (t === null ? null : t - t0);

  // Excerpts are set aside and cut to fit once the size of everything else is known.
  const pending: {
    into: WireCommand;
    stdout: string | null;
    stderr: string | null;
    more: [boolean, boolean];
  }[] = [];
  const devices: WireDevice[] = report.machines.map((m) => {
    const folder = m.folder ?? null;
    const idx = m.machineId ? plan.index.get(m.machineId.toLowerCase()) : undefined;
    const f = idx !== undefined ? folded?.devices[idx] : undefined;
    const raw = f ?? reconstruct(m, end);
    const actionOf = idx !== undefined ? plan.actionOfStep[idx] : undefined;
    const d: WireDevice = {
      machineId: m.machineId ?? null,
      computerDnsName: m.computerDnsName ?? null,
      status: m.status,
      folder,
      actionIds: m.actionIds ?? [],
      startedAt: rel(ms(m.startedAt)),
      finishedAt: rel(ms(m.finishedAt)),
      spans: relArray(raw.spans, 3, [1, 2], t0),
      actions: relArray(raw.actions, 4, [0, 1], t0),
      commands: m.commands.map((c) => {
        const w = commandData(c, folder, rel, actionOf?.get(c.step));
        pending.push({
          into: w,
          stdout: excerptText(c.stdout),
          stderr: excerptText(c.stderr),
          more: [c.stdoutTruncated === true, c.stderrTruncated === true],
        });
        return w;
      }),
    };
    if (m.error) d.error = m.error;
    if (Array.isArray(m.warnings) && m.warnings.length) d.warnings = m.warnings;
    if (m.target) d.target = m.target;
    return d;
  });
  const steps = new Map<number, PageStep>();
  for (const m of report.machines) {
    for (const c of m.commands) {
      if (!steps.has(c.step))
        steps.set(c.step, { step: c.step, type: c.type, name: c.scriptName ?? c.path ?? null });
    }
  }

  const data: WireData = {
    v: PAGE_DATA_VERSION,
    steps: [...steps.values()].sort((a, b) => a.step - b.step),
    generatedAt: new Date(now).toISOString(),
    run: {
      schemaVersion: report.schemaVersion,
      runId: report.runId,
      runbook: report.runbook,
      status: report.status,
      counts: report.counts,
      startedAt: report.startedAt,
      finishedAt: report.finishedAt,
      comment: report.comment ?? null,
      apiCalls: report.apiCalls ?? {},
      warnings: report.warnings ?? [],
      unresolved: (report.unresolved ?? []).map((u) => ({
        selector: u.selector,
        value: u.value,
        error: u.error ?? null,
      })),
      error: report.error ?? null,
      custody: report.custody ?? null,
    },
    limits: plan.limits,
    files: listFiles(outDir),
    timeline: timelineData(folded, t0, end),
    devices,
    excerptChars: 0,
  };
  const streams = pending.reduce((n, p) => n + (p.stdout ? 1 : 0) + (p.stderr ? 1 : 0), 0);
  // Each excerpt also costs its key and quotes (~14 bytes).
  const left = DATA_TARGET_BYTES - pageBytes(data) - streams * 14;
  const each = streams ? Math.max(0, Math.min(EXCERPT_MAX, Math.floor(left / streams))) : EXCERPT_MAX;
  data.excerptChars = each;
  for (const p of pending) {
    const out = cutExcerpt(p.stdout, each);
    const err = cutExcerpt(p.stderr, each);
    if (out.text) p.into.stdout = out.text;
    if (err.text) p.into.stderr = err.text;
    if (out.cut || p.more[0]) p.into.stdoutMore = true;
    if (err.cut || p.more[1]) p.into.stderrMore = true;
  }
  return data;
}
