/**
 * The data report.html carries, shared by the writer (Node, ./data.ts) and the page's script (browser,
 * ./page/). No Node or DOM types here. The file holds `WireData` (JSON inside `<script
 * type="application/json" id="report-data">`): compact, because 5,000 devices must fit in 10 MB with
 * room for output excerpts — empty fields are left out, each step's type and name are given once, and
 * the stdout/stderr file names that follow from the transcript's are not repeated. The page expands it
 * into `PageData` (`expandWire`) and works on that. Times are milliseconds after `timeline.t0` (an
 * epoch ms on the run's service clock); null when unknown. Device text (names, paths, script output,
 * error messages) is carried as-is and only ever rendered as text by the page.
 */

export const PAGE_DATA_VERSION = 1;

/** What a device was doing during a span, in drawing order (index = the span's code). */
export const SPAN_KINDS = [
  "waiting", // queued for its turn: submit quota, session cap, a 429, the call budget
  "canary", // held until the canary devices finished
  "busy", // another live response session holds the device
  "submitting", // the submission is on its way (intent journaled)
  "pending", // accepted, Pending on the device (offline devices stay here)
  "running", // InProgress on the device
  "collecting", // final; results being downloaded
] as const;
export type SpanKind = (typeof SPAN_KINDS)[number];

/** A machine action's outcome (index = the code in PageDevice.actions); "" = not final when last seen. */
export const ACTION_OUTCOMES = ["", "Succeeded", "Failed", "Cancelled", "TimeOut"] as const;

export interface PageError {
  code: string;
  message: string;
}

export interface PageLimits {
  submitPerMinute: number;
  maxConcurrentSessions: number;
  callsPerMinute: number;
  callsPerHour: number;
  canary: number;
  timeoutMs: number;
  pollIntervalMs: number;
}

export interface PageRun {
  schemaVersion: number;
  runId: string;
  runbook: string;
  status: string;
  counts: Record<string, number>;
  startedAt: string;
  finishedAt: string | null;
  comment: string | null;
  apiCalls: Record<string, number>;
  warnings: string[];
  unresolved: { selector: string; value: string; error: PageError | null }[];
  /** Run-level error (report schema 2), when present. */
  error: PageError | null;
  /** Chain of custody (who ran it, what, when), rendered as given; null when the report has none. */
  custody: unknown;
}

export interface PageTimeline {
  /** false: no timeline.jsonl (an older run); spans are reconstructed from report.json's times. */
  recorded: boolean;
  t0: number;
  /** End of what is known (the run's end, or the last line recorded). */
  end: number;
  /** Processes that worked on the run: start time and kind (run, resume, cancel). */
  processes: [t: number, kind: string][];
  /** Run-level waits: start, reason (rateLimit, sessionCap, deviceBusy, quota), until. */
  waits: [t: number, reason: string, until: number][];
  /** API calls per second: `t` the seconds' starts (ascending), per kind the count in each. */
  calls: { t: number[]; kinds: Record<string, number[]> } | null;
}

export interface PageCommand {
  step: number;
  /** 1-based action of the device that carried the step (as in PageDevice.actions), null if unknown. */
  action: number | null;
  type: string;
  status: string;
  exitCode: number | null;
  startedAt: number | null;
  finishedAt: number | null;
  /** Script name (RunScript, PutFile) or device path (GetFile). */
  name: string | null;
  /** Excerpts, cut at PageData.excerptChars; `more` when the full text is longer. */
  stdout: string | null;
  stderr: string | null;
  stdoutMore: boolean;
  stderrMore: boolean;
  /**
   * Files, relative to the device's folder when the value has no `/` (the usual case, it keeps the page
   * small), else relative to the run folder.
   */
  file: string | null;
  bytes: number | null;
  sha256: string | null;
  stdoutFile: string | null;
  stderrFile: string | null;
  errors: string[];
}

