/**
 * `check` for LibraryFile. It also hashes the content to upload (`contentSha256`) so `diff` compares
 * content without reading files, and so a changed file on disk shows up as a change in preview.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { libraryNameProblem } from "../shared/runbook/index.js";
import type { CheckFailure, CheckResult, LibraryFileInputs } from "./types.js";
import { UNKNOWN } from "./types.js";

const ARGS = ["path", "content", "fileName", "description", "parametersDescription", "hasParameters"];
const DERIVED = ["contentSha256", "sha256", "creationTime", "lastUpdatedTime", "createdBy", "__provider"];
/** mde-api.md §4.8: 20 MB per library file (the service is the judge; this only fails early). */
export const LIBRARY_MAX_BYTES = 20 * 1024 * 1024;

function known(value: unknown): boolean {
  return value !== undefined && value !== null && value !== UNKNOWN;
}

export function sha256Hex(bytes: Uint8Array): string {
  return crypto.createHash("sha256").update(bytes).digest("hex");
}

/** The bytes a LibraryFile uploads; `path` resolves from the program directory (the host's cwd). */
export function libraryContent(inputs: Pick<LibraryFileInputs, "path" | "content">): Buffer {
  if (typeof inputs.content === "string") return Buffer.from(inputs.content, "utf8");
  return fs.readFileSync(path.resolve(inputs.path ?? ""));
}

export function checkLibraryFile(news: Record<string, unknown>): CheckResult<LibraryFileInputs> {
  const failures: CheckFailure[] = [];
  const inputs: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(news)) {
    if (v === undefined || DERIVED.includes(k)) continue;
    if (!ARGS.includes(k)) {
      failures.push({ property: k, reason: `unknown argument; LibraryFile takes ${ARGS.join(", ")}` });
    }
    inputs[k] = v;
  }
  const hasPath = known(news.path);
  const hasContent = known(news.content);
  if (hasPath && hasContent) {
    failures.push({ property: "content", reason: "give either `path` or `content`, not both" });
  } else if (news.path === undefined && news.content === undefined) {
    failures.push({
      property: "path",
      reason: "required: give `path` (a file to upload) or `content` (the text itself)",
    });
  }
  if (hasPath && (typeof news.path !== "string" || news.path.trim() === "")) {
    failures.push({ property: "path", reason: "must be a file path (relative to the program directory)" });
  }
  if (hasContent && typeof news.content !== "string") {
    failures.push({ property: "content", reason: "must be a string (the file's text)" });
  }

  let fileName = news.fileName;
  if (fileName === undefined || fileName === null) {
    if (hasPath && typeof news.path === "string") fileName = path.basename(news.path);
    else if (hasContent)
      failures.push({
        property: "fileName",
        reason: "required with `content`: the name in the library, e.g. collect.ps1",
      });
  }
  if (known(fileName)) {
    const problem =
      typeof fileName === "string" ? libraryNameProblem(fileName) : "must be a string, e.g. collect.ps1";
    if (problem) failures.push({ property: "fileName", reason: problem });
  }
  if (fileName !== undefined) inputs.fileName = fileName;

  for (const key of ["description", "parametersDescription"]) {
    if (known(news[key]) && typeof news[key] !== "string")
      failures.push({ property: key, reason: "must be a string" });
  }
  if (known(news.hasParameters) && typeof news.hasParameters !== "boolean") {
    failures.push({ property: "hasParameters", reason: "must be true or false" });
  }

  if (news.path === UNKNOWN || news.content === UNKNOWN) {
    inputs.contentSha256 = UNKNOWN;
  } else if (failures.length === 0) {
    try {
      const bytes = libraryContent(inputs as Pick<LibraryFileInputs, "path" | "content">);
      if (bytes.byteLength > LIBRARY_MAX_BYTES) {
        failures.push({
          property: hasPath ? "path" : "content",
          reason: `${bytes.byteLength} bytes is over the library's 20 MB limit per file`,
        });
      }
      inputs.contentSha256 = sha256Hex(bytes);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? "error";
      failures.push({
        property: "path",
        reason: `cannot read ${JSON.stringify(news.path)} from the program directory ${process.cwd()} (${code}); check the path`,
      });
    }
  }
  const checked = inputs as unknown as LibraryFileInputs;
  return failures.length > 0 ? { inputs: checked, failures } : { inputs: checked };
}
