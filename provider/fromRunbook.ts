/**
 * A runbook file → the args of one LiveResponseCollection and its LibraryFiles, so a stack can run the
 * same YAML the CLI and the GitHub Action run. The runbook is validated by the runbook parser (with
 * line:column in its messages); the collection gets the runbook as written, not normalised, so state
 * shows what the file says.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseDocument } from "yaml";
import { InputError } from "../shared/errors.js";
import { parseRunbook } from "../shared/runbook/index.js";
import type { StepInput, TargetsInput } from "./types.js";

export interface RunbookResources {
  /** The runbook's `name`, a good resource name. */
  name: string;
  collection: {
    name: string;
    targets: TargetsInput;
    commands: StepInput[];
    comment?: string;
    options?: Record<string, unknown>;
  };
  /** One entry per runbook `library` file; `path` is relative to the program directory. */
  library: {
    path: string;
    fileName: string;
    description?: string;
    parametersDescription?: string;
    hasParameters: boolean;
  }[];
}

export function fromRunbook(file: string): RunbookResources {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? "error";
    throw new InputError("runbook", `cannot read ${file} (${code}); give the path of a runbook YAML file`, {
      cause: e,
    });
  }
  const runbook = parseRunbook(text, { sourcePath: file, baseDir: path.dirname(path.resolve(file)) });
  // Already validated above (including the alias bound), so the plain read cannot surprise.
  const raw = parseDocument(text).toJS({ maxAliasCount: 100 }) as {
    targets: TargetsInput;
    commands: StepInput[];
    comment?: string;
    options?: Record<string, unknown>;
  };
  return {
    name: runbook.name,
    collection: {
      name: runbook.name,
      targets: raw.targets,
      commands: raw.commands,
      ...(raw.comment !== undefined ? { comment: raw.comment } : {}),
      ...(raw.options !== undefined ? { options: raw.options } : {}),
    },
    library: runbook.library.map((entry) => ({
      path: path.relative(process.cwd(), entry.path) || entry.path,
      fileName: entry.fileName,
      ...(entry.description !== null ? { description: entry.description } : {}),
      ...(entry.parametersDescription !== null ? { parametersDescription: entry.parametersDescription } : {}),
      hasParameters: entry.hasParameters,
    })),
  };
}
