/**
 * Which git commit a runbook file came from, read from the repository's own files: walk up to the
 * `.git` entry, follow HEAD to its ref and the ref to a commit (loose ref, then packed-refs).
 *
 * git is deliberately not run: the provider host, containers and self-hosted runners may have no git on
 * PATH, a spawned process would be a PATH lookup inside a responder's run (and a hang to time out), and
 * the few files involved have a stable, documented layout (gitrepository-layout(5)). What this does not
 * read is said plainly: a reftable repository (git ≥ 2.45 with extensions.refStorage=reftable) and any
 * ref it cannot find give `commit: null`, never a guess.
 */
import fs from "node:fs";
import path from "node:path";
import type { GitOrigin } from "./types.js";

const OBJECT_ID = /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/;
/** A ref name as it may appear in HEAD: under refs/, no `..`, none of the characters git refuses. */
const REF_NAME = /^refs\/(?!.*\.\.)[^\s\\~^:?*[\]]+$/;
const MAX_DEPTH = 64;
const MAX_HOPS = 5;

function readSmall(file: string): string | null {
  try {
    const st = fs.statSync(file);
    // HEAD, refs and commondir are a line each; packed-refs can be large but is read once.
    if (!st.isFile() || st.size > 64 * 1024 * 1024) return null;
    return fs.readFileSync(file, "utf8");
  } catch {
    return null;
  }
}

/** The repository around `dir`: its working-tree root and git dir (a worktree's `.git` is a file). */
export function findRepository(dir: string): { root: string; gitDir: string } | null {
  let at = path.resolve(dir);
  for (let i = 0; i < MAX_DEPTH; i++) {
    const dotGit = path.join(at, ".git");
    let st: fs.Stats | null = null;
    try {
      st = fs.statSync(dotGit);
    } catch {
      st = null;
    }
    if (st?.isDirectory()) return { root: at, gitDir: dotGit };
    if (st?.isFile()) {
      const m = /^gitdir:\s*(.+?)\s*$/m.exec(readSmall(dotGit) ?? "");
      if (m?.[1]) return { root: at, gitDir: path.resolve(at, m[1]) };
      return null;
    }
    const up = path.dirname(at);
    if (up === at) return null;
    at = up;
  }
  return null;
}

function packedRef(commonDir: string, ref: string): string | null {
  const text = readSmall(path.join(commonDir, "packed-refs"));
  if (!text) return null;
  for (const line of text.split("\n")) {
    if (line.startsWith("#") || line.startsWith("^")) continue;
    const sp = line.indexOf(" ");
    if (sp > 0 && line.slice(sp + 1).trimEnd() === ref) {
      const id = line.slice(0, sp);
      return OBJECT_ID.test(id) ? id : null;
    }
  }
  return null;
}

/** HEAD → (ref →)* commit, as far as the files say. */
export function headCommit(gitDir: string): { commit: string | null; ref: string | null } {
  const commonText = readSmall(path.join(gitDir, "commondir"));
  const commonDir = commonText ? path.resolve(gitDir, commonText.trim()) : gitDir;
  let content = readSmall(path.join(gitDir, "HEAD"))?.trim() ?? "";
  let firstRef: string | null = null;
  for (let hop = 0; hop < MAX_HOPS; hop++) {
    if (OBJECT_ID.test(content)) return { commit: content, ref: firstRef };
    const m = /^ref:\s*(\S+)$/.exec(content);
    const ref = m?.[1];
    if (!ref || !REF_NAME.test(ref)) return { commit: null, ref: firstRef };
    firstRef ??= ref;
    // Per-worktree refs live in the worktree's git dir, shared ones in the common dir.
    const loose =
      readSmall(path.join(gitDir, ...ref.split("/"))) ?? readSmall(path.join(commonDir, ...ref.split("/")));
    if (loose !== null) {
      content = loose.trim();
      continue;
    }
    return { commit: packedRef(commonDir, ref), ref: firstRef };
  }
  return { commit: null, ref: firstRef };
}

/**
 * The file's place in its repository: its path relative to the working-tree root (POSIX separators) and
 * the commit HEAD is at. null when the file is in no repository.
 */
export function gitOrigin(file: string, blob: string | null): { path: string; origin: GitOrigin } | null {
  let real: string;
  try {
    real = fs.realpathSync(file);
  } catch {
    real = path.resolve(file);
  }
  const repo = findRepository(path.dirname(real));
  if (!repo) return null;
  let root = repo.root;
  try {
    root = fs.realpathSync(root);
  } catch {
    // keep the resolved path
  }
  const rel = path.relative(root, real).split(path.sep).join("/");
  const { commit, ref } = headCommit(repo.gitDir);
  return { path: rel, origin: { commit, ref, blob } };
}
