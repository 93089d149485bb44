/**
 * Runbook text → validated `Runbook`. YAML is parsed with its document API so every problem can be
 * reported with its line and column; the shipped JSON Schema decides the shape, then `normalize`
 * applies defaults and the checks a schema cannot express.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { isMap, isNode, isPair, isScalar, LineCounter, parseDocument } from "yaml";
import { InputError, ValidationError, type ValidationIssue } from "../errors.js";
import type { PathSegment } from "./field-path.js";
import { makeSink, normalizeRunbook, normalizeSteps } from "./normalize.js";
import { validateRunbookShape, validateStepsShape } from "./schema.js";
import { type Locator, schemaIssues } from "./schema-issues.js";
import type { Runbook, RunbookSource, Step } from "./types.js";

/** Larger runbooks are almost certainly the wrong file; also bounds parser work on hostile input. */
export const MAX_RUNBOOK_BYTES = 1024 * 1024;

export interface ParseRunbookOptions {
  /** Shown in messages (e.g. `runbooks/triage.yaml`). */
  sourcePath?: string;
  /** Folder library paths resolve from; defaults to the source file's folder, else the working folder. */
  baseDir?: string;
}

function subjectOf(sourcePath: string | undefined): string {
  return sourcePath ? `runbook ${sourcePath}` : "runbook";
}

export function parseRunbook(text: string, options: ParseRunbookOptions = {}): Runbook {
  const subject = subjectOf(options.sourcePath);
  if (Buffer.byteLength(text, "utf8") > MAX_RUNBOOK_BYTES) {
    throw new ValidationError(subject, [
      { path: "runbook", message: `is larger than ${MAX_RUNBOOK_BYTES / 1024} KiB; is this the right file?` },
    ]);
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, strict: true });
  const at = (offset: number) => {
    const p = lineCounter.linePos(offset);
    return `line ${p.line}, column ${p.col}`;
  };
  if (doc.errors.length > 0) {
    throw new ValidationError(
      subject,
      doc.errors.map((e) => ({
        path: "runbook",
        message: `YAML syntax: ${e.message.split("\n")[0]} (${at(e.pos[0])})`,
      })),
    );
  }

  let value: unknown;
  try {
    // maxAliasCount bounds alias expansion ("billion laughs").
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new ValidationError(subject, [{ path: "runbook", message: `YAML could not be read: ${message}` }]);
  }
  if (value === null || value === undefined) {
    throw new ValidationError(subject, [
      { path: "runbook", message: "is empty; a runbook needs at least name, targets and commands" },
    ]);
  }

  const locate: Locator = (segments: readonly PathSegment[], key?: string) => {
    try {
      if (key !== undefined) {
        const parent = doc.getIn(segments.slice(0, -1), true);
        if (isMap(parent)) {
          for (const item of parent.items) {
            if (isPair(item) && isScalar(item.key) && String(item.key.value) === key && item.key.range) {
              return at(item.key.range[0]);
            }
          }
        }
      }
      const node = segments.length === 0 ? doc.contents : doc.getIn(segments, true);
      if (isNode(node) && node.range) return at(node.range[0]);
      if (segments.length > 0) return locate(segments.slice(0, -1));
    } catch {
      // A path the document cannot walk (e.g. through a scalar): no location rather than no message.
    }
    return null;
  };

  const shape = validateRunbookShape(value);
  if (shape.length > 0) throw new ValidationError(subject, schemaIssues(shape, value, "", locate));

  const baseDir =
    options.baseDir ?? (options.sourcePath ? dirname(resolve(options.sourcePath)) : process.cwd());
  const { runbook, issues } = normalizeRunbook(value, baseDir, locate);
  if (issues.length > 0) throw new ValidationError(subject, issues);
  return { ...runbook, source: runbookSource(Buffer.from(text, "utf8"), "text", null, options.sourcePath) };
}

/** The digests a run's chain of custody records of the runbook it ran (see RunbookSource). */
export function runbookSource(
  bytes: Uint8Array,
  hashOf: "file" | "text",
  path: string | null,
  label: string | null = null,
): RunbookSource {
  const blob = createHash("sha1").update(`blob ${bytes.length}\0`).update(bytes).digest("hex");
  return {
    hashOf,
    sha256: createHash("sha256").update(bytes).digest("hex"),
    gitBlob: blob,
    path,
    label: hashOf === "text" ? label : null,
  };
}

/** Reads and parses a runbook file; library paths resolve from the file's folder. */
export async function loadRunbook(path: string): Promise<Runbook> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === "ENOENT"
        ? "file not found"
        : code === "EISDIR"
          ? "is a folder, not a file"
          : `cannot be read (${code ?? "error"})`;
    throw new InputError("runbook", `${path}: ${why}; pass the path of a runbook YAML file`, { cause: err });
  }
  // The digests are of the bytes read, before decoding: what `sha256sum` of the file says.
  const runbook = parseRunbook(bytes.toString("utf8"), { sourcePath: path, baseDir: dirname(resolve(path)) });
  return { ...runbook, source: runbookSource(bytes, "file", resolve(path)) };
}

/**
 * Validates a bare step list, e.g. the GitHub Action's `commands` input or the Pulumi provider's
 * `commands` argument; `fieldPath` prefixes every issue (e.g. `commands`, `inputs.commands`).
 */
export function parseSteps(value: unknown, fieldPath: string): Step[] {
  const shape = validateStepsShape(value);
  if (shape.length > 0) throw new ValidationError(fieldPath, schemaIssues(shape, value, fieldPath));
  const sink = makeSink(fieldPath);
  const steps = normalizeSteps(value as Parameters<typeof normalizeSteps>[0], sink, []);
  if (sink.issues.length > 0) throw new ValidationError(fieldPath, sink.issues);
  return steps;
}

export type { ValidationIssue };
