/**
 * Schema-valid YAML value → the normalised `Runbook` (defaults applied, durations in ms, library
 * paths absolute), plus the checks a JSON Schema cannot express (reserved names, cross-field limits).
 */
import { basename, resolve } from "node:path";
import type { ValidationIssue } from "../errors.js";
import { parseDurationMs } from "./duration.js";
import { formatFieldPath, type PathSegment } from "./field-path.js";
import { libraryNameProblem } from "./names.js";
import type { Locator } from "./schema-issues.js";
import type { LibraryEntry, Limits, Runbook, RunbookOptions, StatedOption, Step } from "./types.js";

/**
 * Defaults. The session cap is the older, lower documented value (25) so a tenant on the old cap is
 * never over-driven; raise `maxConcurrentSessions` to 50 where the current documentation applies.
 * Defaults that depend on other options adapt to what was stated (adaptDefaults), so a default can
 * never turn a valid stated value into an error.
 */
export const DEFAULT_OPTIONS: RunbookOptions = {
  timeoutMs: 30 * 60_000,
  pollIntervalMs: 10_000,
  onActiveSession: "wait",
  maxConcurrentSessions: 25,
  maxDevices: 50,
  canary: 0,
  onIneligible: "skip",
  onUnresolved: "fail",
  limits: {},
  stated: [],
};

/** Options a runbook (or a front end for it) stated; everything else is a default that may adapt. */
export interface StatedOptions {
  timeoutMs?: number;
  pollIntervalMs?: number;
  maxDevices?: number;
  canary?: number;
}

const STATED_NAMES: Record<keyof StatedOptions, StatedOption> = {
  timeoutMs: "timeout",
  pollIntervalMs: "pollInterval",
  maxDevices: "maxDevices",
  canary: "canary",
};

/**
 * The poll interval when none is stated: the usual 10 s, but a quarter of a short timeout so a few
 * polls happen before the deadline (a 5 s timeout polls every 1.25 s).
 */
export function defaultPollIntervalMs(timeoutMs: number): number {
  const interval = Math.min(DEFAULT_OPTIONS.pollIntervalMs, Math.max(1_000, Math.floor(timeoutMs / 4)));
  return interval < timeoutMs ? interval : Math.max(1, Math.floor(timeoutMs / 4));
}

/**
 * Defaults that follow what was stated: the timeout leaves room for a few polls of a stated interval, the
 * poll interval fits a stated timeout, and the blast-radius cap (`maxDevices`) never refuses the devices a
 * runbook lists one by one (ids, names) nor a stated canary. Tags and filters stay capped: they can
 * match far more devices than anyone meant.
 */
export function adaptDefaults(options: RunbookOptions, stated: StatedOptions, listedTargets: number): void {
  options.stated = (Object.keys(STATED_NAMES) as (keyof StatedOptions)[])
    .filter((k) => stated[k] !== undefined)
    .map((k) => STATED_NAMES[k]);
  if (stated.timeoutMs === undefined && stated.pollIntervalMs !== undefined)
    options.timeoutMs = Math.min(
      MAX_TIMEOUT_MS,
      Math.max(DEFAULT_OPTIONS.timeoutMs, stated.pollIntervalMs * 4),
    );
  if (stated.pollIntervalMs === undefined) options.pollIntervalMs = defaultPollIntervalMs(options.timeoutMs);
  if (stated.maxDevices === undefined)
    options.maxDevices = Math.max(DEFAULT_OPTIONS.maxDevices, listedTargets, stated.canary ?? 0);
}

/** Options for a runbook that states none (the action's `commands` input), for these listed targets. */
export function defaultOptionsFor(listedTargets: number): RunbookOptions {
  const options: RunbookOptions = { ...DEFAULT_OPTIONS, limits: {}, stated: [] };
  adaptDefaults(options, {}, listedTargets);
  return options;
}

/**
 * The runbook with a front end's machine ids instead of its targets (CLI `--machine`, the action's
 * `machine-ids`). The device cap adapts to the list unless the runbook stated `maxDevices`.
 */
