/**
 * A fake of the GitHub REST API on loopback, for the real `@actions/github` client (GITHUB_API_URL
 * points here). It implements exactly the endpoints the action uses, with GitHub's response shapes
 * (docs.github.com/rest: issue comments, reactions, labels, collaborator permission, Actions artifacts)
 * and its error bodies (403 "Resource not accessible by integration" for a token without the scope,
 * 401 "Bad credentials", 404 "Not Found", 422 for a body over 65,536 characters), and records every
 * request so tests (and the secret harness) can read every comment body it was sent.
 *
 * Artifacts are the ones the results-service fake stored (Azurite): listing maps their runtime-token
 * run scope `run-<id>` to workflow run `<id>`, and a download answers 302 to a read SAS of the zip, as
 * GitHub redirects to blob storage.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { ResultsService } from "./results-service.js";

export type Role = "admin" | "maintain" | "write" | "triage" | "read" | "none";

export interface TokenGrant {
  issues: "write" | "read" | "none";
  actions: "read" | "none";
}

export interface FakeComment {
  id: number;
  issue: number;
  body: string;
  login: string;
  type: "Bot" | "User";
  /** Every body this comment had, oldest first. */
  history: string[];
  createdAt: string;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  status: number;
  body: unknown;
  authorization: string;
}

export interface FakeGitHub {
  url: string;
  owner: string;
  repo: string;
  requests: RecordedRequest[];
  comments: FakeComment[];
  reactions: { commentId: number; content: string; login: string }[];
  labels: Map<number, Set<string>>;
  /** Every comment body ever sent (creates and edits), for secret scans. */
  allBodies(): string[];
  /** A comment by a person (as if typed on the issue); returns its id. */
  addUserComment(issue: number, login: string, body: string, type?: "Bot" | "User"): FakeComment;
  close(): Promise<void>;
}

export interface FakeGitHubOptions {
  owner?: string;
  repo?: string;
  issues?: number[];
  /** Role per login on the repository (`role_name`); anyone else is `none`. */
  roles?: Record<string, Role>;
  /** Token → what it may do. */
  tokens: Record<string, TokenGrant>;
  results?: ResultsService;
  /** Artifacts of runs the results fake did not see (old runs), newest first. */
  extraArtifacts?: {
    id: number;
    name: string;
    createdAt: string;
    workflowRunId: number;
    expired?: boolean;
  }[];
}

const DOCS = "https://docs.github.com/rest";
const PERMISSION_OF: Record<Role, string> = {
  admin: "admin",
  maintain: "write",
  write: "write",
  triage: "read",
  read: "read",
  none: "none",
};

function user(login: string, type: "Bot" | "User", id: number) {
  return {
    login,
    id,
    node_id: `U_${id}`,
    avatar_url: `https://avatars.githubusercontent.com/u/${id}?v=4`,
    url: `https://api.github.com/users/${login}`,
    html_url: `https://github.com/${login}`,
    type,
    site_admin: false,
  };
}

