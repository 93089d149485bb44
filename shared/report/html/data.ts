/**
 * Builds report.html's data (WireData, as stored in the page) from a run folder: the report (any
 * schema version this page knows, optional fields tolerated), the limits and device order from
 * run.json, and the history in timeline.jsonl. Without a timeline (older runs) each device's spans
 * are reconstructed from its first submission, command times and end; so are the stretches a timeline
 * lost to a crash (./device-row.ts). Nothing secret goes in: only report.json's content (itself checked
 * by the secret harness), run.json's numeric options, the timeline and the folder's file names.
 */
import path from "node:path";
import { TIMELINE_FILE } from "../../run/timeline.js";
import type { CommandReport, ReportError } from "../types.js";
import { deviceRow, ms } from "./device-row.js";
import { costInPage, jsonForScript, jsonForScriptChunks } from "./escape.js";
import {
  derivedTextFile,
  PAGE_DATA_VERSION,
  type PageStep,
  type PageTimeline,
  type WireCommand,
  type WireData,
  type WireDevice,
} from "./page-data.js";
import {
  listFiles,
  type PlanLike,
  type PlanView,
  planView,
  REPORT_HTML_FILE,
  readPlan,
} from "./run-folder.js";
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
/** The page's data without its devices is measured a member at a time (see pageBytes). */
const HEAD_DEPTH = 1;
const EXCERPT_MAX = 4096;
/** The service starts every script output with this line (mde-api.md §4.6); it says nothing. */
const TRANSCRIPT_HEADER = /^Transcript started, output file is [^\n]*\n/;

/** Bytes `value` takes in the page as jsonForScript writes it (piece by piece: never the whole text). */
function pageBytes(value: unknown): number {
  let bytes = 0;
  for (const piece of jsonForScriptChunks(value, HEAD_DEPTH)) bytes += Buffer.byteLength(piece);
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

function relArray(values: number[], stride: number, offsets: number[], t0: number): number[] {
  return values.map((v, i) => (offsets.includes(i % stride) ? v - t0 : v));
}

/**
 * Said on a device whose row is partly drawn from report.json although the run recorded a timeline:
 * the page draws those spans like recorded ones, so a person must be able to tell.
 */
function lostNote(folded: FoldedTimeline | null, lost: [number, number][]): string[] {
  if (!folded || lost.length === 0) return [];
  const when = lost.map(([a, b]) => `${new Date(a).toISOString()} to ${new Date(b).toISOString()}`);
  return [
    `timeline.jsonl lost this device's history from ${when.join(" and from ")} (a process was stopped ` +
      "before it wrote it): that part of its timeline row is drawn from report.json's submission, " +
      "command and end times",
  ];
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

/** What every device's data is built from: the plan's order, the folded timeline and the page's clock. */
interface PageContext {
  plan: PlanView;
  folded: FoldedTimeline | null;
  t0: number;
  end: number;
}

/** A command's excerpts, set aside until the page's size without them is known. */
interface PendingExcerpts {
  into: WireCommand;
  stdout: string | null;
  stderr: string | null;
  more: [boolean, boolean];
}

function pageContext(outDir: string, report: ReportLike, now: number, given?: PlanLike): PageContext {
  const plan = given ? planView(given) : readPlan(outDir);
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
  return { plan, folded, t0, end };
}

/** One device as the page stores it, without its excerpts (returned aside). Builds the same each time. */
function deviceData(ctx: PageContext, m: MachineLike): { device: WireDevice; excerpts: PendingExcerpts[] } {
  const { plan, folded, t0, end } = ctx;
  const rel = (t: number | null) => (t === null ? null : t - t0);
  const excerpts: PendingExcerpts[] = [];
  const folder = m.folder ?? null;
  const idx = m.machineId ? plan.index.get(m.machineId.toLowerCase()) : undefined;
  const f = idx !== undefined ? folded?.devices[idx] : undefined;
  const raw = deviceRow(f, m, end);
  const actionOf = idx !== undefined ? plan.actionOf(idx) : undefined;
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
      excerpts.push({
        into: w,
        stdout: excerptText(c.stdout),
        stderr: excerptText(c.stderr),
        more: [c.stdoutTruncated === true, c.stderrTruncated === true],
      });
      return w;
    }),
  };
  if (m.error) d.error = m.error;
  const warnings = [...(Array.isArray(m.warnings) ? m.warnings : []), ...lostNote(folded, raw.lost)];
  if (warnings.length) d.warnings = warnings;
  if (m.target) d.target = m.target;
  return { device: d, excerpts };
}

