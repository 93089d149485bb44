/** Input checks run before any call, so bad input fails fast with the parameter named. */
import { InputError } from "../errors.js";
import type { CommandType, LiveResponseRequest, ODataQuery } from "./types.js";

const MACHINE_ID = /^[0-9a-f]{40}$/i;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const LIBRARY_NAME = /^[A-Za-z0-9._-]+$/;
export const MAX_TOP = 10_000;

/** Returns the id lower-cased (the service's form). */
export function checkMachineId(value: unknown, field = "machineId"): string {
  if (typeof value !== "string" || !MACHINE_ID.test(value)) {
    throw new InputError(field, `expected a machine id of 40 hex characters, got ${describe(value)}`);
  }
  return value.toLowerCase();
}

export function checkActionId(value: unknown, field = "actionId"): string {
  if (typeof value !== "string" || !GUID.test(value)) {
    throw new InputError(
      field,
      `expected a machine action id GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx), got ${describe(value)}`,
    );
  }
  return value.toLowerCase();
}

export function checkLibraryFileName(value: unknown, field = "fileName"): string {
  if (typeof value !== "string" || value === "" || !LIBRARY_NAME.test(value) || /^\.+$/.test(value)) {
    throw new InputError(
      field,
      `library file names may contain only letters, digits, ".", "_" and "-", got ${describe(value)}`,
    );
  }
  return value;
}

export function checkIndex(value: unknown, field = "commandIndex"): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
    throw new InputError(field, `expected an integer ≥ 0, got ${describe(value)}`);
  }
  return value;
}

export function checkQuery(query: ODataQuery | undefined, field = "query"): void {
  if (!query) return;
  if (query.top !== undefined && (!Number.isInteger(query.top) || query.top < 1 || query.top > MAX_TOP)) {
    throw new InputError(
      `${field}.top`,
      `expected an integer from 1 to ${MAX_TOP}, got ${describe(query.top)}`,
    );
  }
  if (query.skip !== undefined && (!Number.isInteger(query.skip) || query.skip < 0)) {
    throw new InputError(`${field}.skip`, `expected an integer ≥ 0, got ${describe(query.skip)}`);
  }
}

const ORDER: Record<CommandType, number> = { PutFile: 0, RunScript: 1, GetFile: 2 };
const REQUIRED_PARAM: Record<CommandType, string> = {
  PutFile: "FileName",
  RunScript: "ScriptName",
  GetFile: "Path",
};

/** Checks the body of `runliveresponse` (mde-api.md §4.1): non-empty, known types, order, required params. */
export function checkLiveResponseRequest(request: LiveResponseRequest, field = "request"): void {
  if (!request || typeof request !== "object") throw new InputError(field, "expected { Commands, Comment }");
  const commands = request.Commands;
  if (!Array.isArray(commands) || commands.length === 0) {
    throw new InputError(
      `${field}.Commands`,
      "expected a non-empty list of commands (PutFile, RunScript, GetFile)",
    );
  }
  if (typeof request.Comment !== "string") {
    throw new InputError(`${field}.Comment`, "expected a string (the run's comment tag)");
  }
  let last = 0;
  commands.forEach((c, i) => {
    const f = `${field}.Commands[${i}]`;
    const order = ORDER[c?.type as CommandType];
    if (order === undefined)
      throw new InputError(`${f}.type`, `expected PutFile, RunScript or GetFile, got ${describe(c?.type)}`);
    if (order < last) {
      throw new InputError(
        `${f}.type`,
        "commands must be ordered PutFile… then RunScript… then GetFile… (service rule)",
      );
    }
    last = order;
    if (!Array.isArray(c.params)) throw new InputError(`${f}.params`, "expected a list of { key, value }");
    const required = REQUIRED_PARAM[c.type];
    const p = c.params.find((x) => x?.key === required);
    if (!p || typeof p.value !== "string" || p.value === "") {
      throw new InputError(`${f}.params`, `${c.type} needs a non-empty "${required}" parameter`);
    }
    if (c.type !== "GetFile") checkLibraryFileName(p.value, `${f}.params.${required}`);
  });
}

function describe(value: unknown): string {
  if (typeof value === "string")
    return value === "" ? "an empty string" : `"${value.length > 80 ? `${value.slice(0, 80)}…` : value}"`;
  return value === undefined ? "nothing" : String(value);
}
