/**
 * LiveResponseCollection args → a runbook, through the runbook parser itself, so `targets`, `commands`,
 * `comment` and the run options get exactly the runbook schema's validation, defaults and messages.
 * Issue paths are mapped back to the arg names the user wrote.
 */
import { ValidationError, type ValidationIssue } from "../shared/errors.js";
import { parseRunbook } from "../shared/runbook/index.js";
import type { Runbook } from "../shared/runbook/types.js";
import type { CollectionInputs } from "./types.js";
import { UNKNOWN } from "./types.js";

/** Run options the collection takes as top-level args: arg name → runbook `options` key. */
const OPTION_ARGS = ["timeout", "pollInterval", "onActiveSession", "maxDevices"] as const;

function given(value: unknown): boolean {
  return value !== undefined && value !== null;
}

function runbookDocument(args: Partial<CollectionInputs>): Record<string, unknown> {
  const extra = args.options;
  // A non-object `options` goes through as is, so the runbook schema names it.
  if (given(extra) && (typeof extra !== "object" || Array.isArray(extra))) {
    return { ...runbookDocument({ ...args, options: undefined }), options: extra };
  }
  const options: Record<string, unknown> = { ...(extra ?? {}) };
  for (const key of OPTION_ARGS) if (given(args[key])) options[key] = args[key];
  return {
    name: args.name ?? "pulumi-collection",
    ...(args.comment !== undefined && args.comment !== null ? { comment: args.comment } : {}),
    targets: args.targets ?? { machineIds: args.machineIds },
    commands: args.commands,
    options,
  };
}

/** Runbook issue path → the arg path the user wrote (`timeout`, not `options.timeout`, when given on top). */
function argPath(path: string, args: Partial<CollectionInputs>, usedMachineIds: boolean): string {
  const option = /^options\.(\w+)/.exec(path)?.[1];
  if (
    option &&
    (OPTION_ARGS as readonly string[]).includes(option) &&
    given(args[option as keyof CollectionInputs])
  ) {
    return path.slice("options.".length);
  }
  if (usedMachineIds && path.startsWith("targets"))
    return path.replace(/^targets(\.machineIds)?/, "machineIds");
  return path;
}

/** Paths (as the runbook reports them) of values not known yet, which cannot be judged in preview. */
function unknownPaths(value: unknown, at: string, out: string[]): string[] {
  if (value === UNKNOWN) out.push(at);
  else if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) unknownPaths(v, `${at}[${i}]`, out);
  } else if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) unknownPaths(v, at ? `${at}.${k}` : k, out);
  }
  return out;
}

/** The parser's messages end with a YAML line/column that means nothing for Pulumi args. */
function withoutLocation(message: string): string {
  return message.replace(/\s*\(line \d+, column \d+\)\s*$/, "");
}

/**
 * Validates through the runbook parser; returns the runbook and the issues, with arg paths.
 * Issues about values not known yet (preview) are dropped.
 */
export function parseCollectionArgs(args: Partial<CollectionInputs>): {
  runbook: Runbook | undefined;
  issues: ValidationIssue[];
} {
  const doc = runbookDocument(args);
  const usedMachineIds = args.targets === undefined || args.targets === null;
  try {
    return {
      runbook: parseRunbook(JSON.stringify(doc), {
        sourcePath: "LiveResponseCollection",
        baseDir: process.cwd(),
      }),
      issues: [],
    };
  } catch (e) {
    if (!(e instanceof ValidationError)) throw e;
    const unknown = unknownPaths(doc, "", []);
    const judged = e.issues.filter(
      (i) => !unknown.some((u) => i.path === u || i.path.startsWith(`${u}.`) || i.path.startsWith(`${u}[`)),
    );
    return {
      runbook: undefined,
      issues: judged.map((i) => ({
        path: argPath(i.path, args, usedMachineIds),
        message: withoutLocation(i.message),
      })),
    };
  }
}

/** The runbook to run; throws ValidationError (arg paths) when the args are invalid. */
export function buildRunbook(args: CollectionInputs): Runbook {
  const { runbook, issues } = parseCollectionArgs(args);
  if (!runbook) throw new ValidationError("LiveResponseCollection args", issues);
  // Custody: the digests are of the runbook document the args make (JSON, in runbookDocument's order).
  if (runbook.source) runbook.source = { ...runbook.source, label: "LiveResponseCollection args (as JSON)" };
  return runbook;
}
