/**
 * Tree snapshots for the "nothing written outside the output folder" invariant. Entries are read with
 * lstat (symlinks are recorded, never followed), so a planted link cannot hide a write.
 */
import { lstatSync, readdirSync } from "node:fs";
import path from "node:path";

export interface EntryInfo {
  type: "file" | "dir" | "symlink" | "other";
  size: number;
  mtimeMs: number;
}

export type TreeSnapshot = Map<string, EntryInfo>;

export interface TreeDiff {
  added: string[];
  removed: string[];
  changed: string[];
}

/** Relative POSIX paths under `root`; `skip(rel)` prunes a subtree (e.g. the output folder). */
export function snapshotTree(root: string, skip: (rel: string) => boolean = () => false): TreeSnapshot {
  const out: TreeSnapshot = new Map();
  const walk = (dir: string, relDir: string): void => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names) {
      const rel = relDir ? `${relDir}/${name}` : name;
      if (skip(rel)) continue;
      const full = path.join(dir, name);
      let st: ReturnType<typeof lstatSync>;
      try {
        st = lstatSync(full);
      } catch {
        continue;
      }
      const type = st.isSymbolicLink()
        ? "symlink"
        : st.isDirectory()
          ? "dir"
          : st.isFile()
            ? "file"
            : "other";
      out.set(rel, { type, size: type === "dir" ? 0 : st.size, mtimeMs: type === "dir" ? 0 : st.mtimeMs });
      if (type === "dir") walk(full, rel);
    }
  };
  walk(root, "");
  return out;
}

export function diffTrees(before: TreeSnapshot, after: TreeSnapshot): TreeDiff {
  const added: string[] = [];
  const removed: string[] = [];
  const changed: string[] = [];
  for (const [rel, info] of after) {
    const prev = before.get(rel);
    if (!prev) added.push(rel);
    else if (prev.type !== info.type || prev.size !== info.size || prev.mtimeMs !== info.mtimeMs)
      changed.push(rel);
  }
  for (const rel of before.keys()) if (!after.has(rel)) removed.push(rel);
  return { added, removed, changed };
}

export function isEmptyDiff(d: TreeDiff): boolean {
  return d.added.length === 0 && d.removed.length === 0 && d.changed.length === 0;
}

/** Every entry under the output folder must be a plain file or folder whose real location is inside it. */
export function outputFolderEscapes(outDir: string): string[] {
  const problems: string[] = [];
  for (const [rel, info] of snapshotTree(outDir)) {
    if (info.type === "symlink") problems.push(`symlink in output folder: ${rel}`);
    else if (info.type === "other") problems.push(`special file in output folder: ${rel}`);
    const resolved = path.resolve(outDir, rel);
    const back = path.relative(outDir, resolved);
    if (back.startsWith("..") || path.isAbsolute(back)) problems.push(`path outside output folder: ${rel}`);
  }
  return problems;
}
