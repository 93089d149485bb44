/**
 * The MDE API endpoints (mde-api.md §4) as pure handlers: each returns a `Reply` and the dispatcher
 * (router.ts) sends it, which lets fault injection drop the connection after the work was done.
 */
import type { IncomingMessage } from "node:http";
import type { Caller } from "./auth.js";
import type { LinkSigner } from "./blob.js";
import type { Library } from "./library.js";
import { libraryEntity, parseUpload } from "./library.js";
import type { ActionStore, SubmittedCommand } from "./lifecycle.js";
import { checkPrerequisites, type Device } from "./machines.js";
import { applyListQuery, ODataQueryError, parseListQuery } from "./odata.js";
import type { Prng } from "./prng.js";
import type { RecordLog } from "./records.js";
import { calledOrigin, readBody } from "./respond.js";
import type { Stamp } from "./time.js";
import type { EmulatorLimits, ServiceBehaviour } from "./types.js";

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Error replies: code + message, rendered as the MDE error body. */
  error?: { code: string; message: string };
}

export interface ApiState {
  now(): number;
  limits(): EmulatorLimits;
  records: RecordLog;
  actions: ActionStore;
  library: Library;
  devices: Map<string, Device>;
  deviceList(): Device[];
  links: LinkSigner;
  /** Base URL download links point at (the emulator's own loopback address). */
  blobBaseUrl(): string;
  otherActions(): Record<string, unknown>[];
  behaviour(): ServiceBehaviour;
  /** Seeded draws for the behaviours (duplicate answered with the existing action). */
  rng: Prng;
  stamp(): Stamp;
}

export interface ApiRequest {
  req: IncomingMessage;
  url: URL;
  caller: Caller;
  origin: string;
}

export const fail = (
  status: number,
  code: string,
  message: string,
  headers?: Record<string, string>,
): Reply => ({
  status,
  error: { code, message },
  ...(headers ? { headers } : {}),
});

const context = (r: ApiRequest, what: string) => `${r.origin}/api/$metadata#${what}`;

/**
 * `shown` maps a row as filtered (every property present) to the row as answered: a machine whose
 * entity leaves a field out still matches `healthStatus eq null` and is not an OData error.
 */
function listReply<T extends Record<string, unknown>>(
  r: ApiRequest,
  state: ApiState,
  rows: readonly T[],
  what: string,
  shown: (row: T) => Record<string, unknown> = (row) => row,
): Reply {
  let query: ReturnType<typeof parseListQuery>;
  try {
    query = parseListQuery(r.url.searchParams);
    const page = applyListQuery(rows, query, state.limits().pageSize);
    const body: Record<string, unknown> = {
      "@odata.context": context(r, what),
      value: page.items.map(shown),
    };
    if (page.nextQuery) body["@odata.nextLink"] = `${r.origin}${r.url.pathname}?${page.nextQuery}`;
    return { status: 200, body };
  } catch (error) {
    if (error instanceof ODataQueryError) return fail(400, "ODataError", error.message);
    throw error;
  }
}

export function findDevice(state: ApiState, idOrName: string): Device | undefined {
  const byId = state.devices.get(idOrName.toLowerCase());
  if (byId) return byId;
  const lower = idOrName.toLowerCase();
  return state.deviceList().find((d) => d.spec.computerDnsName.toLowerCase() === lower);
}

export function listMachines(r: ApiRequest, state: ApiState): Reply {
  const byView = new Map<Record<string, unknown>, Record<string, unknown>>();
  for (const d of state.deviceList()) byView.set(d.view, d.entity);
  return listReply(r, state, [...byView.keys()], "Machines", (view) => byView.get(view) ?? view);
}

export function getMachine(r: ApiRequest, state: ApiState, id: string): Reply {
  const device = findDevice(state, id);
  if (!device) return fail(404, "ResourceNotFound", `Machine ${id} was not found`);
  return { status: 200, body: { "@odata.context": context(r, "Machines/$entity"), ...device.entity } };
}

export function findByTag(r: ApiRequest, state: ApiState): Reply {
  const tag = r.url.searchParams.get("tag");
  if (!tag) return fail(400, "MissingRequiredParameter", "Query parameter 'tag' is required");
  const startsWith = /^true$/i.test(r.url.searchParams.get("useStartsWithFilter") ?? "false");
  const t = tag.toLowerCase();
  const rows = state
    .deviceList()
    .filter((d) =>
      (d.spec.machineTags ?? []).some((x) =>
        startsWith ? x.toLowerCase().startsWith(t) : x.toLowerCase() === t,
      ),
    )
    .map((d) => d.entity);
  return { status: 200, body: { "@odata.context": context(r, "Machines"), value: rows } };
}

