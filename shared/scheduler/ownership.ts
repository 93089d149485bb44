/**
 * Is an action the service handed back this run's? For another action type the service has answered a
 * duplicate request with the *existing* pending action instead of a 400 (MicrosoftDocs issue #5907,
 * real-captures README); if `runliveresponse` ever does, adopting that answer would attribute someone
 * else's session and results to this run. An answer is ours only when its comment carries this run's tag
 * for these steps and its commands are the ones we sent.
 */
import type { LiveResponseCommand, MachineAction } from "../api/types.js";
import { hasRunTag } from "../state/tag.js";

export type Ownership = "ours" | "foreign" | "unknown";

export function ownership(
  action: MachineAction,
  runId: string,
  steps: readonly number[],
  sent: readonly LiveResponseCommand[],
): Ownership {
  const sameCommands = commandsMatch(action, sent);
  if (action.requestorComment) {
    return hasRunTag(action.requestorComment, runId, steps) && sameCommands !== false ? "ours" : "foreign";
  }
  // No comment echoed: the commands alone cannot prove it is ours, but different ones prove it is not.
  return sameCommands === false ? "foreign" : "unknown";
}

/** true / false when the answer lists its commands; null when it lists none (nothing to compare). */
function commandsMatch(action: MachineAction, sent: readonly LiveResponseCommand[]): boolean | null {
  const got = action.commands ?? [];
  if (got.length === 0) return null;
  if (got.length !== sent.length) return false;
  const byIndex = [...got].sort((a, b) => a.index - b.index);
  return byIndex.every((c, i) => {
    const ours = sent[i]!;
    const theirs = c.command;
    if (!theirs || theirs.type !== ours.type) return false;
    const params = new Map((theirs.params ?? []).map((p) => [p.key, p.value]));
    return ours.params.every((p) => params.get(p.key) === p.value);
  });
}