export function overrideTargets(runbook: Runbook, machineIds: readonly string[]): Runbook {
  const ids = [...new Set(machineIds.map((id) => id.toLowerCase()))];
  const maxDevices = runbook.options.stated.includes("maxDevices")
    ? runbook.options.maxDevices
    : Math.max(runbook.options.maxDevices, ids.length);
  return {
    ...runbook,
    targets: { machineIds: ids, computerNames: [], tags: [], filter: null },
    options: { ...runbook.options, maxDevices },
  };
}

/** Longest per-device timeout: the older documented offline queue window (3 days, mde-api.md §8.1). */
export const MAX_TIMEOUT_MS = 3 * 24 * 3_600_000;

type RawStep = { putFile?: string; runScript?: string; args?: string; getFile?: string };
type RawLibrary = {
  path: string;
  description?: string;
  parametersDescription?: string;
  hasParameters?: boolean;
};
interface RawRunbook {
  name: string;
  comment?: string;
  targets: { machineIds?: string[]; computerNames?: string[]; tags?: string[]; filter?: string };
  commands: RawStep[];
  library?: RawLibrary[];
  options?: {
    timeout?: number | string;
    pollInterval?: number | string;
    onActiveSession?: "wait" | "fail";
    onIneligible?: "skip" | "fail";
    onUnresolved?: "fail" | "warn";
    maxConcurrentSessions?: number;
    maxDevices?: number;
    canary?: number;
    limits?: Partial<Limits>;
  };
}

export class IssueSink {
  readonly issues: ValidationIssue[] = [];
  constructor(
    private readonly root: string,
    private readonly locate?: Locator,
  ) {}
  add(segments: PathSegment[], message: string): void {
    const where = this.locate?.(segments) ?? null;
    this.issues.push({
      path: formatFieldPath(this.root, segments),
      message: where ? `${message} (${where})` : message,
    });
  }
}

/** Steps from their schema-valid form; adds issues for what the schema cannot see. */
export function normalizeSteps(raw: RawStep[], sink: IssueSink, base: PathSegment[]): Step[] {
  const steps: Step[] = [];
  raw.forEach((s, i) => {
    if (s.putFile !== undefined) {
      const problem = libraryNameProblem(s.putFile);
      if (problem) sink.add([...base, i, "putFile"], problem);
      steps.push({ type: "PutFile", fileName: s.putFile });
    } else if (s.runScript !== undefined) {
      const problem = libraryNameProblem(s.runScript);
      if (problem) sink.add([...base, i, "runScript"], problem);
      steps.push({ type: "RunScript", scriptName: s.runScript, args: s.args ?? null });
    } else if (s.getFile !== undefined) {
      // Device paths are kept exactly as written (backslashes included): they are the device's business.
      steps.push({ type: "GetFile", path: s.getFile });
    }
  });
  return steps;
}

export function makeSink(root: string, locate?: Locator): IssueSink {
  return new IssueSink(root, locate);
}