const COMMAND_ORDER: Record<string, number> = { PutFile: 0, RunScript: 1, GetFile: 2 };
const REQUIRED_PARAM: Record<string, string> = {
  PutFile: "FileName",
  RunScript: "ScriptName",
  GetFile: "Path",
};

type Parsed =
  | { ok: true; commands: SubmittedCommand[]; comment: string | null }
  | { ok: false; reply: Reply };

/**
 * Body validation (§3, §7.4, §7.11). Keys are case-sensitive: `commands` instead of `Commands` is a
 * missing required parameter. Wrong command order → 400 InvalidRequestBody (§8.7: code undocumented).
 */
export function parseLiveResponseBody(raw: Buffer): Parsed {
  let body: unknown;
  try {
    body = JSON.parse(raw.toString("utf8"));
  } catch {
    return { ok: false, reply: fail(400, "InvalidRequestBody", "Request body is not valid JSON") };
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return { ok: false, reply: fail(400, "InvalidRequestBody", "Request body must be a JSON object") };
  }
  const record = body as Record<string, unknown>;
  if (!("Commands" in record)) {
    return { ok: false, reply: fail(400, "MissingRequiredParameter", "Commands is a required parameter") };
  }
  const list = record.Commands;
  if (!Array.isArray(list) || list.length === 0) {
    return { ok: false, reply: fail(400, "InvalidRequestBody", "Commands must be a non-empty array") };
  }
  const comment = record.Comment;
  if (comment !== undefined && comment !== null && typeof comment !== "string") {
    return { ok: false, reply: fail(400, "InvalidRequestBody", "Comment must be a string") };
  }
  const commands: SubmittedCommand[] = [];
  let lastOrder = 0;
  for (const [i, item] of list.entries()) {
    if (typeof item !== "object" || item === null || !("type" in item) || !("params" in item)) {
      return {
        ok: false,
        reply: fail(
          400,
          "InvalidRequestBody",
          `Commands[${i}] must have 'type' and 'params' (keys are case-sensitive)`,
        ),
      };
    }
    const { type, params } = item as { type: unknown; params: unknown };
    if (typeof type !== "string" || !(type in COMMAND_ORDER)) {
      return {
        ok: false,
        reply: fail(
          400,
          "InvalidRequestBody",
          `Commands[${i}].type '${String(type)}' is not PutFile, RunScript or GetFile`,
        ),
      };
    }
    if (!Array.isArray(params)) {
      return { ok: false, reply: fail(400, "InvalidRequestBody", `Commands[${i}].params must be an array`) };
    }
    const parsedParams: { key: string; value: string }[] = [];
    for (const p of params) {
      if (typeof p !== "object" || p === null || !("key" in p) || !("value" in p)) {
        return {
          ok: false,
          reply: fail(
            400,
            "InvalidRequestBody",
            `Commands[${i}].params entries need 'key' and 'value' (case-sensitive)`,
          ),
        };
      }
      const { key, value } = p as { key: unknown; value: unknown };
      if (typeof key !== "string" || typeof value !== "string") {
        return {
          ok: false,
          reply: fail(400, "InvalidRequestBody", `Commands[${i}].params key/value must be strings`),
        };
      }
      parsedParams.push({ key, value });
    }
    const needed = REQUIRED_PARAM[type] ?? "";
    if (!parsedParams.some((p) => p.key === needed && p.value !== "")) {
      return {
        ok: false,
        reply: fail(
          400,
          "MissingRequiredParameter",
          `Commands[${i}] (${type}) requires the parameter ${needed}`,
        ),
      };
    }
    const order = COMMAND_ORDER[type] ?? 0;
    if (order < lastOrder) {
      return {
        ok: false,
        reply: fail(
          400,
          "InvalidRequestBody",
          "Commands must be ordered PutFile, then RunScript, then GetFile",
        ),
      };
    }
    lastOrder = order;
    commands.push({ type: type as SubmittedCommand["type"], params: parsedParams });
  }
  return { ok: true, commands, comment: typeof comment === "string" ? comment : null };
}

