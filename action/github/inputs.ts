/**
 * The GitHub-side inputs: the incident issue and its comment, ChatOps, detach / resume across workflow
 * runs, and finding pending runs. Validated with the other inputs (every problem listed at once).
 */
import path from "node:path";
import type { ValidationIssue } from "../../shared/errors.js";
import { parseDurationMs } from "../../shared/runbook/duration.js";
import type { Env } from "../inputs.js";
import { type RunEnvironment, readRunEnvironment } from "./event.js";

export type PermissionLevel = "write" | "maintain" | "admin";

/**
 * `latest`: the newest pending run of the repository; a workflow run id (digits): the pending run that
 * workflow run left; a core run id (`20261123T064000-1a2b3c4d`): that run.
 */
export type ResumeFrom =
  | { kind: "latest" }
  | { kind: "workflowRun"; id: number }
  | { kind: "run"; runId: string };

export interface GitHubInputs {
  run: RunEnvironment;
  /** Token for the GitHub API (issue comments, permission check, other runs' artifacts). Masked. */
  token: string | null;
  /** The incident issue: the `issue` input, else the triggering event's issue (a resumed run: the earlier run's). */
  issue: number | null;
  /** Keep one comment per run up to date on the issue (when there is one). */
  comment: boolean;
  /** Label the issue with the run's state (`mde-lr:running`, `mde-lr:pending`, `mde-lr:succeeded`, ...). */
  labels: boolean;
  chatops: { permission: PermissionLevel; runbookDir: string } | null;
  detachAfterMs: number | null;
  jobTimeoutMinutes: number | null;
  resumeFrom: ResumeFrom | null;
  findPending: boolean;
}

export const CORE_RUN_ID = /^\d{8}T\d{6}-[0-9a-f]{8}$/;

type Reader = {
  text(name: string): string | null;
  boolean(name: string, fallback: boolean): boolean;
};

function readResumeFrom(value: string | null, issues: ValidationIssue[]): ResumeFrom | null {
  if (value === null) return null;
  if (value.toLowerCase() === "latest") return { kind: "latest" };
  if (/^\d{1,19}$/.test(value)) return { kind: "workflowRun", id: Number(value) };
  if (CORE_RUN_ID.test(value)) return { kind: "run", runId: value };
  issues.push({
    path: "resume-from",
    message: `must be \`latest\`, a workflow run id (digits, from the run's URL) or a run id like 20261123T064000-1a2b3c4d (the \`run-id\` output); got "${value.slice(0, 60)}"`,
  });
  return null;
}

function readDetach(value: string | null, issues: ValidationIssue[]): number | null {
  if (value === null) return null;
  const ms = parseDurationMs(value);
  if (ms === null || ms > 72 * 3_600_000) {
    issues.push({
      path: "detach-after",
      message: `must be a duration up to 72h, e.g. 20m, 2h or 900 (seconds); got "${value.slice(0, 40)}"`,
    });
    return null;
  }
  return ms;
}

function readJobTimeout(value: string | null, issues: ValidationIssue[]): number | null {
  if (value === null) return null;
  const n = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  // The runner's limit for a hosted job is 360 minutes; self-hosted jobs may run up to 5 days.
  if (!(n >= 10 && n <= 7200)) {
    issues.push({
      path: "job-timeout-minutes",
      message: `must be the job's \`timeout-minutes\` (whole minutes, 10 to 7200); got "${value.slice(0, 40)}"`,
    });
    return null;
  }
  return n;
}

