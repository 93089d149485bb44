/** `mde-lr library list | sync <runbook> | delete <name...>`. */
import { InputError } from "../../errors.js";
import { syncLibrary } from "../../plan/library.js";
import { libraryNameProblem, loadRunbook } from "../../runbook/index.js";
import type { ConnectionFlags } from "../connect.js";
import { type CliIo, paint } from "../io.js";
import { renderLibrary, renderSync } from "../render.js";
import { type OutputFlags, withConnection } from "./shared.js";

export async function libraryListCommand(io: CliIo, flags: ConnectionFlags & OutputFlags): Promise<number> {
  return withConnection(io, flags, async ({ api }) => {
    const files = await api.listLibraryFiles();
    files.sort((a, b) => a.fileName.localeCompare(b.fileName));
    if (flags.json) io.out(`${JSON.stringify({ ok: true, files }, null, 2)}\n`);
    else io.out(renderLibrary(io, files));
    return 0;
  });
}

export async function librarySyncCommand(
  io: CliIo,
  path: string,
  flags: ConnectionFlags & OutputFlags & { dryRun?: boolean },
): Promise<number> {
  const runbook = await loadRunbook(path);
  if (runbook.library.length === 0 && !flags.json) {
    io.err(
      `${paint(io, "yellow", "note:")} ${path} lists no library files; checking its steps against the library only\n`,
    );
  }
  return withConnection(io, flags, async ({ api }) => {
    const result = await syncLibrary(api, runbook.library, {
      dryRun: flags.dryRun === true,
      steps: runbook.commands,
    });
    if (flags.json) io.out(`${JSON.stringify({ ok: true, library: result }, null, 2)}\n`);
    else io.out(renderSync(io, result));
    return 0;
  });
}

export async function libraryDeleteCommand(
  io: CliIo,
  names: string[],
  flags: ConnectionFlags & OutputFlags,
): Promise<number> {
  names.forEach((name, i) => {
    const problem = libraryNameProblem(name);
    if (problem) throw new InputError(`name[${i}]`, problem);
  });
  return withConnection(io, flags, async ({ api }) => {
    for (const name of names) {
      await api.deleteLibraryFile(name);
      if (!flags.json) io.out(`${paint(io, "green", "✓")} deleted ${name}\n`);
    }
    if (flags.json) io.out(`${JSON.stringify({ ok: true, deleted: names }, null, 2)}\n`);
    return 0;
  });
}
