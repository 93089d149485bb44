/**
 * The GitHub REST calls the action makes, through `@actions/github`'s Octokit client (base URL from
 * GITHUB_API_URL, proxy settings from the runner). Loaded on first use only: Octokit is not on the
 * start-up path of a run that uses no GitHub feature.
 */
import { registerSecret } from "../../shared/redact.js";

export interface CommentRef {
  id: number;
  url: string;
}

export interface IssueComment extends CommentRef {
  body: string;
  userType: string;
  login: string;
}

export interface RepoArtifact {
  id: number;
  name: string;
  createdAt: string | null;
  expired: boolean;
  workflowRunId: number | null;
}

export interface CollaboratorPermission {
  /** `admin`, `write`, `read` or `none` (maintain reads as write, triage as read). */
  permission: string;
  /** `admin`, `maintain`, `write`, `triage`, `read`, or a custom role's name. */
  roleName: string | null;
  /** The `user.permissions` booleans, when GitHub sends them. */
  flags: Partial<Record<"admin" | "maintain" | "push" | "triage" | "pull", boolean>> | null;
}

export interface GitHubClient {
  readonly owner: string;
  readonly repo: string;
  createComment(issue: number, body: string): Promise<CommentRef>;
  updateComment(id: number, body: string): Promise<CommentRef>;
  getComment(id: number): Promise<IssueComment | null>;
  /** Comments of an issue, oldest first, at most `maxPages` pages of 100. */
  listComments(issue: number, maxPages?: number): Promise<IssueComment[]>;
  addReaction(commentId: number, content: "eyes" | "rocket" | "-1" | "confused"): Promise<void>;
  addLabels(issue: number, labels: string[]): Promise<void>;
  removeLabel(issue: number, label: string): Promise<void>;
  permission(username: string): Promise<CollaboratorPermission>;
  /** The repository's artifacts, newest first, one page of 100. */
  listRepoArtifacts(page: number): Promise<{ total: number; artifacts: RepoArtifact[] }>;
  listRunArtifacts(runId: number): Promise<RepoArtifact[]>;
}

/** A GitHub API failure, with what a person needs (status, GitHub's message) and never the token. */
export class GitHubApiError extends Error {
  constructor(
    readonly status: number,
    readonly githubMessage: string,
    readonly operation: string,
  ) {
    super(`${operation}: GitHub answered ${status}${githubMessage ? ` (${githubMessage})` : ""}`);
    this.name = "GitHubApiError";
  }
}

function toApiError(error: unknown, operation: string): Error {
  if (error && typeof error === "object" && "status" in error && typeof error.status === "number") {
    const response = (error as { response?: { data?: unknown } }).response;
    const data = response?.data;
    const message =
      data && typeof data === "object" && "message" in data && typeof data.message === "string"
        ? data.message
        : "";
    return new GitHubApiError(error.status, message, operation);
  }
  return new GitHubApiError(0, error instanceof Error ? error.message : String(error), operation);
}

async function call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw toApiError(error, operation);
  }
}

interface RawComment {
  id: number;
  html_url: string;
  body?: string | null;
  user?: { login?: string; type?: string } | null;
}

function comment(c: RawComment): IssueComment {
  return {
    id: c.id,
    url: c.html_url,
    body: c.body ?? "",
    userType: c.user?.type ?? "",
    login: c.user?.login ?? "",
  };
}

interface RawArtifact {
  id: number;
  name: string;
  created_at?: string | null;
  expired?: boolean;
  workflow_run?: { id?: number | null } | null;
}

function artifact(a: RawArtifact): RepoArtifact {
  return {
    id: a.id,
    name: a.name,
    createdAt: a.created_at ?? null,
    expired: Boolean(a.expired),
    workflowRunId: a.workflow_run?.id ?? null,
  };
}

export async function createGitHubClient(token: string): Promise<GitHubClient> {
  registerSecret(token);
  const github = await import("@actions/github");
  // No retry plugin: comment edits are throttled and re-sent with the next state anyway; the
  // artifact client retries its own listing calls.
  const octokit = github.getOctokit(token, { log: undefined });
  const { owner, repo } = github.context.repo;
  const base = { owner, repo };
  return {
    owner,
    repo,
    createComment: (issue, body) =>
      call(`create a comment on issue #${issue}`, async () => {
        const { data } = await octokit.rest.issues.createComment({ ...base, issue_number: issue, body });
        return { id: data.id, url: data.html_url };
      }),
    updateComment: (id, body) =>
      call(`edit comment ${id}`, async () => {
        const { data } = await octokit.rest.issues.updateComment({ ...base, comment_id: id, body });
        return { id: data.id, url: data.html_url };
      }),
    getComment: async (id) => {
      try {
        const { data } = await octokit.rest.issues.getComment({ ...base, comment_id: id });
        return comment(data);
      } catch (error) {
        const e = toApiError(error, `read comment ${id}`);
        if (e instanceof GitHubApiError && e.status === 404) return null;
        throw e;
      }
    },
    listComments: (issue, maxPages = 10) =>
      call(`list the comments of issue #${issue}`, async () => {
        const out: IssueComment[] = [];
        for (let page = 1; page <= maxPages; page++) {
          const { data } = await octokit.rest.issues.listComments({
            ...base,
            issue_number: issue,
            per_page: 100,
            page,
          });
          out.push(...data.map(comment));
          if (data.length < 100) break;
        }
        return out;
      }),
    addReaction: (commentId, content) =>
      call(`react to comment ${commentId}`, async () => {
        await octokit.rest.reactions.createForIssueComment({ ...base, comment_id: commentId, content });
      }),
    addLabels: (issue, labels) =>
      call(`label issue #${issue}`, async () => {
        await octokit.rest.issues.addLabels({ ...base, issue_number: issue, labels });
      }),
    removeLabel: async (issue, label) => {
      try {
        await octokit.rest.issues.removeLabel({ ...base, issue_number: issue, name: label });
      } catch (error) {
        const e = toApiError(error, `remove label ${label} from issue #${issue}`);
        // Not on the issue (any more): nothing to remove.
        if (e instanceof GitHubApiError && e.status === 404) return;
        throw e;
      }
    },
    permission: (username) =>
      call(`read ${username}'s permission on ${owner}/${repo}`, async () => {
        const { data } = await octokit.rest.repos.getCollaboratorPermissionLevel({ ...base, username });
        const flags = (data.user as { permissions?: CollaboratorPermission["flags"] } | null)?.permissions;
        return { permission: data.permission, roleName: data.role_name ?? null, flags: flags ?? null };
      }),
    listRepoArtifacts: (page) =>
      call(`list the artifacts of ${owner}/${repo}`, async () => {
        const { data } = await octokit.rest.actions.listArtifactsForRepo({ ...base, per_page: 100, page });
        return { total: data.total_count, artifacts: data.artifacts.map(artifact) };
      }),
    listRunArtifacts: (runId) =>
      call(`list the artifacts of workflow run ${runId}`, async () => {
        const out: RepoArtifact[] = [];
        for (let page = 1; page <= 10; page++) {
          const { data } = await octokit.rest.actions.listWorkflowRunArtifacts({
            ...base,
            run_id: runId,
            per_page: 100,
            page,
          });
          out.push(...data.artifacts.map(artifact));
          if (data.artifacts.length < 100) break;
        }
        return out;
      }),
  };
}
