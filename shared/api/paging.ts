/** OData list envelopes `{ value, @odata.nextLink }`, followed to the end or until `top` items. */

import { MdeApiError } from "../errors.js";
import type { CallKind } from "../http/events.js";
import type { HttpTransport } from "../http/transport.js";
import { callFields } from "./call.js";
import { expectShape, type FieldKind, shapeProblem } from "./shape.js";
import type { CallOptions, ODataQuery } from "./types.js";

/** Guards against a server that keeps returning the same nextLink. */
const MAX_PAGES = 10_000;

export function odataParams(query: ODataQuery | undefined): Record<string, string | number | undefined> {
  return {
    $filter: query?.filter,
    $top: query?.top,
    $skip: query?.skip,
    $orderby: query?.orderBy,
  };
}

export async function collectPages<T>(
  t: HttpTransport,
  kind: CallKind,
  path: string,
  query: Record<string, string | number | undefined>,
  top: number | undefined,
  options: CallOptions | undefined,
  /** Fields every entry must carry (entities have an id; library files a fileName). */
  itemFields: Record<string, FieldKind> = { id: "string" },
): Promise<T[]> {
  const items: T[] = [];
  const seen = new Set<string>();
  let res = await t.send({ kind, method: "GET", path, query, ...callFields(options) });
  for (let page = 0; page < MAX_PAGES; page++) {
    // A list page is `{value: [...]}` with objects carrying an id; anything else is a typed error, not
    // a silently empty (or junk) list the caller would act on.
    const body = expectShape<{ value: unknown[]; "@odata.nextLink"?: unknown }>(
      res.body,
      { value: "array" },
      { method: "GET", path },
    );
    const bad = body.value.find((item) => shapeProblem(item, itemFields) !== null);
    if (bad !== undefined) {
      throw new MdeApiError({
        status: 200,
        code: "UnexpectedResponse",
        message: `the service's answer has an unexpected shape: a list entry without ${Object.keys(itemFields).join(", ")} (${JSON.stringify(bad)?.slice(0, 80)})`,
        method: "GET",
        path,
      });
    }
    items.push(...(body.value as T[]));
    const next = body["@odata.nextLink"];
    if (typeof next !== "string" || next === "" || seen.has(next)) break;
    if (top !== undefined && items.length >= top) break;
    seen.add(next);
    res = await t.send({ kind, method: "GET", path: next, ...callFields(options) });
  }
  return top !== undefined ? items.slice(0, top) : items;
}
