/**
 * Runbook targets → the devices to run on, de-duplicated by machine id. Each selector uses the
 * cheapest documented call (mde-api.md §4.10); values that find nothing are reported, not fatal,
 * so one typo doesn't stop a 40-device triage (the report lists them).
 */
import type { CallOptions, Machine, MdeApi } from "../api/types.js";
import { InputError, MdeApiError, NotFoundError } from "../errors.js";
import type { Targets } from "../runbook/types.js";
import type { ResolvedTargets, TargetSelector, UnresolvedTarget } from "./types.js";

/**
 * Names per `computerDnsName eq ... or ...` query: few enough that the URL stays short, many enough
 * that a 50-host list costs 5 calls instead of 50. `or` is standard OData; MDE's own docs show only
 * `and`, so the emulator and clients lean on the standard here (noted in the report).
 */
export const COMPUTER_NAME_BATCH = 10;

/** Merged-device chains are short in practice; the cap only stops a cycle. */
const MAX_MERGE_HOPS = 5;

export interface ResolveTargetsOptions {
  /** Blast-radius cap: more resolved devices → InputError saying how to raise it. */
  maxDevices: number;
  signal?: AbortSignal;
}

/** OData string literal: single quotes doubled. */
export function odataString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
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

export async function resolveTargets(
  api: MdeApi,
  targets: Targets,
  options: ResolveTargetsOptions,
): Promise<ResolvedTargets> {
  const call: CallOptions = options.signal ? { signal: options.signal } : {};
  const found: Machine[] = [];
  const unresolved: UnresolvedTarget[] = [];

  for (const id of targets.machineIds) {
    try {
      found.push(await api.getMachine(id, call));
    } catch (err) {
      if (err instanceof NotFoundError) {
        unresolved.push(
          notFound("machineIds", id, `no device with id ${id}; check the id on the device page`),
        );
      } else throw err;
    }
  }

  for (let i = 0; i < targets.computerNames.length; i += COMPUTER_NAME_BATCH) {
    const batch = targets.computerNames.slice(i, i + COMPUTER_NAME_BATCH);
    const filter = batch.map((n) => `computerDnsName eq ${odataString(n)}`).join(" or ");
    const machines = await listOrEmpty(api, filter, call);
    for (const name of batch) {
      const matches = machines.filter((m) => (m.computerDnsName ?? "").toLowerCase() === name.toLowerCase());
      if (matches.length === 0) {
        unresolved.push(
          notFound(
            "computerNames",
            name,
            `no device named "${name}"; use the full DNS name shown in Defender (e.g. host.contoso.com)`,
          ),
        );
      } else {
        found.push([...matches].sort(byLastSeenDesc)[0]!);
      }
    }
  }

  for (const tag of targets.tags) {
    const machines = await api.findMachinesByTag(tag, false, call);
    if (machines.length === 0) unresolved.push(notFound("tags", tag, `no device carries the tag "${tag}"`));
    found.push(...machines);
  }

  if (targets.filter !== null) {
    try {
      const machines = await listOrEmpty(api, targets.filter, call);
      if (machines.length === 0)
        unresolved.push(notFound("filter", targets.filter, "the filter matched no device"));
      found.push(...machines);
    } catch (err) {
      if (err instanceof MdeApiError && err.status === 400) {
        throw new InputError("targets.filter", `the service rejected the OData filter: ${err.message}`, {
          cause: err,
        });
      }
      throw err;
    }
  }

  const machines = await dedupe(api, found, unresolved, call);
  if (machines.length > options.maxDevices) {
    throw new InputError(
      "options.maxDevices",
      `the targets resolve to ${machines.length} devices, more than the cap of ${options.maxDevices}; ` +
        `narrow the targets, or raise options.maxDevices to ${machines.length} if that many is intended`,
    );
  }
  return { machines, unresolved };
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

async function dedupe(
  api: MdeApi,
  found: Machine[],
  unresolved: UnresolvedTarget[],
  call: CallOptions,
): Promise<Machine[]> {
  const byId = new Map<string, Machine>();
  for (let machine of found) {
    let usable = true;
    const seen = new Set<string>([machine.id]);
    for (let hop = 0; machine.mergedIntoMachineId && hop < MAX_MERGE_HOPS; hop++) {
      const next = machine.mergedIntoMachineId.toLowerCase();
      if (seen.has(next)) break;
      seen.add(next);
      const known = byId.get(next);
      if (known) {
        machine = known;
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
    if (usable && !byId.has(machine.id)) byId.set(machine.id, machine);
  }
  return [...byId.values()];
}