function uniqueBy<T>(values: T[], key: (v: T) => string): T[] {
  const seen = new Set<string>();
  return values.filter((v) => {
    const k = key(v);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

export function normalizeRunbook(
  value: unknown,
  baseDir: string,
  locate?: Locator,
): { runbook: Runbook; issues: ValidationIssue[] } {
  const raw = value as RawRunbook;
  const sink = makeSink("", locate);

  const t = raw.targets;
  const targets = {
    machineIds: uniqueBy(
      (t.machineIds ?? []).map((id) => id.toLowerCase()),
      (id) => id,
    ),
    computerNames: uniqueBy(
      (t.computerNames ?? []).map((n) => n.trim()),
      (n) => n.toLowerCase(),
    ),
    tags: uniqueBy(t.tags ?? [], (x) => x),
    filter: t.filter?.trim() || null,
  };
  if (
    targets.machineIds.length === 0 &&
    targets.computerNames.length === 0 &&
    targets.tags.length === 0 &&
    targets.filter === null
  ) {
    sink.add(["targets"], "needs at least one selector: machineIds, computerNames, tags or filter");
  }

  const commands = normalizeSteps(raw.commands, sink, ["commands"]);

  const library: LibraryEntry[] = [];
  const byName = new Map<string, number>();
  (raw.library ?? []).forEach((entry, i) => {
    const fileName = basename(entry.path.replace(/\\/g, "/"));
    const problem = libraryNameProblem(fileName);
    if (problem) sink.add(["library", i, "path"], `the file name becomes the library name: ${problem}`);
    const key = fileName.toLowerCase();
    const first = byName.get(key);
    if (first !== undefined) {
      sink.add(
        ["library", i, "path"],
        `"${fileName}" is already listed at library[${first}]; list each file once`,
      );
    } else {
      byName.set(key, i);
    }
    library.push({
      path: resolve(baseDir, entry.path),
      fileName,
      description: entry.description ?? null,
      parametersDescription: entry.parametersDescription ?? null,
      hasParameters: entry.hasParameters ?? entry.parametersDescription !== undefined,
    });
  });

  const o = raw.options ?? {};
  const options: RunbookOptions = { ...DEFAULT_OPTIONS, limits: { ...(o.limits ?? {}) } };
  const stated: StatedOptions = {};
  if (o.timeout !== undefined) {
    const ms = parseDurationMs(o.timeout);
    if (ms === null) sink.add(["options", "timeout"], "expected a duration such as 30s, 45m or 2h");
    else if (ms > MAX_TIMEOUT_MS)
      sink.add(
        ["options", "timeout"],
        "must be at most 3 days (72h), the longest the service queues an action",
      );
    else options.timeoutMs = stated.timeoutMs = ms;
  }
  if (o.pollInterval !== undefined) {
    const ms = parseDurationMs(o.pollInterval);
    if (ms === null) sink.add(["options", "pollInterval"], "expected a duration such as 10 or 15s");
    else if (ms < 1000)
      sink.add(["options", "pollInterval"], "must be at least 1 second; use 5 to 15 seconds");
    else options.pollIntervalMs = stated.pollIntervalMs = ms;
  }
  if (o.onActiveSession) options.onActiveSession = o.onActiveSession;
  if (o.onIneligible) options.onIneligible = o.onIneligible;
  if (o.onUnresolved) options.onUnresolved = o.onUnresolved;
  if (o.maxConcurrentSessions !== undefined) options.maxConcurrentSessions = o.maxConcurrentSessions;
  if (o.maxDevices !== undefined) options.maxDevices = stated.maxDevices = o.maxDevices;
  if (o.canary !== undefined) options.canary = stated.canary = o.canary;
  adaptDefaults(options, stated, targets.machineIds.length + targets.computerNames.length);

  // Only values the user wrote can contradict each other.
  // (An unstated timeout has adapted to the interval; only one past the longest timeout is left.)
  if (stated.pollIntervalMs !== undefined && stated.pollIntervalMs >= options.timeoutMs) {
    sink.add(
      ["options", "pollInterval"],
      stated.timeoutMs !== undefined
        ? "must be shorter than options.timeout, or no poll happens before the deadline"
        : "must be shorter than 72h, the longest timeout",
    );
  }
  if (stated.canary !== undefined && stated.maxDevices !== undefined && stated.canary > stated.maxDevices) {
    sink.add(
      ["options", "canary"],
      `is larger than options.maxDevices (${stated.maxDevices}); lower canary or raise maxDevices`,
    );
  }
  const { callsPerMinute, callsPerHour } = options.limits;
  if (callsPerMinute !== undefined && callsPerHour !== undefined && callsPerMinute > callsPerHour) {
    sink.add(
      ["options", "limits", "callsPerMinute"],
      "is larger than limits.callsPerHour; check both values",
    );
  }

  return {
    runbook: {
      name: raw.name,
      comment: raw.comment ?? null,
      targets,
      commands,
      library,
      options,
    },
    issues: sink.issues,
  };
}
