/**
 * Packing steps into machine actions. The API runs one action's commands only in the order
 * PutFile* → RunScript* → GetFile* (mde-api.md §4.1), so a runbook whose steps go "backwards"
 * (e.g. getFile then runScript) needs another action. Greedy packing is minimal: every backwards
 * step forces a cut between it and its predecessor (actions are consecutive and run in order), and
 * greedy cuts exactly there, so actions = 1 + number of backwards steps.
 */
import type { CommandType, LiveResponseCommand } from "../api/types.js";
import type { Step } from "../runbook/types.js";
import type { PackedAction } from "./types.js";

const PHASE: Record<CommandType, number> = { PutFile: 0, RunScript: 1, GetFile: 2 };

export function stepToCommand(step: Step): LiveResponseCommand {
  switch (step.type) {
    case "PutFile":
      return { type: "PutFile", params: [{ key: "FileName", value: step.fileName }] };
    case "RunScript":
      return {
        type: "RunScript",
        params:
          step.args === null
            ? [{ key: "ScriptName", value: step.scriptName }]
            : [
                { key: "ScriptName", value: step.scriptName },
                { key: "Args", value: step.args },
              ],
      };
    case "GetFile":
      return { type: "GetFile", params: [{ key: "Path", value: step.path }] };
  }
}

/** Packs steps into the fewest consecutive machine actions that keep runbook order. */
export function packSteps(steps: readonly Step[]): PackedAction[] {
  const actions: PackedAction[] = [];
  let current: PackedAction | null = null;
  let lastPhase = Number.POSITIVE_INFINITY;
  steps.forEach((step, i) => {
    const phase = PHASE[step.type];
    if (current === null || phase < lastPhase) {
      current = { index: actions.length, steps: [], commands: [] };
      actions.push(current);
    }
    current.steps.push(i + 1);
    current.commands.push(stepToCommand(step));
    lastPhase = phase;
  });
  return actions;
}

/**
 * Makes devices whose packed actions are equal share one array. Every device of a run gets the same
 * actions (planBatches packs them once), but after a JSON round trip (run.json, plan.jsonl, a resume)
 * each device would hold its own copy: thousands of identical command lists. The scheduler and the
 * report only read them.
 */
export function shareActions<T extends { actions: unknown }>(
  devices: readonly T[],
  known: Map<string, T["actions"]> = new Map(),
): void {
  for (const d of devices) {
    const key = JSON.stringify(d.actions);
    const same = known.get(key);
    if (same === undefined) known.set(key, d.actions);
    else d.actions = same;
  }
}
