/**
 * Turns the `runbook` / `commands` inputs into a validated Runbook. `commands` is only the step list:
 * the rest (name, targets from `machine-ids`, default options) is filled in here.
 */
import path from "node:path";
import { parseDocument } from "yaml";
import { ValidationError } from "../shared/errors.js";
import { defaultOptionsFor, loadRunbook, parseRunbook, parseSteps } from "../shared/runbook/index.js";
import type { Runbook } from "../shared/runbook/types.js";
import { readRunEnvironment, runUrl } from "./github/event.js";
import type { Env, RunbookSource } from "./inputs.js";

/** Runbook names allow letters, digits, '.', '_' and '-' (runbook schema). */
function runName(env: Env): string {
  const job = (env["GITHUB_JOB"] ?? "").replace(/[^A-Za-z0-9._-]/g, "-").replace(/^[^A-Za-z0-9]+/, "");
  return `workflow-${job || "step"}`.slice(0, 100);
}

/**
 * Cap on the action's part of every machine action's Comment. The service's limit on `Comment` is not
 * documented (mde-api.md is silent; the captures show only short comments), so stay far below the
 * lengths seen in the wild. The core appends its run tag `[mde-lr:<runId>/<steps>]` after this text and
 * never cuts it (the run finds its own actions by it); RUN_TAG_ROOM keeps room for the longest tag.
 */
export const ACTION_COMMENT_MAX = 400;
const RUN_TAG_ROOM = 48;

/**
 * Audit trail on every machine action: the runbook's own comment (cut first), then which repository,
 * workflow run attempt and person started it, ending with the run URL so an analyst in the Defender
 * portal can open the workflow run that sent it.
 */
export function githubComment(env: Env, runbookComment: string | null = null): string | null {
  const repo = env["GITHUB_REPOSITORY"];
  const user = (runbookComment ?? "").replace(/\s+/g, " ").trim();
  if (!repo) return user || null;
  const run = readRunEnvironment(env);
  const url = runUrl(run);
  const actor = run.actor ? ` by ${run.actor}` : "";
  const pointer = url ? `GitHub Actions${actor}: ${url}` : `GitHub Actions ${repo}${actor}`;
  const budget = ACTION_COMMENT_MAX - RUN_TAG_ROOM;
  if (pointer.length >= budget) return pointer.slice(0, budget);
  if (!user) return pointer;
  const room = budget - pointer.length - 3;
  const cut = user.length > room ? `${user.slice(0, Math.max(0, room - 1))}…` : user;
  return cut ? `${cut} | ${pointer}` : pointer;
}

function parseCommandsYaml(text: string): unknown {
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true, strict: true });
  if (doc.errors.length > 0) {
    throw new ValidationError(
      "commands",
      doc.errors.map((e) => ({
        path: "commands",
        message: `YAML syntax: ${e.message.split("\n")[0]}; write the steps as a YAML list in a block scalar (\`commands: |\`)`,
      })),
    );
  }
  try {
    // maxAliasCount bounds alias expansion; an alias to a missing anchor also throws here, not in doc.errors.
    return doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    const message = error instanceof Error ? error.message.split("\n")[0] : String(error);
    throw new ValidationError("commands", [
      {
        path: "commands",
        message: `YAML could not be read: ${message}; write the steps as a YAML list in a block scalar (\`commands: |\`)`,
      },
    ]);
  }
}

export async function loadActionRunbook(
  source: RunbookSource,
  machineIds: string[],
  env: Env,
  workspace: string,
) {
  let runbook: Runbook;
  let baseDir = workspace;
  if (source.kind === "path") {
    runbook = await loadRunbook(source.path);
    baseDir = path.dirname(source.path);
  } else if (source.kind === "inline") {
    runbook = parseRunbook(source.text, { sourcePath: "input runbook", baseDir: workspace });
  } else if (source.kind === "commands") {
    const steps = parseSteps(parseCommandsYaml(source.text), "commands");
    runbook = {
      name: runName(env),
      comment: null,
      targets: { machineIds, computerNames: [], tags: [], filter: null },
      commands: steps,
      library: [],
      options: defaultOptionsFor(machineIds.length),
    };
  } else {
    throw new ValidationError("runbook", [
      { path: "runbook", message: "no runbook to load (internal: source none)" },
    ]);
  }
  runbook = { ...runbook, comment: githubComment(env, runbook.comment) };
  return { runbook, baseDir };
}