function addExcerpts(excerpts: PendingExcerpts[], each: number): void {
  for (const p of excerpts) {
    const out = cutExcerpt(p.stdout, each);
    const err = cutExcerpt(p.stderr, each);
    if (out.text) p.into.stdout = out.text;
    if (err.text) p.into.stderr = err.text;
    if (out.cut || p.more[0]) p.into.stdoutMore = true;
    if (err.cut || p.more[1]) p.into.stderrMore = true;
  }
}

/**
 * The page's data as its parts: everything but the devices, and the devices one at a time. At 5,000
 * devices the whole WireData, on top of the report it is made from, was the end of a run's RSS peak;
 * written from this model, only one device's data is alive at a time. Each device is built twice:
 * once to measure the page without excerpts (what the excerpts may then take), once to write it.
 */
export interface PageModel {
  head: Omit<WireData, "devices">;
  devices(): Generator<WireDevice>;
}

/** `plan`: the run's plan when the caller has it in memory (else run.json and plan.jsonl are read). */
export function pageModel(outDir: string, report: ReportLike, now = Date.now(), plan?: PlanLike): PageModel {
  const ctx = pageContext(outDir, report, now, plan);
  const steps = new Map<number, PageStep>();
  for (const m of report.machines) {
    for (const c of m.commands) {
      if (!steps.has(c.step))
        steps.set(c.step, { step: c.step, type: c.type, name: c.scriptName ?? c.path ?? null });
    }
  }

  const head: Omit<WireData, "devices"> = {
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
    limits: ctx.plan.limits,
    files: listFiles(outDir),
    timeline: timelineData(ctx.folded, ctx.t0, ctx.end),
    excerptChars: 0,
  };
  // `,"devices":[]` and a comma between devices.
  let bytes = pageBytes(head) + 14 + Math.max(0, report.machines.length - 1);
  let streams = 0;
  for (const m of report.machines) {
    const { device, excerpts } = deviceData(ctx, m);
    bytes += Buffer.byteLength(jsonForScript(device));
    for (const p of excerpts) streams += (p.stdout ? 1 : 0) + (p.stderr ? 1 : 0);
  }
  // Each excerpt also costs its key and quotes (~14 bytes).
  const left = DATA_TARGET_BYTES - bytes - streams * 14;
  const each = streams ? Math.max(0, Math.min(EXCERPT_MAX, Math.floor(left / streams))) : EXCERPT_MAX;
  head.excerptChars = each;
  return {
    head,
    *devices() {
      for (const m of report.machines) {
        const { device, excerpts } = deviceData(ctx, m);
        addExcerpts(excerpts, each);
        yield device;
      }
    },
  };
}

/** The page's data as one value (tests, and readers that want it whole). */
export function buildPageData(outDir: string, report: ReportLike, now = Date.now()): WireData {
  const model = pageModel(outDir, report, now);
  return { ...model.head, devices: [...model.devices()] };
}

/**
 * The page's data as jsonForScript would write `buildPageData`'s value (with `devices` last), a device
 * at a time.
 */
export function* pageDataChunks(model: PageModel): Generator<string> {
  // The head a member at a time (its timeline's call counts alone can be megabytes), without its "}".
  let held: string | null = null;
  for (const piece of jsonForScriptChunks(model.head, HEAD_DEPTH)) {
    if (held !== null) yield held;
    held = piece;
  }
  yield ',"devices":[';
  let first = true;
  for (const device of model.devices()) {
    if (!first) yield ",";
    first = false;
    yield jsonForScript(device);
  }
  yield "]}";
}
