/** OData list envelopes `{ value, @odata.nextLink }`, followed to the end or until `top` items. */
import type { CallKind } from "../http/events.js";
import type { HttpTransport } from "../http/transport.js";
import type { ODataQuery } from "./types.js";

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
  signal: AbortSignal | undefined,
): Promise<T[]> {
  const items: T[] = [];
  const seen = new Set<string>();
  let res = await t.send({ kind, method: "GET", path, query, signal });
  for (let page = 0; page < MAX_PAGES; page++) {
    const body = (res.body ?? {}) as { value?: unknown; "@odata.nextLink"?: unknown };
    if (Array.isArray(body.value)) items.push(...(body.value as T[]));
    const next = body["@odata.nextLink"];
    if (typeof next !== "string" || next === "" || seen.has(next)) break;
    if (top !== undefined && items.length >= top) break;
    seen.add(next);
    res = await t.send({ kind, method: "GET", path: next, signal });
  }
  return top !== undefined ? items.slice(0, top) : items;
}
