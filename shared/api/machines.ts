/** Machines: get, list (OData, paged), find by tag (mde-api.md §4.10). */

import { InputError, NotFoundError } from "../errors.js";
import type { HttpTransport } from "../http/transport.js";
import { callFields } from "./call.js";
import { collectPages, odataParams } from "./paging.js";
import { expectShape, MACHINE_FIELDS, normalizeMachine } from "./shape.js";
import type { CallOptions, Machine, ODataQuery } from "./types.js";
import { checkMachineId, checkQuery } from "./validate.js";

export async function getMachine(
  t: HttpTransport,
  machineId: string,
  options?: CallOptions,
): Promise<Machine> {
  const id = checkMachineId(machineId);
  const res = await t.send({
    kind: "machines",
    method: "GET",
    path: `/api/machines/${id}`,
    ...callFields(options),
  });
  return normalizeMachine(
    expectShape<unknown>(res.body, MACHINE_FIELDS, { method: "GET", path: `/api/machines/${id}` }),
  );
}

export async function listMachines(
  t: HttpTransport,
  query?: ODataQuery,
  options?: CallOptions,
): Promise<Machine[]> {
  checkQuery(query);
  // The doc says GET /api/machines answers 404 when there are no recent machines: that is an empty list,
  // not a failure. (An unknown *machine* is still NotFoundError in getMachine.)
  return collectPages<unknown>(t, "machines", "/api/machines", odataParams(query), query?.top, options)
    .then((items) => items.map(normalizeMachine))
    .catch((error: unknown) => {
      if (error instanceof NotFoundError && error.code !== "HttpError") return [];
      throw error;
    });
}

export async function findMachinesByTag(
  t: HttpTransport,
  tag: string,
  startsWith = false,
  options?: CallOptions,
): Promise<Machine[]> {
  if (typeof tag !== "string" || tag.trim() === "") {
    throw new InputError("tag", "expected a non-empty device tag");
  }
  const items = await collectPages<unknown>(
    t,
    "machines",
    "/api/machines/findbytag",
    { tag, useStartsWithFilter: startsWith ? "true" : "false" },
    undefined,
    options,
  );
  return items.map(normalizeMachine);
}