export async function runLiveResponse(r: ApiRequest, state: ApiState, machineId: string): Promise<Reply> {
  const now = state.now();
  const reject = (reply: Reply): Reply => {
    state.records.add({
      kind: "rejected",
      at: now,
      machineId,
      status: reply.status,
      code: reply.error?.code ?? "",
    });
    return reply;
  };
  const raw = await readBody(r.req, 1_048_576);
  const device = state.devices.get(machineId.toLowerCase());
  if (!device) return reject(fail(404, "ResourceNotFound", `Machine ${machineId} was not found`));
  if (!raw) return reject(fail(400, "InvalidRequestBody", "Request body is too large"));
  const parsed = parseLiveResponseBody(raw);
  if (!parsed.ok) return reject(parsed.reply);
  const prerequisite = checkPrerequisites(device);
  if (prerequisite) return reject(fail(prerequisite.status, prerequisite.code, prerequisite.message));
  const behaviour = state.behaviour();
  // §7.17: R1 shows a PutFile naming a non-library file accepted (Pending) and failing later, so by
  // default the command fails when it runs (lifecycle.ts). `refuseAtSubmission` keeps the older choice.
  for (const command of parsed.commands) {
    if (command.type === "GetFile" || behaviour.missingLibraryFile !== "refuseAtSubmission") continue;
    const name = command.params.find(
      (p) => p.key === (command.type === "PutFile" ? "FileName" : "ScriptName"),
    )?.value;
    if (name !== undefined && !state.library.get(name)) {
      return reject(
        fail(
          400,
          "InvalidInput",
          `File '${name}' was not found in the live response library; upload it first`,
        ),
      );
    }
  }
  const busyUntil = device.spec.busyUntil;
  const existing = state.actions.activeOn(device.id, now);
  if (existing) {
    // docs #5907 (another action type): the service sometimes answered a duplicate with the existing
    // pending action. The draw happens on every duplicate, so the rate means "share of duplicates".
    const dup = behaviour.duplicateReturnsExisting;
    if (state.rng.chance(dup.rate)) {
      state.records.add({
        kind: "duplicate",
        at: now,
        machineId: device.id,
        actionId: existing.id,
        status: dup.status,
      });
      return {
        status: dup.status,
        body: {
          "@odata.context": context(r, "MachineActions/$entity"),
          ...state.actions.entity(existing, now),
        },
      };
    }
  }
  if ((busyUntil !== undefined && busyUntil > now) || existing) {
    return reject(fail(400, "ActiveRequestAlreadyExists", "Action is already in progress"));
  }
  const limits = state.limits();
  if (state.actions.activeActions(now).length >= limits.concurrentSessions) {
    const wait = state.actions.soonestEnd(now) ?? 60_000;
    return reject(
      fail(
        429,
        "TooManyRequests",
        `The number of concurrent live response sessions (${limits.concurrentSessions}) has been reached`,
        { "Retry-After": String(Math.max(1, Math.ceil(wait / 1000))) },
      ),
    );
  }
  const action = state.actions.submit(device, parsed.commands, parsed.comment, r.caller.appId, now);
  return {
    status: 201,
    body: { "@odata.context": context(r, "MachineActions/$entity"), ...state.actions.entity(action, now) },
  };
}

export function getAction(r: ApiRequest, state: ApiState, id: string): Reply {
  const action = state.actions.get(id);
  if (action) {
    return {
      status: 200,
      body: {
        "@odata.context": context(r, "MachineActions/$entity"),
        ...state.actions.entity(action, state.now()),
      },
    };
  }
  const other = state.otherActions().find((a) => a.id === id.toLowerCase());
  if (other)
    return { status: 200, body: { "@odata.context": context(r, "MachineActions/$entity"), ...other } };
  return fail(404, "ResourceNotFound", `Machine action ${id} was not found`);
}

export function listActions(r: ApiRequest, state: ApiState): Reply {
  const now = state.now();
  const rows = [...state.otherActions(), ...state.actions.all().map((a) => state.actions.entity(a, now))];
  return listReply(r, state, rows, "MachineActions");
}