export function readGitHubInputs(
  env: Env,
  read: Reader,
  workspace: string,
  issues: ValidationIssue[],
): GitHubInputs {
  const run = readRunEnvironment(env);
  const token = read.text("github-token");
  const issueText = read.text("issue");
  let issue = run.eventIssue;
  if (issueText !== null) {
    const n = /^#?\d{1,10}$/.test(issueText) ? Number(issueText.replace("#", "")) : Number.NaN;
    if (!(n >= 1)) {
      issues.push({
        path: "issue",
        message: `must be an issue number, e.g. 42; got "${issueText.slice(0, 40)}"`,
      });
    } else issue = n;
  }
  const comment = read.boolean("issue-comment", true);
  const labels = read.boolean("issue-labels", false);
  const chatopsOn = read.boolean("chatops", false);
  const level = (read.text("chatops-permission") ?? "maintain").toLowerCase();
  if (!["write", "maintain", "admin"].includes(level)) {
    issues.push({
      path: "chatops-permission",
      message: `must be write, maintain or admin (the commenter's least role on the repository); got "${level.slice(0, 40)}"`,
    });
  }
  const runbookDir = path.resolve(workspace, read.text("runbook-dir") ?? "runbooks");
  if (!(runbookDir === workspace || runbookDir.startsWith(workspace + path.sep))) {
    issues.push({
      path: "runbook-dir",
      message: "must be a folder inside the workspace (the checked-out repository)",
    });
  }
  const chatops = chatopsOn ? { permission: level as PermissionLevel, runbookDir } : null;
  if (chatopsOn && !run.comment) {
    issues.push({
      path: "chatops",
      message:
        "needs an `issue_comment` event: trigger the workflow with `on: issue_comment: types: [created]`",
    });
  }
  const detachAfterMs = readDetach(read.text("detach-after"), issues);
  const jobTimeoutMinutes = readJobTimeout(read.text("job-timeout-minutes"), issues);
  const resumeFrom = readResumeFrom(read.text("resume-from"), issues);
  const findPending = read.boolean("find-pending", false);
  if (chatopsOn && resumeFrom) {
    issues.push({
      path: "resume-from",
      message: "cannot be combined with `chatops` (a command starts a new run)",
    });
  }
  if (findPending && (chatopsOn || resumeFrom)) {
    issues.push({
      path: "find-pending",
      message: "only lists pending runs; give it without `chatops` and `resume-from`",
    });
  }
  const needsToken = chatopsOn || resumeFrom !== null || findPending || (comment && issue !== null);
  if (needsToken && !token) {
    issues.push({
      path: "github-token",
      message:
        "required for the issue comment, ChatOps, resume-from and find-pending; leave the default (`github.token`) or pass a token with those permissions",
    });
  }
  if ((resumeFrom || findPending) && (!run.owner || !run.repo)) {
    issues.push({
      path: "resume-from",
      message: "needs GITHUB_REPOSITORY (owner/name) to find the earlier run's artifact",
    });
  }
  return {
    run,
    token,
    issue,
    comment,
    labels,
    chatops,
    detachAfterMs,
    jobTimeoutMinutes,
    resumeFrom,
    findPending,
  };
}

/** Minutes left for upload, comment and the post step before the job's `timeout-minutes` ends it. */
export const JOB_TIMEOUT_MARGIN_MS = 8 * 60_000;

/**
 * When to stop watching: `detach-after`, or before the job's time limit. The runner does not tell a
 * process the job's timeout, so it is an input, and the clock starts when this step starts: steps
 * before this one are not known to it and eat into the margin.
 */
export function effectiveDetachMs(gh: GitHubInputs, elapsedMs: number): number | undefined {
  const limits: number[] = [];
  if (gh.detachAfterMs !== null) limits.push(gh.detachAfterMs);
  if (gh.jobTimeoutMinutes !== null) {
    limits.push(Math.max(0, gh.jobTimeoutMinutes * 60_000 - JOB_TIMEOUT_MARGIN_MS - elapsedMs));
  }
  return limits.length > 0 ? Math.min(...limits) : undefined;
}

/** Runs that may be left pending (or continue one) name their artifacts after the run: see resume.ts. */
export function chainsArtifacts(gh: GitHubInputs): boolean {
  return gh.detachAfterMs !== null || gh.jobTimeoutMinutes !== null || gh.resumeFrom !== null;
}
