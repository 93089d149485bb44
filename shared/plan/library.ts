/**
 * Keeping the Live Response library in step with the repository: upload only files whose sha256
 * differs from the listing, then refuse the run (before anything is submitted) if a putFile or
 * runScript names a file the library doesn't have.
 */
import { createHash } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import type { CallOptions, LibraryFile, MdeApi } from "../api/types.js";
import { InputError } from "../errors.js";
import type { LibraryEntry, Runbook, Step } from "../runbook/types.js";
import type { LibrarySyncResult } from "./types.js";

/** The API's documented upload limit (mde-api.md §4.8; the portal states more, §8.3). */
export const LIBRARY_MAX_BYTES = 20 * 1024 * 1024;

export interface SyncLibraryOptions {
  /** List and compare only; upload nothing. */
  dryRun?: boolean;
  /** The runbook's steps: every putFile/runScript name must end up in the library. */
  steps?: readonly Step[];
  signal?: AbortSignal;
}

/**
 * Library names are compared case-insensitively: the service's matching is undocumented
 * (mde-api.md §8.15), and treating "Collect.ps1" and "collect.ps1" as one avoids uploading twins.
 */
const key = (name: string) => name.toLowerCase();

async function readEntry(entry: LibraryEntry, index: number): Promise<Uint8Array> {
  const field = `library[${index}].path`;
  let size: number;
  try {
    const s = await stat(entry.path);
    if (!s.isFile())
      throw new InputError(field, `${entry.path} is not a file; point path at the script or tool`);
    size = s.size;
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(
      field,
      `${entry.path} can't be read (${(err as NodeJS.ErrnoException).code ?? "error"}); check the path, relative to the runbook file`,
      { cause: err },
    );
  }
  if (size > LIBRARY_MAX_BYTES) {
    throw new InputError(
      field,
      `${entry.fileName} is ${size} bytes, over the library's 20 MB limit; make it smaller (e.g. download the tool from a script instead)`,
    );
  }
  return readFile(entry.path);
}

/** A runbook that runs or pushes library files, or ships its own, needs the library listed (and synced). */
export function needsLibrary(runbook: Pick<Runbook, "commands" | "library">): boolean {
  return runbook.commands.some((s) => s.type !== "GetFile") || runbook.library.length > 0;
}

export function sha256Hex(content: Uint8Array): string {
  return createHash("sha256").update(content).digest("hex");
}

export async function syncLibrary(
  api: MdeApi,
  entries: readonly LibraryEntry[],
  options: SyncLibraryOptions = {},
): Promise<LibrarySyncResult> {
  const call: CallOptions = options.signal ? { signal: options.signal } : {};
  const contents = await Promise.all(entries.map((e, i) => readEntry(e, i)));
  const listing = new Map<string, LibraryFile>();
  for (const f of await api.listLibraryFiles(call)) listing.set(key(f.fileName), f);

  const result: LibrarySyncResult = {
    uploaded: [],
    unchanged: [],
    dryRun: options.dryRun ?? false,
    available: [],
  };
  const available = new Set<string>([...listing.values()].map((f) => f.fileName));
  for (const e of entries) if (!listing.has(key(e.fileName))) available.add(e.fileName);
  result.available = [...available].sort();
  // Checked before uploading: a run that can't start shouldn't change the library either.
  if (options.steps) assertStepsInLibrary(options.steps, result.available);
  for (const [i, entry] of entries.entries()) {
    const content = contents[i]!;
    const existing = listing.get(key(entry.fileName));
    // A listing without a sha256 cannot prove the file is the same: upload it (with override).
    if (existing && existing.sha256 !== null && existing.sha256 === sha256Hex(content)) {
      result.unchanged.push(entry.fileName);
      continue;
    }
    if (!result.dryRun) {
      await api.uploadLibraryFile(
        {
          fileName: entry.fileName,
          content,
          ...(entry.description !== null ? { description: entry.description } : {}),
          ...(entry.parametersDescription !== null
            ? { parametersDescription: entry.parametersDescription }
            : {}),
          hasParameters: entry.hasParameters,
          overrideIfExists: existing !== undefined,
        },
        call,
      );
    }
    result.uploaded.push(entry.fileName);
  }
  return result;
}

/** InputError naming the first step whose library file is missing (all of them in the message). */
export function assertStepsInLibrary(steps: readonly Step[], available: readonly string[]): void {
  const have = new Set(available.map(key));
  const missing: { field: string; name: string }[] = [];
  steps.forEach((s, i) => {
    const name = s.type === "PutFile" ? s.fileName : s.type === "RunScript" ? s.scriptName : null;
    if (name !== null && !have.has(key(name))) {
      missing.push({ field: `commands[${i}].${s.type === "PutFile" ? "putFile" : "runScript"}`, name });
    }
  });
  const first = missing[0];
  if (!first) return;
  const names = [...new Set(missing.map((m) => m.name))];
  throw new InputError(
    first.field,
    `${names.map((n) => `"${n}"`).join(", ")} ${names.length === 1 ? "is" : "are"} not in the Live Response library; ` +
      "add the file under the runbook's library: (path relative to the runbook) or upload it with `mde-lr library sync`",
  );
}
