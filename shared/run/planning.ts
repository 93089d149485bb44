/**
 * Planning while running: each batch of resolved targets is persisted (plan.jsonl, fsynced) and handed
 * to the scheduler at once, so the first devices are submitted while later batches still resolve. A
 * resumed run goes on with the values not settled yet. When resolution fails part-way (throttled past
 * every retry, the network, a cancel), the values it did not reach are reported as unresolved with the
 * reason — and, since they were never marked settled, `resume` looks them up again.
 */
import type { MdeApi } from "../api/types.js";
import { CancelledError, MdeLrError } from "../errors.js";
import { type PlanBatch, planBatches } from "../plan/batches.js";
import { estimateEta } from "../plan/eta.js";
import { explainServiceError } from "../plan/explain.js";
import { targetKey } from "../plan/targets.js";
import type { TargetSelector } from "../plan/types.js";
import type { ReportError } from "../report/types.js";
import type { RunEvent } from "../scheduler/events.js";
import type { Journal } from "../state/journal.js";
import type { PlanLine, PlannedDevice, RunPlanFile, UnresolvedRecord } from "../state/records.js";

export function toPlanLine(b: PlanBatch): Extract<PlanLine, { covered: string[] }> {
  // One copy per distinct packed-actions array (planBatches gives every device the same one).
  const actions = new Map<PlanBatch["devices"][number]["actions"], PlannedDevice["actions"]>();
  const recordOf = (packed: PlanBatch["devices"][number]["actions"]) => {
    let out = actions.get(packed);
    if (!out) {
      out = packed.map((a) => ({ steps: a.steps, commands: a.commands }));
      actions.set(packed, out);
    }
    return out;
  };
  return {
    covered: b.covered,
    devices: b.devices.map((d) => ({
      machineId: d.machineId,
      computerDnsName: d.computerDnsName,
      actions: recordOf(d.actions),
    })),
    skipped: b.skipped.map((s) => ({
      machineId: s.machineId,
      computerDnsName: s.computerDnsName,
      code: s.error.code,
      message: s.error.message,
      status: "skipped",
    })),
    unresolved: b.unresolved.map((u) => ({ selector: u.selector, value: u.value, error: u.error })),
    warnings: b.warnings,
  };
}

/** The resolution a run starts (or, resumed, goes on with) over its plan's targets. */
export function planSource(api: MdeApi, plan: RunPlanFile, signal?: AbortSignal): AsyncIterator<PlanBatch> {
  const seen = new Set<string>();
  for (const d of plan.devices) seen.add(d.machineId.toLowerCase());
  for (const d of plan.skipped) seen.add(d.machineId.toLowerCase());
  return planBatches(
    api,
    { commands: plan.steps, maxDevices: plan.options.maxDevices ?? Number.POSITIVE_INFINITY },
    plan.targets ?? { machineIds: [], computerNames: [], tags: [], filter: null },
    { done: new Set(plan.covered ?? []), seen, ...(signal ? { signal } : {}) },
  )[Symbol.asyncIterator]();
}

export interface FeedDeps {
  plan: RunPlanFile;
  journal: Journal;
  emit: (event: RunEvent) => void;
}

/**
 * The scheduler's device feed: `head` (batches already pulled, e.g. before the run folder existed), then
 * the rest of `source`. Each batch's skipped and unresolved targets go into the plan here; its devices go
 * to the scheduler, which adds them to the plan and to its queues.
 */
export async function* planningFeed(
  deps: FeedDeps,
  head: PlanBatch[],
  source: AsyncIterator<PlanBatch> | null,
): AsyncGenerator<PlannedDevice[]> {
  const { plan, journal, emit } = deps;
  const take = async (b: PlanBatch): Promise<PlannedDevice[]> => {
    const line = toPlanLine(b);
    // On disk before any of its devices is submitted: a crash now never loses a submitted device.
    await journal.appendPlan(line);
    plan.covered ??= [];
    plan.covered.push(...line.covered);
    plan.skipped.push(...line.skipped);
    plan.unresolved.push(...line.unresolved);
    plan.warnings.push(...line.warnings);
    emit({
      type: "resolved",
      devices: line.devices.map((d) => ({ machineId: d.machineId, computerDnsName: d.computerDnsName })),
      skipped: line.skipped.length,
      unresolved: line.unresolved.map((u) => ({
        selector: u.selector,
        value: u.value,
        message: u.error.message,
      })),
      etaSeconds: eta(plan, [...plan.devices, ...line.devices]),
    });
    for (const w of line.warnings) emit({ type: "warning", message: w });
    return line.devices;
  };
  try {
    for (const b of head) yield await take(b);
    for (;;) {
      const next = await source?.next();
      if (!next || next.done) break;
      yield await take(next.value);
    }
    await journal.appendPlan({ complete: true });
    plan.planComplete = true;
  } catch (error) {
    const reason = unresolvedReason(error);
    const left = remainingTargets(plan);
    for (const t of left) plan.unresolved.push({ ...t, error: reason });
    if (left.length > 0) {
      emit({
        type: "warning",
        message: `resolving targets stopped (${reason.message}); ${left.length} target value(s) were not looked up: resume the run to look them up`,
      });
    }
  }
  emit({
    type: "planned",
    runId: plan.runId,
    devices: plan.devices.length,
    actions: plan.devices.reduce((n, d) => n + d.actions.length, 0),
    skipped: plan.skipped.length,
    machines: plan.devices.map((d) => ({ machineId: d.machineId, computerDnsName: d.computerDnsName })),
    etaSeconds: eta(plan, plan.devices),
  });
}

function eta(plan: RunPlanFile, devices: readonly PlannedDevice[]): number {
  const o = plan.options;
  const limits = {
    submitPerMinute: o.submitPerMinute,
    callsPerMinute: o.callsPerMinute,
    callsPerHour: o.callsPerHour,
  };
  return estimateEta(devices, o, limits).seconds;
}

/** Target values the plan has not settled yet, as unresolved entries still to be given a reason. */
export function remainingTargets(plan: RunPlanFile): Omit<UnresolvedRecord, "error">[] {
  const t = plan.targets;
  if (!t) return [];
  const done = new Set(plan.covered ?? []);
  const out: Omit<UnresolvedRecord, "error">[] = [];
  const add = (selector: TargetSelector, values: readonly string[]) => {
    for (const value of values) if (!done.has(targetKey(selector, value))) out.push({ selector, value });
  };
  add("tags", t.tags);
  if (t.filter !== null) add("filter", [t.filter]);
  add("machineIds", t.machineIds);
  add("computerNames", t.computerNames);
  return out;
}

function unresolvedReason(error: unknown): ReportError {
  if (error instanceof CancelledError || (error instanceof MdeLrError && error.kind === "cancelled")) {
    return { code: "Cancelled", message: "the run was cancelled before this target was looked up" };
  }
  const explained = explainServiceError(error);
  return {
    code: explained.code,
    message: `not looked up: resolving targets failed (${explained.message}); resume the run to look it up`,
  };
}
