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
import { DEFAULT_LIMITS, type LibraryEntry, type Runbook, type RunbookOptions, type Step } from "./types.js";

/**
 * Defaults. The session cap is the older, lower documented value (25) so a tenant on the old cap is
 * never over-driven; raise `maxConcurrentSessions` to 50 where the current documentation applies.
 */
export const DEFAULT_OPTIONS: RunbookOptions = {
  timeoutMs: 30 * 60_000,
  pollIntervalMs: 10_000,
  onActiveSession: "wait",
  maxConcurrentSessions: 25,
  maxDevices: 50,
  canary: 0,
  onIneligible: "skip",
  limits: { ...DEFAULT_LIMITS },
};

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
    maxConcurrentSessions?: number;
    maxDevices?: number;
    canary?: number;
    limits?: Partial<typeof DEFAULT_LIMITS>;
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
  const options: RunbookOptions = {
    ...DEFAULT_OPTIONS,
    limits: { ...DEFAULT_OPTIONS.limits, ...(o.limits ?? {}) },
  };
  if (o.timeout !== undefined) {
    const ms = parseDurationMs(o.timeout);
    if (ms === null) sink.add(["options", "timeout"], "expected a duration such as 30s, 45m or 2h");
    else if (ms > MAX_TIMEOUT_MS)
      sink.add(
        ["options", "timeout"],
        "must be at most 3 days (72h), the longest the service queues an action",
      );
    else options.timeoutMs = ms;
  }
  if (o.pollInterval !== undefined) {
    const ms = parseDurationMs(o.pollInterval);
    if (ms === null) sink.add(["options", "pollInterval"], "expected a duration such as 10 or 15s");
    else if (ms < 1000)
      sink.add(["options", "pollInterval"], "must be at least 1 second; use 5 to 15 seconds");
    else options.pollIntervalMs = ms;
  }
  if (options.pollIntervalMs >= options.timeoutMs) {
    sink.add(
      ["options", "pollInterval"],
      "must be shorter than options.timeout, or no poll happens before the deadline",
    );
  }
  if (o.onActiveSession) options.onActiveSession = o.onActiveSession;
  if (o.onIneligible) options.onIneligible = o.onIneligible;
  if (o.maxConcurrentSessions !== undefined) options.maxConcurrentSessions = o.maxConcurrentSessions;
  if (o.maxDevices !== undefined) options.maxDevices = o.maxDevices;
  if (o.canary !== undefined) options.canary = o.canary;
  if (options.canary > options.maxDevices) {
    sink.add(
      ["options", "canary"],
      `is larger than options.maxDevices (${options.maxDevices}); lower canary or raise maxDevices`,
    );
  }
  if (options.limits.callsPerMinute > options.limits.callsPerHour) {
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
