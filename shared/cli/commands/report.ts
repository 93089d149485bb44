/**
 * `mde-lr report <dir> [--open]`: (re)write report.html for a run folder, old ones included, and
 * optionally open it with the desktop's opener. Without a display (SSH, CI, a container) it only
 * prints the path: there is nothing to open it on.
 */
import { spawn } from "node:child_process";
import { writeReportPage } from "../../report/html/rewrite.js";
import type { CliIo } from "../io.js";
import { paint } from "../io.js";

export interface Opener {
  command: string;
  args: string[];
}

/** The OS's own way to open a file in its default application; null when there is no display. */
export function openerFor(
  file: string,
  platform: NodeJS.Platform,
  env: Record<string, string | undefined>,
): Opener | null {
  if (platform === "win32")
    // start's first quoted argument is the window title: an empty one, so a quoted path is not taken for it.
    return { command: "cmd", args: ["/c", "start", "", file] };
  if (platform === "darwin") return { command: "open", args: [file] };
  if (!env.DISPLAY && !env.WAYLAND_DISPLAY) return null;
  return { command: "xdg-open", args: [file] };
}

function launch(opener: Opener): Promise<string | null> {
  return new Promise((resolve) => {
    try {
      const child = spawn(opener.command, opener.args, {
        detached: true,
        stdio: "ignore",
        windowsHide: true,
      });
      child.once("error", (e) => resolve(e.message));
      child.once("spawn", () => {
        child.unref();
        resolve(null);
      });
    } catch (e) {
      resolve((e as Error).message);
    }
  });
}

export async function reportCommand(
  io: CliIo,
  dir: string,
  flags: { open?: boolean; json?: boolean },
  platform: NodeJS.Platform = process.platform,
): Promise<number> {
  const page = writeReportPage(dir);
  const failed = page.error ? (page.error instanceof Error ? page.error.message : String(page.error)) : null;
  let opened: boolean | null = null;
  let note = "";
  if (flags.open && !failed) {
    const opener = openerFor(page.path, platform, io.env);
    if (!opener) {
      opened = false;
      note = "no display here (DISPLAY/WAYLAND_DISPLAY unset): open the file in a browser";
    } else {
      const error = await launch(opener);
      opened = error === null;
      if (error) note = `could not start ${opener.command} (${error}): open the file in a browser`;
    }
  }
  if (flags.json) {
    io.out(
      `${JSON.stringify({ ok: !failed, path: page.path, from: page.from, opened, ...(failed ? { error: failed } : {}) }, null, 2)}\n`,
    );
  } else if (failed) {
    io.err(`${paint(io, "red", "mde-lr:")} report.html could not be built: ${failed}\n`);
  } else {
    const source =
      page.from === "journal" ? " (from the journal: the run has not written report.json yet)" : "";
    io.out(`${page.path}\n`);
    io.err(`wrote report.html${source}${note ? `; ${note}` : opened ? "; opened it" : ""}\n`);
  }
  return failed ? 1 : 0;
}
