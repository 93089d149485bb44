/**
 * The runbook's git origin read from `.git` files, checked against the real git on real repositories:
 * a loose branch ref, packed refs, a detached HEAD, a linked worktree (`.git` is a file), a symlinked
 * runbook, and a file in no repository at all.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findRepository, gitOrigin, headCommit } from "../../shared/custody/git.js";
import { runbookCustody } from "../../shared/custody/index.js";
import { loadRunbook } from "../../shared/runbook/index.js";

const RUNBOOK =
  "name: triage\ntargets:\n  machineIds: [" + "a".repeat(40) + "]\ncommands:\n  - runScript: x.ps1\n";

let root: string;
const git = (cwd: string, ...args: string[]) =>
  execFileSync("git", args, {
    cwd,
    encoding: "utf8",
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: "t",
      GIT_AUTHOR_EMAIL: "t@example.com",
      GIT_COMMITTER_NAME: "t",
      GIT_COMMITTER_EMAIL: "t@example.com",
      GIT_CONFIG_GLOBAL: "/dev/null",
      GIT_CONFIG_NOSYSTEM: "1",
    },
  }).trim();

function repoWithRunbook(name: string): { dir: string; file: string } {
  const dir = path.join(root, name);
  mkdirSync(path.join(dir, "runbooks"), { recursive: true });
  git(dir, "init", "-q", "-b", "main");
  const file = path.join(dir, "runbooks", "triage.yaml");
  writeFileSync(file, RUNBOOK);
  git(dir, "add", ".");
  git(dir, "commit", "-q", "-m", "runbook");
  return { dir, file };
}

beforeAll(() => {
  root = mkdtempSync(path.join(tmpdir(), "mde-git-origin-"));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("git origin of a runbook, read without running git", () => {
  it("a branch with a loose ref: commit, ref, repo-relative path, and the blob id git has for the file", () => {
    const { dir, file } = repoWithRunbook("loose");
    const found = gitOrigin(file, null);
    expect(found?.path).toBe("runbooks/triage.yaml");
    expect(found?.origin).toEqual({
      commit: git(dir, "rev-parse", "HEAD"),
      ref: "refs/heads/main",
      blob: null,
    });
  });

  it("packed refs (after gc / pack-refs) resolve the same commit", () => {
    const { dir } = repoWithRunbook("packed");
    git(dir, "pack-refs", "--all");
    expect(() => git(dir, "show-ref", "--verify", "refs/heads/main")).not.toThrow();
    const gitDir = findRepository(path.join(dir, "runbooks"))?.gitDir ?? "";
    expect(headCommit(gitDir)).toEqual({ commit: git(dir, "rev-parse", "HEAD"), ref: "refs/heads/main" });
  });

  it("a detached HEAD names its commit and no ref", () => {
    const { dir, file } = repoWithRunbook("detached");
    const first = git(dir, "rev-parse", "HEAD");
    writeFileSync(path.join(dir, "other.txt"), "x");
    git(dir, "add", ".");
    git(dir, "commit", "-q", "-m", "second");
    git(dir, "checkout", "-q", "--detach", first);
    expect(gitOrigin(file, null)?.origin).toMatchObject({ commit: first, ref: null });
  });

  it("a linked worktree (.git is a file pointing into the main repository) resolves its own branch", () => {
    const { dir } = repoWithRunbook("main-of-worktree");
    const wt = path.join(root, "the-worktree");
    git(dir, "worktree", "add", "-q", "-b", "custody", wt);
    writeFileSync(path.join(wt, "runbooks", "triage.yaml"), `${RUNBOOK}# changed in the worktree\n`);
    git(wt, "commit", "-q", "-am", "worktree change");
    const found = gitOrigin(path.join(wt, "runbooks", "triage.yaml"), null);
    expect(found?.path).toBe("runbooks/triage.yaml");
    expect(found?.origin.commit).toBe(git(wt, "rev-parse", "HEAD"));
    expect(found?.origin.commit).not.toBe(git(dir, "rev-parse", "HEAD"));
    expect(found?.origin.ref).toBe("refs/heads/custody");
  });

  it("loadRunbook's digests: sha256 of the bytes, and a git blob id equal to git's for a committed file", async () => {
    const { dir, file } = repoWithRunbook("blob");
    const rb = runbookCustody(await loadRunbook(file));
    expect(rb.hashOf).toBe("file");
    expect(rb.path).toBe("runbooks/triage.yaml");
    expect(rb.git?.blob).toBe(git(dir, "rev-parse", "HEAD:runbooks/triage.yaml"));
    expect(rb.sha256).toBe(execFileSync("sha256sum", [file], { encoding: "utf8" }).split(" ")[0]);
    // Edited after the commit: the blob id no longer matches the committed one (git hash-object agrees).
    writeFileSync(file, `${RUNBOOK}# edited, not committed\n`);
    const edited = runbookCustody(await loadRunbook(file));
    expect(edited.git?.blob).toBe(git(dir, "hash-object", "runbooks/triage.yaml"));
    expect(edited.git?.blob).not.toBe(git(dir, "rev-parse", "HEAD:runbooks/triage.yaml"));
    expect(edited.git?.commit).toBe(git(dir, "rev-parse", "HEAD"));
  });

  it("a symlinked runbook is placed where its target is", async () => {
    const { file } = repoWithRunbook("linked");
    const outside = path.join(root, "linked-runbook.yaml");
    symlinkSync(file, outside);
    expect(runbookCustody(await loadRunbook(outside)).path).toBe("runbooks/triage.yaml");
  });

  it("outside any repository: an absolute path and no git", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "mde-no-repo-"));
    try {
      const file = path.join(dir, "rb.yaml");
      writeFileSync(file, RUNBOOK);
      // tmpdir is in no repository on this machine; if it were, the test would say so, not pass.
      expect(findRepository(dir)).toBeNull();
      const rb = runbookCustody(await loadRunbook(file));
      expect(rb).toMatchObject({ name: "triage", hashOf: "file", path: file, git: null });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("an unreadable or foreign HEAD (reftable, garbage) gives no commit, never a guess", () => {
    const dir = path.join(root, "odd");
    mkdirSync(path.join(dir, ".git"), { recursive: true });
    writeFileSync(path.join(dir, ".git", "HEAD"), "ref: refs/heads/.invalid\n");
    expect(headCommit(path.join(dir, ".git"))).toEqual({ commit: null, ref: "refs/heads/.invalid" });
    writeFileSync(path.join(dir, ".git", "HEAD"), "ref: ../../etc/passwd\n");
    expect(headCommit(path.join(dir, ".git"))).toEqual({ commit: null, ref: null });
    writeFileSync(path.join(dir, ".git", "HEAD"), "not a head\n");
    expect(headCommit(path.join(dir, ".git")).commit).toBeNull();
  });
});
