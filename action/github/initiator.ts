/**
 * The action as a run's initiator (chain of custody): the workflow run this step is in, from the runner's
 * environment (event.ts; the same values @actions/github's context reads, without loading Octokit).
 */
import type { Initiator } from "../../shared/custody/types.js";
import { type RunEnvironment, runUrl } from "./event.js";

/** `requestedBy`: the person the run is for (a ChatOps commenter), recorded when it is not the actor. */
export function githubInitiator(run: RunEnvironment, requestedBy: string | null): Initiator {
  const initiator: Initiator = { kind: "github-action" };
  const set = (key: Exclude<keyof Initiator, "kind">, value: string | null) => {
    if (value) initiator[key] = value;
  };
  set("user", run.actor);
  if (requestedBy && requestedBy !== run.actor) set("requestedBy", requestedBy);
  set("repository", run.owner && run.repo ? `${run.owner}/${run.repo}` : null);
  set("workflow", run.workflow);
  set("workflowRef", run.workflowRef);
  set("commit", run.sha);
  set("eventName", run.eventName);
  set("runId", run.runId);
  set("runAttempt", run.runId ? run.runAttempt : null);
  set("runUrl", runUrl(run));
  return initiator;
}

/**
 * Audit trail on every machine action this process submits or cancels (RunContext.commentPointer): which
 * person and workflow run attempt sent it, ending with the run URL so an analyst in the Defender portal
 * can open the workflow run that sent it. The core puts it after the runbook's own comment (cut first)
 * and before the run tag, within its conservative cap (POINTER_COMMENT_MAX in shared/state/tag.ts).
 * A resumed run's pointer is the resuming workflow run's: that is the run that sent those actions.
 */
export function githubPointer(run: RunEnvironment): string | null {
  if (!run.owner || !run.repo) return null;
  const url = runUrl(run);
  const actor = run.actor ? ` by ${run.actor}` : "";
  return url ? `GitHub Actions${actor}: ${url}` : `GitHub Actions ${run.owner}/${run.repo}${actor}`;
}
