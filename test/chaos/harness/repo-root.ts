import { existsSync, readFileSync } from "node:fs";
import path from "node:path";

/** The repository root, found from the working directory (npm scripts and vitest run from it). */
export function repoRoot(from = process.cwd()): string {
  let dir = path.resolve(from);
  for (;;) {
    const pkg = path.join(dir, "package.json");
    if (
      existsSync(pkg) &&
      (JSON.parse(readFileSync(pkg, "utf8")) as { name?: string }).name === "mde-live-response"
    ) {
      return dir;
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`not inside the mde-live-response repository: ${from}`);
    dir = parent;
  }
}
