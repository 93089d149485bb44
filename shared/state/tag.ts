/**
 * Run tags: every action's Comment is the user's comment plus `[mde-lr:<runId>/<steps>]`, so a run can
 * find its own actions in the tenant (ambiguous submissions, resume after a crash, cancel) without
 * ever touching anyone else's.
 */
import { randomBytes } from "node:crypto";

/** `20261123T064000-1a2b3c4d`: sortable, readable, unique enough across concurrent runs. */
export function newRunId(nowMs: number): string {
  const stamp = new Date(nowMs).toISOString().replace(/[-:]/g, "").replace(/\..*$/, "");
  return `${stamp}-${randomBytes(4).toString("hex")}`;
}

/** `1-2` or `3` for a single step. */
export function stepRange(steps: readonly number[]): string {
  const first = steps[0] ?? 0;
  const last = steps[steps.length - 1] ?? first;
  return first === last ? String(first) : `${first}-${last}`;
}

export function runTag(runId: string, steps: readonly number[]): string {
  return `[mde-lr:${runId}/${stepRange(steps)}]`;
}

/** The Comment sent with an action. The tag goes last so a human still reads the comment first. */
export function actionComment(userComment: string | null, runId: string, steps: readonly number[]): string {
  const tag = runTag(runId, steps);
  const text = (userComment ?? "").trim();
  return text ? `${text} ${tag}` : tag;
}

/** Does this action's comment carry our run's tag (optionally for exactly these steps)? */
export function hasRunTag(comment: string | null, runId: string, steps?: readonly number[]): boolean {
  if (!comment) return false;
  return steps ? comment.includes(runTag(runId, steps)) : comment.includes(`[mde-lr:${runId}/`);
}

/** A filter timestamp literal for `creationDateTimeUtc ge ...` (OData DateTimeOffset, no quotes). */
export function odataTimestamp(ms: number): string {
  return new Date(ms).toISOString();
}
