/**
 * What the action knows about the workflow run it is in, read from the runner's environment and the
 * event payload file (GITHUB_EVENT_PATH) without loading Octokit: start-up stays lean, and the inputs
 * can decide up front whether a GitHub feature (and so the Octokit client) is needed at all.
 */
import { readFileSync } from "node:fs";
import type { Env } from "../inputs.js";

export interface IssueCommentPayload {
  action: string | null;
  commentId: number;
  body: string;
  login: string;
  /** `Bot` for GitHub Apps (github-actions[bot] included), else `User` / `Organization`. */
  userType: string;
  isPullRequest: boolean;
}

export interface RunEnvironment {
  owner: string | null;
  repo: string | null;
  serverUrl: string;
  runId: string | null;
  runAttempt: string;
  actor: string | null;
  workflow: string | null;
  /** `owner/repo/.github/workflows/x.yml@refs/heads/main`: the workflow file and the ref it ran from. */
  workflowRef: string | null;
  /** The commit the workflow run is for (GITHUB_SHA). */
  sha: string | null;
  eventName: string | null;
  /** Issue of the triggering `issues` / `issue_comment` event. */
  eventIssue: number | null;
  comment: IssueCommentPayload | null;
}

function readPayload(env: Env): Record<string, unknown> {
  const file = env["GITHUB_EVENT_PATH"];
  if (!file) return {};
  try {
    const parsed: unknown = JSON.parse(readFileSync(file, "utf8"));
    return parsed && typeof parsed === "object" ? (parsed as Record<string, unknown>) : {};
  } catch {
    // A missing or unreadable payload (local runners) means "no triggering issue", not a failure.
    return {};
  }
}

function record(value: unknown): Record<string, unknown> | null {
  return value && typeof value === "object" ? (value as Record<string, unknown>) : null;
}

export function readRunEnvironment(env: Env): RunEnvironment {
  const [owner, repo] = (env["GITHUB_REPOSITORY"] ?? "").split("/");
  const eventName = env["GITHUB_EVENT_NAME"] || null;
  const payload = readPayload(env);
  const issue = record(payload["issue"]);
  const issueNumber = typeof issue?.["number"] === "number" ? issue["number"] : null;
  const eventIssue = eventName === "issues" || eventName === "issue_comment" ? issueNumber : null;
  let comment: IssueCommentPayload | null = null;
  const c = record(payload["comment"]);
  const user = record(c?.["user"]);
  if (eventName === "issue_comment" && c && typeof c["id"] === "number" && typeof c["body"] === "string") {
    comment = {
      action: typeof payload["action"] === "string" ? payload["action"] : null,
      commentId: c["id"],
      body: c["body"],
      login: typeof user?.["login"] === "string" ? user["login"] : "",
      userType: typeof user?.["type"] === "string" ? user["type"] : "",
      isPullRequest: Boolean(issue?.["pull_request"]),
    };
  }
  return {
    owner: owner || null,
    repo: repo || null,
    serverUrl: (env["GITHUB_SERVER_URL"] || "https://github.com").replace(/\/+$/, ""),
    runId: env["GITHUB_RUN_ID"] || null,
    runAttempt: env["GITHUB_RUN_ATTEMPT"] || "1",
    actor: env["GITHUB_ACTOR"] || null,
    workflow: env["GITHUB_WORKFLOW"] || null,
    workflowRef: env["GITHUB_WORKFLOW_REF"] || null,
    sha: env["GITHUB_SHA"] || null,
    eventName,
    eventIssue,
    comment,
  };
}

/** `${server}/${owner}/${repo}/actions/runs/${id}/attempts/${n}`: the page of this attempt of the run. */
export function runUrl(run: RunEnvironment): string | null {
  if (!run.owner || !run.repo || !run.runId) return null;
  return `${run.serverUrl}/${run.owner}/${run.repo}/actions/runs/${run.runId}/attempts/${run.runAttempt}`;
}