export interface PageDevice {
  machineId: string | null;
  computerDnsName: string | null;
  status: string;
  error: PageError | null;
  folder: string | null;
  warnings: string[];
  /** The runbook target that named it (report schema 2; unresolved targets have no machine). */
  target: { selector: string; value: string } | null;
  actionIds: string[];
  startedAt: number | null;
  finishedAt: number | null;
  /** Flat triples: span kind (SPAN_KINDS index), start, end. */
  spans: number[];
  /** Flat quadruples: start, end, outcome (ACTION_OUTCOMES index), action number (1-based). */
  actions: number[];
  commands: PageCommand[];
}

export interface PageStep {
  step: number;
  type: string;
  /** Script name (RunScript, PutFile) or device path (GetFile). */
  name: string | null;
}

export interface PageData {
  v: typeof PAGE_DATA_VERSION;
  steps: PageStep[];
  generatedAt: string;
  run: PageRun;
  limits: PageLimits | null;
  /** The run folder's other files (report.json, summary.md, ...), for the header's links. */
  files: { name: string; bytes: number }[];
  timeline: PageTimeline;
  devices: PageDevice[];
  /** Characters each stdout/stderr excerpt was cut at here (report.json keeps REPORT_EXCERPT_BYTES). */
  excerptChars: number;
}

// ---------------------------------------------------------------------------------------------------
// On the wire (in the file)

/** A command as stored: absent = null / false / empty; `type` and `name` come from `steps`. */
export interface WireCommand {
  step: number;
  action?: number;
  status: string;
  exitCode?: number;
  startedAt?: number;
  finishedAt?: number;
  stdout?: string;
  stderr?: string;
  stdoutMore?: true;
  stderrMore?: true;
  file?: string;
  bytes?: number;
  sha256?: string;
  /**
   * Absent: follows from `file` (`<base>.transcript.json` → `<base>.stdout.txt` / `<base>.stderr.txt`, as
   * shared/results/paths.ts names them); "" when there is none; else the name itself.
   */
  stdoutFile?: string;
  stderrFile?: string;
  errors?: string[];
}

export interface WireDevice extends Omit<PageDevice, "error" | "warnings" | "target" | "commands"> {
  error?: PageError;
  warnings?: string[];
  target?: { selector: string; value: string };
  commands: WireCommand[];
}

export interface WireData extends Omit<PageData, "devices"> {
  devices: WireDevice[];
}

const TRANSCRIPT = ".transcript.json";

/** The stdout/stderr file a WireCommand leaves out because it follows from the transcript's name. */
export function derivedTextFile(file: string | null | undefined, stream: "stdout" | "stderr"): string | null {
  return file?.endsWith(TRANSCRIPT) ? `${file.slice(0, -TRANSCRIPT.length)}.${stream}.txt` : null;
}

export function expandWire(wire: WireData): PageData {
  const steps = new Map(wire.steps.map((s) => [s.step, s]));
  const textFile = (given: string | undefined, file: string | undefined, stream: "stdout" | "stderr") =>
    given === undefined ? derivedTextFile(file, stream) : given || null;
  return {
    ...wire,
    devices: wire.devices.map((d) => ({
      ...d,
      error: d.error ?? null,
      warnings: d.warnings ?? [],
      target: d.target ?? null,
      commands: d.commands.map((c) => ({
        step: c.step,
        action: c.action ?? null,
        type: steps.get(c.step)?.type ?? "",
        name: steps.get(c.step)?.name ?? null,
        status: c.status,
        exitCode: c.exitCode ?? null,
        startedAt: c.startedAt ?? null,
        finishedAt: c.finishedAt ?? null,
        stdout: c.stdout ?? null,
        stderr: c.stderr ?? null,
        stdoutMore: c.stdoutMore === true,
        stderrMore: c.stderrMore === true,
        file: c.file ?? null,
        bytes: c.bytes ?? null,
        sha256: c.sha256 ?? null,
        stdoutFile: textFile(c.stdoutFile, c.file, "stdout"),
        stderrFile: textFile(c.stderrFile, c.file, "stderr"),
        errors: c.errors ?? [],
      })),
    })),
  };
}
