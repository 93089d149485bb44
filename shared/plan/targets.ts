/**
 * Runbook targets → the devices to run on, de-duplicated by machine id, in batches a run can start
 * submitting from while the rest still resolve. Each selector uses the cheapest documented call
 * (mde-api.md §4.10): tags one `findbytag` each, a filter one list, machine ids and computer names a
 * list call per batch (`id eq … or id eq …`) — 1,000 ids cost 40 calls, not 1,000. Values that find
 * nothing are reported per value, never silently dropped.
 */
import type { CallOptions, Machine, MdeApi } from "../api/types.js";
import { InputError, MdeApiError, NotFoundError } from "../errors.js";
import type { Targets } from "../runbook/types.js";
import type { ResolvedTargets, TargetSelector, UnresolvedTarget } from "./types.js";

/**
 * Batches are cut by the length of their URL-encoded `$filter`, not by a count: a URL-length choice.
 * MDE documents no URL limit; IIS-fronted Azure services default to a 2,048-byte query string, so a
 * filter stays under 1,800 encoded bytes (25 machine ids, or about 20 typical host names), which still
 * makes 1,000 ids 40 calls. `or` between clauses is standard OData; MDE's docs show only `and`
 * (mde-api.md §4.10), so a service that refuses it makes the run fall back to one GET per id.
 */
export const FILTER_BUDGET_BYTES = 1_800;
/** At most this many values per batch, whatever their length (a bound on one answer's size too). */
export const MAX_BATCH = 25;

/** Merged-device chains are short in practice; the cap only stops a cycle. */
const MAX_MERGE_HOPS = 5;

export interface ResolveTargetsOptions {
  /** Blast-radius cap: more devices → InputError saying how to raise it (checked before any batch). */
  maxDevices: number;
  signal?: AbortSignal;
  /** Selector values already resolved by an earlier process (`selector:value` keys): not looked up again. */
  done?: ReadonlySet<string>;
  /** Machine ids already planned (earlier batches or processes): never yielded twice. */
  seen?: Set<string>;
}

/** One step of resolution: the values it answers for, and what they found. */
export interface TargetBatch {
  /** `selector:value` keys of every value this batch settled (found or not). */
  covered: string[];
  /** Devices not seen in an earlier batch, after following merges. */
  machines: Machine[];
  unresolved: UnresolvedTarget[];
}

export function targetKey(selector: TargetSelector, value: string): string {
  return `${selector}:${selector === "computerNames" ? value.toLowerCase() : value}`;
}

/** OData string literal: single quotes doubled. */
export function odataString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** Values → filters whose encoded length stays within the budget (and at most MAX_BATCH values each). */
export function filterBatches(
  values: readonly string[],
  clause: (value: string) => string,
): { values: string[]; filter: string }[] {
  const out: { values: string[]; filter: string }[] = [];
  let cur: string[] = [];
  let len = 0;
  for (const v of values) {
    const c = clause(v);
    const cost = encodeURIComponent(c).length + (cur.length > 0 ? encodeURIComponent(" or ").length : 0);
    if (cur.length > 0 && (len + cost > FILTER_BUDGET_BYTES || cur.length >= MAX_BATCH)) {
      out.push({ values: cur, filter: cur.map(clause).join(" or ") });
      cur = [];
      len = 0;
    }
    len += cur.length > 0 ? cost : encodeURIComponent(c).length;
    cur.push(v);
  }
  if (cur.length > 0) out.push({ values: cur, filter: cur.map(clause).join(" or ") });
  return out;
}

function notFound(selector: TargetSelector, value: string, message: string): UnresolvedTarget {
  return { selector, value, error: { code: "Target.NotFound", message } };
}

function lookupFailed(selector: TargetSelector, value: string, err: MdeApiError): UnresolvedTarget {
  return { selector, value, error: { code: err.code, message: err.message } };
}

/** Newest first, so the live record wins over stale duplicates of a re-onboarded device. */
function byLastSeenDesc(a: Machine, b: Machine): number {
  return (Date.parse(b.lastSeen ?? "") || 0) - (Date.parse(a.lastSeen ?? "") || 0);
}

/**
 * Resolve in batches: tags and the filter first (a call or two, and the device cap needs them), then
 * machine ids, then computer names. The cap is checked against an upper bound before anything is
 * yielded, so a run never starts submitting a fan-out that turns out too wide.
 */
