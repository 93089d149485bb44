/**
 * Request dispatch for the API server: path matching (`/api` or `/api/v1.0`, any case), fault
 * injection, auth, quotas, the endpoint handler, the call record — and the blob download path.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Clock } from "../clock.js";
import { redact } from "../redact.js";
import * as api from "./api.js";
import type { Operation, TokenAuthority } from "./auth.js";
import { BLOB_PREFIX, sasResponseHeaders, sendResult, storageError } from "./blob.js";
import type { FaultInjector } from "./faults.js";
import type { RateLimiter } from "./limits.js";
import { calledOrigin, sendError, sendJson, sendNoContent } from "./respond.js";

interface Route {
  name: string;
  operation: Operation;
  submit?: boolean;
  handle(r: api.ApiRequest, state: api.ApiState, params: string[]): api.Reply | Promise<api.Reply>;
}

type Table = { method: string; pattern: RegExp; route: Route }[];

const ID = "([^/()]+)";
const TABLE: Table = [
  {
    method: "GET",
    pattern: /^\/machines\/findbytag$/i,
    route: { name: "findbytag", operation: "machines", handle: (r, s) => api.findByTag(r, s) },
  },
  {
    method: "GET",
    pattern: /^\/machines$/i,
    route: { name: "machines.list", operation: "machines", handle: (r, s) => api.listMachines(r, s) },
  },
  {
    method: "GET",
    pattern: new RegExp(`^/machines/${ID}$`, "i"),
    route: {
      name: "machines.get",
      operation: "machines",
      handle: (r, s, p) => api.getMachine(r, s, p[0] ?? ""),
    },
  },
  {
    method: "POST",
    pattern: new RegExp(`^/machines/${ID}/runliveresponse$`, "i"),
    route: {
      name: "runliveresponse",
      operation: "runLiveResponse",
      submit: true,
      handle: (r, s, p) => api.runLiveResponse(r, s, p[0] ?? ""),
    },
  },
  {
    method: "GET",
    pattern: /^\/machineactions$/i,
    route: { name: "machineactions.list", operation: "readActions", handle: (r, s) => api.listActions(r, s) },
  },
  {
    method: "GET",
    pattern: new RegExp(`^/machineactions/${ID}$`, "i"),
    route: {
      name: "machineactions.get",
      operation: "readActions",
      handle: (r, s, p) => api.getAction(r, s, p[0] ?? ""),
    },
  },
  {
    method: "POST",
    pattern: new RegExp(`^/machineactions/${ID}/cancel$`, "i"),
    route: {
      name: "machineactions.cancel",
      operation: "cancelAction",
      handle: (r, s, p) => api.cancelAction(r, s, p[0] ?? ""),
    },
  },
  {
    method: "GET",
    pattern: new RegExp(`^/machineactions/${ID}/GetLiveResponseResultDownloadLink\\(index=(\\d+)\\)$`, "i"),
    route: {
      name: "downloadlink",
      operation: "downloadLink",
      handle: (r, s, p) => api.downloadLink(r, s, p[0] ?? "", p[1] ?? ""),
    },
  },
  {
    method: "GET",
    pattern: /^\/libraryfiles$/i,
    route: { name: "libraryfiles.list", operation: "library", handle: (r, s) => api.listLibrary(r, s) },
  },
  {
    method: "POST",
    pattern: /^\/libraryfiles$/i,
    route: { name: "libraryfiles.upload", operation: "library", handle: (r, s) => api.uploadLibrary(r, s) },
  },
  {
    method: "DELETE",
    pattern: new RegExp(`^/libraryfiles/${ID}$`, "i"),
    route: {
      name: "libraryfiles.delete",
      operation: "library",
      handle: (r, s, p) => api.deleteLibrary(r, s, decodeURIComponent(p[0] ?? "")),
    },
  },
];

export interface RouterDeps {
  clock: Clock;
  state: api.ApiState;
  auth: TokenAuthority;
  limiter: RateLimiter;
  faults: FaultInjector;
}

function match(method: string, path: string): { route: Route; params: string[] } | "method" | undefined {
  let methodMismatch = false;
  for (const entry of TABLE) {
    const m = entry.pattern.exec(path);
    if (!m) continue;
    if (entry.method !== method && !(method === "HEAD" && entry.method === "GET")) {
      methodMismatch = true;
      continue;
    }
    return { route: entry.route, params: m.slice(1).map((p) => decodeURIComponent(p)) };
  }
  return methodMismatch ? "method" : undefined;
}

const API_PREFIX = /^\/api(?:\/v1\.0)?(\/.*)$/i;

export function createRouter(deps: RouterDeps): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    handle(deps, req, res).catch((error: unknown) => {
      if (!res.headersSent) sendError(res, 500, "InternalServerError", "An unexpected error occurred");
      else res.destroy();
      // The emulator's own bug: make it visible in the test output rather than swallow it.
      console.error(
        "mde emulator:",
        redact(error instanceof Error ? (error.stack ?? error.message) : String(error)),
      );
    });
  };
}

async function handle(deps: RouterDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? "/", "http://emulator.invalid");
  if (url.pathname.startsWith(BLOB_PREFIX)) return download(deps, req, res, url);
  const now = deps.clock.now();
  const { state } = deps;
  const method = req.method ?? "GET";
  const prefixed = API_PREFIX.exec(url.pathname);
  const found = prefixed?.[1] ? match(method, prefixed[1]) : undefined;
  const finish = (name: string, reply: api.Reply) => {
    state.records.call(now, method, name, url.pathname, reply.status);
    send(res, reply);
  };
  if (!found) {
    req.resume();
    return finish("unknown", api.fail(404, "ResourceNotFound", `No resource matches ${url.pathname}`));
  }
  if (found === "method") {
    req.resume();
    return finish(
      "unknown",
      api.fail(405, "BadRequest", `Method ${method} is not allowed on ${url.pathname}`),
    );
  }
  const { route, params } = found;

  const fault = deps.faults.forApiCall(now);
  if (fault.kind !== "none")
    state.records.add({ kind: "fault", at: now, fault: fault.kind, path: url.pathname });
  if (fault.kind === "resetBefore") {
    req.socket.destroy();
    return;
  }
  if (fault.kind === "throttle") {
    req.resume();
    const headers: Record<string, string> = fault.retryAfter
      ? { "Retry-After": String(Math.max(1, Math.ceil(fault.retryAfterMs / 1000))) }
      : {};
    return finish(route.name, api.fail(429, "TooManyRequests", "Rate limit is exceeded", headers));
  }
  if (fault.kind === "serverError") {
    req.resume();
    return finish(route.name, api.fail(500, "InternalServerError", "An unexpected error occurred"));
  }

  const auth = deps.auth.authorize(req.headers.authorization, route.operation, now);
  if (!auth.ok) {
    req.resume();
    return finish(
      route.name,
      api.fail(auth.status, auth.status === 401 ? "Unauthorized" : "Forbidden", auth.message),
    );
  }
  const wait = deps.limiter.check(auth.caller.appId, route.submit === true, now);
  if (wait > 0) {
    req.resume();
    return finish(
      route.name,
      api.fail(429, "TooManyRequests", "Rate limit is exceeded. Try again later", {
        "Retry-After": String(Math.max(1, Math.ceil(wait / 1000))),
      }),
    );
  }
  const reply = await route.handle(
    { req, url, caller: auth.caller, origin: calledOrigin(req) },
    state,
    params,
  );
  if (fault.kind === "resetAfter") {
    // The ambiguous case: the work happened (e.g. the action exists) but the caller never hears.
    state.records.call(now, method, route.name, url.pathname, 0);
    req.socket.destroy();
    return;
  }
  finish(route.name, reply);
}

function send(res: ServerResponse, reply: api.Reply): void {
  if (reply.error) sendError(res, reply.status, reply.error.code, reply.error.message, reply.headers);
  else if (reply.status === 204) sendNoContent(res);
  else sendJson(res, reply.status, reply.body ?? null, reply.headers);
}

async function download(
  deps: RouterDeps,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<void> {
  req.resume();
  const now = deps.clock.now();
  const verdict = deps.state.links.verify(url.pathname, url.searchParams, now);
  if (verdict === "invalid" || verdict === "expired") {
    const detail = verdict === "expired" ? "Signed expiry time has passed" : "Signature did not match";
    return storageError(
      res,
      403,
      "AuthenticationFailed",
      `Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly including the signature. (${detail})`,
    );
  }
  const action = deps.state.actions.get(verdict.actionId);
  const result = action ? deps.state.actions.commandResult(action, verdict.index, now) : undefined;
  if (!result?.result) return storageError(res, 404, "BlobNotFound", "The specified blob does not exist.");
  const faults = deps.faults.forDownload();
  if (faults.truncate)
    deps.state.records.add({ kind: "fault", at: now, fault: "truncatedBody", path: url.pathname });
  if (faults.slow) deps.state.records.add({ kind: "fault", at: now, fault: "slowBody", path: url.pathname });
  await sendResult(req, res, result.result, {
    headers: sasResponseHeaders(url.searchParams),
    truncate: faults.truncate,
    slowDelayMs: faults.slow ? deps.faults.slowChunkDelayMs : 0,
    clock: deps.clock,
    records: deps.state.records,
    target: verdict,
  });
}