export async function cancelAction(r: ApiRequest, state: ApiState, id: string): Promise<Reply> {
  const raw = (await readBody(r.req, 65_536)) ?? Buffer.alloc(0);
  const action = state.actions.get(id);
  if (!action) return fail(404, "ResourceNotFound", `Machine action ${id} was not found`);
  let comment: unknown;
  try {
    comment = (JSON.parse(raw.toString("utf8") || "{}") as Record<string, unknown>).Comment;
  } catch {
    return fail(400, "InvalidRequestBody", "Request body is not valid JSON");
  }
  if (typeof comment !== "string")
    return fail(400, "MissingRequiredParameter", "Comment is a required parameter");
  const now = state.now();
  const status = state.actions.status(action, now);
  if (state.actions.isFinal(action, now)) {
    return fail(
      400,
      "BadRequest",
      `Machine action ${action.id} is already in a final state (${status}) and cannot be cancelled`,
    );
  }
  state.actions.cancel(action, r.caller.appId, comment, now);
  return {
    status: 200,
    body: { "@odata.context": context(r, "MachineActions/$entity"), ...state.actions.entity(action, now) },
  };
}

export function downloadLink(r: ApiRequest, state: ApiState, id: string, indexText: string): Reply {
  const action = state.actions.get(id);
  if (!action) return fail(404, "ResourceNotFound", `Machine action ${id} was not found`);
  const now = state.now();
  const index = Number(indexText);
  const result = state.actions.commandResult(action, index, now);
  switch (result.state) {
    case "missing":
      return fail(400, "InvalidInput", `Machine action ${action.id} has no command with index ${indexText}`);
    case "pending":
      return fail(400, "BadRequest", `Command ${index} of machine action ${action.id} has not completed yet`);
    case "failed":
      return fail(
        400,
        "BadRequest",
        `Command ${index} of machine action ${action.id} failed and has no result`,
      );
    case "none":
      // §8.14 undocumented: a PutFile produces no result, so there is nothing to link to.
      return fail(
        400,
        "BadRequest",
        `Command ${index} of machine action ${action.id} (PutFile) has no result`,
      );
  }
  const url = state.links.create(
    state.blobBaseUrl(),
    { actionId: action.id, index },
    {
      issuedAt: now,
      expiresAt: now + state.limits().linkValidityMs,
      style: state.behaviour().linkStyle,
      extension: result.result?.kind === "file" ? "gz" : "json",
    },
  );
  state.records.add({ kind: "link", at: now, actionId: action.id, index });
  return { status: 200, body: { "@odata.context": context(r, "Edm.String"), value: url } };
}

export function listLibrary(r: ApiRequest, state: ApiState): Reply {
  const stamp = state.stamp();
  const sha256 = state.behaviour().librarySha256;
  return listReply(
    r,
    state,
    state.library.list().map((e) => libraryEntity(e, stamp, sha256)),
    "LibraryFiles",
  );
}

export async function uploadLibrary(r: ApiRequest, state: ApiState): Promise<Reply> {
  const max = state.limits().libraryMaxBytes;
  // Multipart overhead on top of the file itself; anything beyond that cannot be a valid upload.
  const raw = await readBody(r.req, max + 1_048_576);
  const tooBig = () =>
    fail(
      400,
      "BadRequest",
      `File size exceeds the live response library limit of ${Math.round(max / 1_048_576)} MB`,
    );
  if (!raw) return tooBig();
  const parsed = await parseUpload(r.req.headers["content-type"] ?? "", raw);
  if (!parsed.ok) return fail(400, parsed.code, parsed.message);
  if (parsed.content.length > max) return tooBig();
  if (state.library.get(parsed.fileName) && !parsed.overrideIfExists) {
    return fail(
      400,
      "BadRequest",
      `A file named ${parsed.fileName} already exists in the library; set OverrideIfExists to true to replace it`,
    );
  }
  const entry = state.library.put(
    {
      fileName: parsed.fileName,
      content: parsed.content,
      description: parsed.description,
      parametersDescription: parsed.parametersDescription,
      hasParameters: parsed.hasParameters,
      createdBy: r.caller.appId,
    },
    state.now(),
  );
  return {
    status: 200,
    body: {
      "@odata.context": context(r, "LibraryFiles/$entity"),
      ...libraryEntity(entry, state.stamp(), state.behaviour().librarySha256),
    },
  };
}

export function deleteLibrary(_r: ApiRequest, state: ApiState, name: string): Reply {
  if (!state.library.delete(name)) return fail(404, "ResourceNotFound", `Library file ${name} was not found`);
  return { status: 204 };
}

export { calledOrigin };