export async function startFakeGitHub(options: FakeGitHubOptions): Promise<FakeGitHub> {
  const owner = options.owner ?? "contoso";
  const repo = options.repo ?? "ir-runbooks";
  const issues = new Set(options.issues ?? [7]);
  const roles = options.roles ?? {};
  const requests: RecordedRequest[] = [];
  const comments: FakeComment[] = [];
  const reactions: FakeGitHub["reactions"] = [];
  const labels = new Map<number, Set<string>>();
  let nextId = 900_000;
  let url = "";

  const commentJson = (c: FakeComment) => ({
    id: c.id,
    node_id: `IC_${c.id}`,
    url: `${url}/repos/${owner}/${repo}/issues/comments/${c.id}`,
    html_url: `http://github.localhost/${owner}/${repo}/issues/${c.issue}#issuecomment-${c.id}`,
    issue_url: `${url}/repos/${owner}/${repo}/issues/${c.issue}`,
    body: c.body,
    user: user(c.login, c.type, c.type === "Bot" ? 41898282 : 1000 + (c.login.length % 100)),
    created_at: c.createdAt,
    updated_at: new Date().toISOString(),
    author_association: c.type === "Bot" ? "NONE" : "MEMBER",
  });

  const artifactJson = (a: {
    id: number;
    name: string;
    createdAt: string;
    workflowRunId: number;
    expired?: boolean;
    size?: number;
  }) => ({
    id: a.id,
    node_id: `MDg6QXJ0aWZhY3Qx${a.id}`,
    name: a.name,
    size_in_bytes: a.size ?? 0,
    url: `${url}/repos/${owner}/${repo}/actions/artifacts/${a.id}`,
    archive_download_url: `${url}/repos/${owner}/${repo}/actions/artifacts/${a.id}/zip`,
    expired: Boolean(a.expired),
    digest: null,
    created_at: a.createdAt,
    updated_at: a.createdAt,
    expires_at: new Date(Date.parse(a.createdAt) + 7 * 86_400_000).toISOString(),
    workflow_run: {
      id: a.workflowRunId,
      repository_id: 1,
      head_repository_id: 1,
      head_branch: "main",
      head_sha: "0".repeat(40),
    },
  });

  const allArtifacts = () => {
    const fromResults = (options.results?.artifacts ?? [])
      .filter((a) => a.finalized)
      .map((a) => ({
        id: a.id,
        name: a.name,
        size: a.size,
        createdAt: a.createdAt ?? new Date().toISOString(),
        workflowRunId: Number(/^run-(\d+)$/.exec(a.runBackendId)?.[1] ?? 1),
      }));
    // Newest first, as GitHub lists them.
    return [...fromResults, ...(options.extraArtifacts ?? [])].sort(
      (x, y) => Date.parse(y.createdAt) - Date.parse(x.createdAt) || y.id - x.id,
    );
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const u = new URL(req.url ?? "/", "http://x");
    const query = Object.fromEntries(u.searchParams);
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString("utf8");
    let body: unknown = null;
    try {
      body = raw ? JSON.parse(raw) : null;
    } catch {
      body = raw;
    }
    const authorization = String(req.headers.authorization ?? "");
    const record: RecordedRequest = {
      method: req.method ?? "",
      path: u.pathname,
      query,
      status: 0,
      body,
      authorization,
    };
    requests.push(record);
    const send = (status: number, data: unknown, headers: Record<string, string> = {}) => {
      record.status = status;
      res.writeHead(status, { "content-type": "application/json; charset=utf-8", ...headers });
      res.end(data === undefined ? "" : JSON.stringify(data));
    };
    const token = /^(?:token|bearer) (.+)$/i.exec(authorization)?.[1] ?? "";
    const grant = options.tokens[token];
    if (!grant) return send(401, { message: "Bad credentials", documentation_url: DOCS, status: "401" });
    const forbidden = (doc: string) =>
      send(403, {
        message: "Resource not accessible by integration",
        documentation_url: `${DOCS}/${doc}`,
        status: "403",
      });
    const notFound = (doc: string) =>
      send(404, { message: "Not Found", documentation_url: `${DOCS}/${doc}`, status: "404" });

    const base = `/repos/${owner}/${repo}`;
    if (!u.pathname.startsWith(`${base}/`)) return notFound("repos/repos#get-a-repository");
    const p = u.pathname.slice(base.length);
    const method = req.method;
    let hit: RegExpExecArray | null = null;
    const route = (re: RegExp): boolean => {
      hit = re.exec(p);
      return hit !== null;
    };
    const g = (i: number): string => (hit as RegExpExecArray | null)?.[i] ?? "";
    const page = Math.max(1, Number(query["page"] ?? 1));
    const perPage = Math.min(100, Math.max(1, Number(query["per_page"] ?? 30)));

    if (route(/^\/issues\/(\d+)\/comments$/)) {
      const issue = Number(g(1));
      const doc =
        method === "POST" ? "issues/comments#create-an-issue-comment" : "issues/comments#list-issue-comments";
      if (grant.issues === "none") return forbidden(doc);
      if (!issues.has(issue)) return notFound(doc);
      if (method === "GET") {
        const all = comments.filter((c) => c.issue === issue);
        return send(200, all.slice((page - 1) * perPage, page * perPage).map(commentJson));
      }
      if (method === "POST") {
        if (grant.issues !== "write") return forbidden(doc);
        const text = String((body as { body?: unknown })?.body ?? "");
        if (text.length > 65_536) {
          return send(422, {
            message: "Validation Failed",
            errors: [
              {
                resource: "IssueComment",
                code: "custom",
                field: "body",
                message: "body is too long (maximum is 65536 characters)",
              },
            ],
            documentation_url: `${DOCS}/${doc}`,
            status: "422",
          });
        }
        const c: FakeComment = {
          id: nextId++,
          issue,
          body: text,
          login: "github-actions[bot]",
          type: "Bot",
          history: [text],
          createdAt: new Date().toISOString(),
        };
        comments.push(c);
        return send(201, commentJson(c), { location: `${url}${base}/issues/comments/${c.id}` });
      }
    }
    if (route(/^\/issues\/comments\/(\d+)$/)) {
      const c = comments.find((x) => x.id === Number(g(1)));
      const doc =
        method === "PATCH"
          ? "issues/comments#update-an-issue-comment"
          : "issues/comments#get-an-issue-comment";
      if (grant.issues === "none") return forbidden(doc);
      if (!c) return notFound(doc);
      if (method === "GET") return send(200, commentJson(c));
      if (method === "PATCH") {
        if (grant.issues !== "write") return forbidden(doc);
        const text = String((body as { body?: unknown })?.body ?? "");
        if (text.length > 65_536) {
          return send(422, {
            message: "Validation Failed",
            documentation_url: `${DOCS}/${doc}`,
            status: "422",
          });
        }
        c.body = text;
        c.history.push(text);
        return send(200, commentJson(c));
      }
    }
    if (route(/^\/issues\/comments\/(\d+)\/reactions$/) && method === "POST") {
      const doc = "reactions/reactions#create-reaction-for-an-issue-comment";
      if (grant.issues !== "write") return forbidden(doc);
      const c = comments.find((x) => x.id === Number(g(1)));
      if (!c) return notFound(doc);
      const content = String((body as { content?: unknown })?.content ?? "");
      if (!["+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes"].includes(content)) {
        return send(422, {
          message: "Validation Failed",
          documentation_url: `${DOCS}/${doc}`,
          status: "422",
        });
      }
      const existing = reactions.find((r) => r.commentId === c.id && r.content === content);
      if (!existing) reactions.push({ commentId: c.id, content, login: "github-actions[bot]" });
      return send(existing ? 200 : 201, {
        id: reactions.length,
        node_id: `REA_${reactions.length}`,
        user: user("github-actions[bot]", "Bot", 41898282),
        content,
        created_at: new Date().toISOString(),
      });
    }
    if (route(/^\/issues\/(\d+)\/labels$/) && method === "POST") {
      const doc = "issues/labels#add-labels-to-an-issue";
      if (grant.issues !== "write") return forbidden(doc);
      const issue = Number(g(1));
      if (!issues.has(issue)) return notFound(doc);
      const set = labels.get(issue) ?? new Set<string>();
      for (const l of ((body as { labels?: unknown[] })?.labels ?? []).map(String)) set.add(l);
      labels.set(issue, set);
      return send(
        200,
        [...set].map((name, i) => ({
          id: i + 1,
          node_id: `LA_${i}`,
          url: "",
          name,
          color: "ededed",
          default: false,
          description: null,
        })),
      );
    }
    if (route(/^\/issues\/(\d+)\/labels\/([^/]+)$/) && method === "DELETE") {
      const doc = "issues/labels#remove-a-label-from-an-issue";
      if (grant.issues !== "write") return forbidden(doc);
      const set = labels.get(Number(g(1)));
      const name = decodeURIComponent(g(2) ?? "");
      if (!set?.has(name))
        return send(404, {
          message: "Label does not exist",
          documentation_url: `${DOCS}/${doc}`,
          status: "404",
        });
      set.delete(name);
      return send(
        200,
        [...set].map((n, i) => ({ id: i + 1, name: n, color: "ededed", default: false, description: null })),
      );
    }
    if (route(/^\/collaborators\/([^/]+)\/permission$/) && method === "GET") {
      const login = decodeURIComponent(g(1) ?? "");
      const role = roles[login] ?? "none";
      const rank = ["none", "read", "triage", "write", "maintain", "admin"].indexOf(role);
      return send(200, {
        permission: PERMISSION_OF[role],
        role_name: role === "none" ? "none" : role,
        user: {
          ...user(login, "User", 2000 + login.length),
          permissions: {
            admin: rank >= 5,
            maintain: rank >= 4,
            push: rank >= 3,
            triage: rank >= 2,
            pull: rank >= 1,
          },
          role_name: role,
        },
      });
    }
    if (p === "/actions/artifacts" && method === "GET") {
      if (grant.actions === "none") return forbidden("actions/artifacts#list-artifacts-for-a-repository");
      const all = allArtifacts().filter((a) => !query["name"] || a.name === query["name"]);
      return send(200, {
        total_count: all.length,
        artifacts: all.slice((page - 1) * perPage, page * perPage).map(artifactJson),
      });
    }
    if (route(/^\/actions\/runs\/(\d+)\/artifacts$/) && method === "GET") {
      if (grant.actions === "none") return forbidden("actions/artifacts#list-workflow-run-artifacts");
      const runId = Number(g(1));
      const all = allArtifacts().filter(
        (a) => a.workflowRunId === runId && (!query["name"] || a.name === query["name"]),
      );
      return send(200, {
        total_count: all.length,
        artifacts: all.slice((page - 1) * perPage, page * perPage).map(artifactJson),
      });
    }
    if (route(/^\/actions\/artifacts\/(\d+)\/zip$/) && method === "GET") {
      if (grant.actions === "none") return forbidden("actions/artifacts#download-an-artifact");
      const location = options.results?.signedDownloadUrl(Number(g(1)));
      if (!location) return notFound("actions/artifacts#download-an-artifact");
      record.status = 302;
      res.writeHead(302, { location, "content-length": "0" });
      return res.end();
    }
    return notFound("");
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ message: String(error) }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    owner,
    repo,
    requests,
    comments,
    reactions,
    labels,
    allBodies: () => comments.flatMap((c) => c.history),
    addUserComment(issue, login, body, type = "User") {
      const c: FakeComment = {
        id: nextId++,
        issue,
        body,
        login,
        type,
        history: [body],
        createdAt: new Date().toISOString(),
      };
      comments.push(c);
      return c;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A real-shaped `issue_comment` (created) event payload, as the runner writes to GITHUB_EVENT_PATH. */
export function issueCommentEvent(options: {
  owner?: string;
  repo?: string;
  issue: number;
  comment: { id: number; body: string; login: string; type?: "User" | "Bot" };
  action?: "created" | "edited" | "deleted";
  pullRequest?: boolean;
}): Record<string, unknown> {
  const owner = options.owner ?? "contoso";
  const repo = options.repo ?? "ir-runbooks";
  const sender = user(options.comment.login, options.comment.type ?? "User", 3000);
  return {
    action: options.action ?? "created",
    issue: {
      number: options.issue,
      title: "Incident 2026-11-23: suspicious PowerShell on ws1",
      state: "open",
      user: sender,
      labels: [],
      html_url: `http://github.localhost/${owner}/${repo}/issues/${options.issue}`,
      ...(options.pullRequest
        ? { pull_request: { url: `https://api.github.com/repos/${owner}/${repo}/pulls/${options.issue}` } }
        : {}),
    },
    comment: {
      id: options.comment.id,
      node_id: `IC_${options.comment.id}`,
      body: options.comment.body,
      user: sender,
      html_url: `http://github.localhost/${owner}/${repo}/issues/${options.issue}#issuecomment-${options.comment.id}`,
      created_at: new Date().toISOString(),
      author_association: "MEMBER",
    },
    repository: {
      id: 1,
      name: repo,
      full_name: `${owner}/${repo}`,
      owner: { login: owner, type: "Organization" },
      private: true,
    },
    sender,
  };
}

/** A real-shaped `issues` (opened) event payload. */
export function issuesEvent(issue: number, login = "responder"): Record<string, unknown> {
  const sender = user(login, "User", 3001);
  return {
    action: "opened",
    issue: { number: issue, title: "Incident", state: "open", user: sender, labels: [] },
    repository: {
      id: 1,
      name: "ir-runbooks",
      full_name: "contoso/ir-runbooks",
      owner: { login: "contoso", type: "Organization" },
    },
    sender,
  };
}
