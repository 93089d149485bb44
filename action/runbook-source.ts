/**
 * Turns the `runbook` / `commands` inputs into a validated Runbook. `commands` is only the step list:
 * the rest (name, targets from `machine-ids`, default options) is filled in here.
 */
import path from "node:path";
import { parseDocument } from "yaml";
import { ValidationError } from "../shared/errors.js";
import {
  defaultOptionsFor,
  loadRunbook,
  parseRunbook,
  parseSteps,
  runbookSource,
} from "../shared/runbook/index.js";
import type { Runbook } from "../shared/runbook/types.js";
import type { Env, RunbookSource } from "./inputs.js";

/** Runbook names allow letters, digits, '.', '_' and '-' (runbook schema). */
function runName(env: Env): string {
  const job = (env["GITHUB_JOB"] ?? "").replace(/[^A-Za-z0-9._-]/g, "-").replace(/^[^A-Za-z0-9]+/, "");
  return `workflow-${job || "step"}`.slice(0, 100);
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
    runbook.source = runbookSource(Buffer.from(source.text, "utf8"), "text", null, "inline `runbook` input");
  } else if (source.kind === "commands") {
    const steps = parseSteps(parseCommandsYaml(source.text), "commands");
    runbook = {
      name: runName(env),
      comment: null,
      targets: { machineIds, computerNames: [], tags: [], filter: null },
      commands: steps,
      library: [],
      options: defaultOptionsFor(machineIds.length),
      source: runbookSource(Buffer.from(source.text, "utf8"), "text", null, "`commands` input"),
    };
  } else {
    throw new ValidationError("runbook", [
      { path: "runbook", message: "no runbook to load (internal: source none)" },
    ]);
  }
  return { runbook, baseDir };
}
