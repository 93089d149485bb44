/**
 * `check` for LiveResponseCollection: every failure names the arg (or the path inside it) and the fix.
 * What a runbook also has (targets, commands, comment, timeout, pollInterval, onActiveSession,
 * maxDevices) is judged by the runbook parser; the rest here. Values not known yet (preview) arrive as
 * the UNKNOWN sentinel string whatever their type and are skipped until `up` knows them.
 */
import { InputError, ValidationError } from "../shared/errors.js";
import { parseDurationMs } from "../shared/runbook/index.js";
import { toPlain } from "./plain.js";
import { parseCollectionArgs } from "./runbookFromArgs.js";
import type { CheckFailure, CheckResult, CollectionInputs } from "./types.js";
import { UNKNOWN } from "./types.js";

export const COLLECTION_ARGS = [
  "targets",
  "machineIds",
  "commands",
  "comment",
  "name",
  "timeout",
  "detachAfter",
  "onActiveSession",
  "triggers",
  "maxDevices",
  "pollInterval",
  "options",
  "outputRoot",
] as const;
/** Set by the resource class itself (custody: the program's project and stack), never by the user. */
export const INTERNAL_ARGS = ["pulumiContext"];
/** Output names the resource seeds as undefined; the host's `__provider` is re-added by the host. */
const NOT_INPUTS = ["runId", "status", "counts", "machines", "startedAt", "finishedAt", "__provider"];

function known(value: unknown): boolean {
  return value !== undefined && value !== null && value !== UNKNOWN;
}

/** Issues from the core's validators, as Pulumi check failures. */
export function failuresFrom(error: unknown): CheckFailure[] {
  if (error instanceof ValidationError)
    return error.issues.map((i) => ({ property: i.path, reason: i.message }));
  if (error instanceof InputError) {
    const prefix = `${error.field}: `;
    const reason = error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
    return [{ property: error.field, reason }];
  }
  throw error;
}

/** `detachAfter` in ms; throws InputError naming the arg. */
export function detachAfterMs(value: unknown): number {
  const ms = typeof value === "number" || typeof value === "string" ? parseDurationMs(value) : null;
  if (ms === null) {
    throw new InputError(
      "detachAfter",
      `expected a duration (seconds, or e.g. 90s, 30m, 2h), got ${JSON.stringify(value)}; past it the run is recorded as pending and \`pulumi refresh\` collects the rest`,
    );
  }
  return ms;
}

export function checkCollection(news: Record<string, unknown>): CheckResult<CollectionInputs> {
  const failures: CheckFailure[] = [];
  const inputs: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(news)) {
    if (value === undefined || NOT_INPUTS.includes(key)) continue;
    inputs[key] = value;
    if (!(COLLECTION_ARGS as readonly string[]).includes(key) && !INTERNAL_ARGS.includes(key)) {
      failures.push({
        property: key,
        reason: `unknown argument; LiveResponseCollection takes ${COLLECTION_ARGS.join(", ")}`,
      });
    }
  }

  const { targets, machineIds } = inputs;
  if (known(targets) && known(machineIds)) {
    failures.push({
      property: "machineIds",
      reason:
        "give either `targets` or `machineIds`, not both (machineIds is short for targets: { machineIds })",
    });
  } else if (
    (targets === undefined || targets === null) &&
    (machineIds === undefined || machineIds === null)
  ) {
    failures.push({
      property: "targets",
      reason: "required: give `targets` ({ machineIds, computerNames, tags, filter }) or `machineIds`",
    });
  } else if (inputs.commands === undefined || inputs.commands === null) {
    failures.push({
      property: "commands",
      reason:
        'required: the runbook step list, e.g. [{ runScript: "collect.ps1" }, { getFile: "C:\\\\Temp\\\\out.zip" }]',
    });
  } else {
    const { issues } = parseCollectionArgs(inputs as Partial<CollectionInputs>);
    failures.push(...issues.map((i) => ({ property: i.path, reason: i.message })));
  }

  if (known(inputs.detachAfter)) {
    try {
      detachAfterMs(inputs.detachAfter);
    } catch (e) {
      failures.push(...failuresFrom(e));
    }
  }
  if (known(inputs.triggers) && !Array.isArray(inputs.triggers)) {
    failures.push({
      property: "triggers",
      reason: "must be a list of values (any change re-runs the collection)",
    });
  }
  if (
    known(inputs.outputRoot) &&
    (typeof inputs.outputRoot !== "string" || inputs.outputRoot.trim() === "")
  ) {
    failures.push({
      property: "outputRoot",
      reason: "must be a folder path (relative to the program directory)",
    });
  }

  // The declaration passes through as written: normalising it would make old and new state differ in
  // form and show spurious diffs.
  const checked = toPlain(inputs) as unknown as CollectionInputs;
  return failures.length > 0 ? { inputs: checked, failures } : { inputs: checked };
}