export async function* resolveTargetBatches(
  api: MdeApi,
  targets: Targets,
  options: ResolveTargetsOptions,
): AsyncGenerator<TargetBatch> {
  const call: CallOptions = options.signal ? { signal: options.signal } : {};
  const done = options.done ?? new Set<string>();
  const seen = options.seen ?? new Set<string>();
  const todo = (selector: TargetSelector, values: readonly string[]) =>
    values.filter((v) => !done.has(targetKey(selector, v)));

  const first: TargetBatch[] = [];
  for (const tag of todo("tags", targets.tags)) {
    const machines = await api.findMachinesByTag(tag, false, call);
    first.push({
      covered: [targetKey("tags", tag)],
      machines,
      unresolved: machines.length === 0 ? [notFound("tags", tag, `no device carries the tag "${tag}"`)] : [],
    });
  }
  if (targets.filter !== null && todo("filter", [targets.filter]).length > 0) {
    let machines: Machine[];
    try {
      machines = await listOrEmpty(api, targets.filter, call);
    } catch (err) {
      if (err instanceof MdeApiError && err.status === 400) {
        throw new InputError("targets.filter", `the service rejected the OData filter: ${err.message}`, {
          cause: err,
        });
      }
      throw err;
    }
    first.push({
      covered: [targetKey("filter", targets.filter)],
      machines,
      unresolved:
        machines.length === 0
          ? [notFound("filter", targets.filter, `the filter "${targets.filter}" matched no device`)]
          : [],
    });
  }
  const ids = todo("machineIds", targets.machineIds);
  const names = todo("computerNames", targets.computerNames);
  checkCap(first, ids, names, seen, options.maxDevices);

  for (const b of first) yield await settle(api, b, seen, call);

  let byId = true;
  for (const batch of filterBatches(ids, (id) => `id eq ${odataString(id)}`)) {
    let machines: Machine[];
    if (byId) {
      try {
        machines = await listOrEmpty(api, batch.filter, call);
      } catch (err) {
        if (!(err instanceof MdeApiError && err.status === 400)) throw err;
        // The service refused `or` (undocumented there): one GET per id from here on.
        byId = false;
        machines = await getEach(api, batch.values, call);
      }
    } else {
      machines = await getEach(api, batch.values, call);
    }
    const found = new Set(machines.map((m) => m.id.toLowerCase()));
    yield await settle(
      api,
      {
        covered: batch.values.map((id) => targetKey("machineIds", id)),
        machines,
        unresolved: batch.values
          .filter((id) => !found.has(id.toLowerCase()))
          .map((id) =>
            notFound("machineIds", id, `no device with id ${id}; check the id on the device page`),
          ),
      },
      seen,
      call,
    );
  }

  for (const batch of filterBatches(names, (n) => `computerDnsName eq ${odataString(n)}`)) {
    const machines = await listOrEmpty(api, batch.filter, call);
    const b: TargetBatch = { covered: [], machines: [], unresolved: [] };
    for (const name of batch.values) {
      b.covered.push(targetKey("computerNames", name));
      const matches = machines.filter((m) => (m.computerDnsName ?? "").toLowerCase() === name.toLowerCase());
      if (matches.length === 0) {
        b.unresolved.push(
          notFound(
            "computerNames",
            name,
            `no device named "${name}"; use the full DNS name shown in Defender (e.g. host.contoso.com)`,
          ),
        );
      } else {
        b.machines.push([...matches].sort(byLastSeenDesc)[0]!);
      }
    }
    yield await settle(api, b, seen, call);
  }
}

/** Every batch at once (planning previews, tests): the devices in first-seen order and every miss. */
export async function resolveTargets(
  api: MdeApi,
  targets: Targets,
  options: ResolveTargetsOptions,
): Promise<ResolvedTargets> {
  const machines: Machine[] = [];
  const unresolved: UnresolvedTarget[] = [];
  for await (const b of resolveTargetBatches(api, targets, options)) {
    machines.push(...b.machines);
    unresolved.push(...b.unresolved);
  }
  return { machines, unresolved };
}

/**
 * Upper bound of the devices the targets can reach: what tags/filter found plus every listed id and
 * name not among them. Ids and names that turn out unknown only lower it.
 */
function checkCap(
  first: TargetBatch[],
  ids: string[],
  names: string[],
  seen: ReadonlySet<string>,
  maxDevices: number,
): void {
  const reach = new Set<string>(seen);
  const namesFound = new Set<string>();
  for (const b of first) {
    for (const m of b.machines) {
      reach.add(m.id.toLowerCase());
      if (m.computerDnsName) namesFound.add(m.computerDnsName.toLowerCase());
    }
  }
  for (const id of ids) reach.add(id.toLowerCase());
  const bound = reach.size + names.filter((n) => !namesFound.has(n.toLowerCase())).length;
  if (bound > maxDevices) {
    throw new InputError(
      "options.maxDevices",
      `the targets reach up to ${bound} devices, more than the cap of ${maxDevices}; ` +
        `narrow the targets, or raise options.maxDevices to ${bound} if that many is intended`,
    );
  }
}

/** The machines list answers 404 when nothing matches recently (mde-api.md §4.10): that is "none". */
async function listOrEmpty(api: MdeApi, filter: string, call: CallOptions): Promise<Machine[]> {
  try {
    return await api.listMachines({ filter }, call);
  } catch (err) {
    if (err instanceof NotFoundError) return [];
    throw err;
  }
}

async function getEach(api: MdeApi, ids: readonly string[], call: CallOptions): Promise<Machine[]> {
  const out: Machine[] = [];
  for (const id of ids) {
    try {
      out.push(await api.getMachine(id, call));
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
    }
  }
  return out;
}

/** Follow merges, and keep only devices no earlier batch produced. */
async function settle(
  api: MdeApi,
  batch: TargetBatch,
  seen: Set<string>,
  call: CallOptions,
): Promise<TargetBatch> {
  const machines: Machine[] = [];
  const unresolved = [...batch.unresolved];
  for (let machine of batch.machines) {
    let usable = true;
    const chain = new Set<string>([machine.id.toLowerCase()]);
    for (let hop = 0; machine.mergedIntoMachineId && hop < MAX_MERGE_HOPS; hop++) {
      const next = machine.mergedIntoMachineId.toLowerCase();
      if (chain.has(next)) break;
      chain.add(next);
      const known = machines.find((m) => m.id.toLowerCase() === next);
      if (known) {
        machine = known;
        break;
      }
      if (seen.has(next)) {
        // An earlier batch already has the surviving record.
        usable = false;
        break;
      }
      try {
        machine = await api.getMachine(next, call);
      } catch (err) {
        if (err instanceof MdeApiError) {
          // The old record was merged away and its successor can't be read: don't send to either.
          unresolved.push(lookupFailed("machineIds", next, err));
          usable = false;
          break;
        }
        throw err;
      }
    }
    const id = machine.id.toLowerCase();
    if (usable && !seen.has(id)) {
      seen.add(id);
      machines.push(machine);
    }
  }
  return { covered: batch.covered, machines, unresolved };
}
