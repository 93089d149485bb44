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

/**
 * Cap on a Comment that carries a front end's pointer (the action's run URL). The service's limit on
 * `Comment` is not documented (mde-api.md is silent; the captures show only short comments), so stay far
 * below the lengths seen in the wild. The run tag is never cut (the run finds its own actions by it);
 * TAG_ROOM keeps room for the longest one. Without a pointer the runbook's comment (≤ 1,000 characters
 * by its schema) goes as written, as it always has.
 */
export const POINTER_COMMENT_MAX = 400;
const TAG_ROOM = 48;

/**
 * The user's comment and the pointer back to whoever sent the action, within POINTER_COMMENT_MAX minus
 * the tag's room: the user's comment is cut first, the pointer only if it alone is too long.
 */
export function withPointer(userComment: string | null, pointer: string | null | undefined): string {
  const user = (userComment ?? "").replace(/\s+/g, " ").trim();
  const p = (pointer ?? "").replace(/\s+/g, " ").trim();
  if (!p) return user;
  const budget = POINTER_COMMENT_MAX - TAG_ROOM;
  if (p.length >= budget) return p.slice(0, budget);
  if (!user) return p;
  const room = budget - p.length - 3;
  const cut = user.length > room ? `${user.slice(0, Math.max(0, room - 1))}…` : user;
  return cut ? `${cut} | ${p}` : p;
}

/**
 * The Comment sent with an action: the user's comment, the sending process's pointer (when its front
 * end gives one) and the run tag. The tag goes last so a human still reads the comment first.
 */
export function actionComment(
  userComment: string | null,
  runId: string,
  steps: readonly number[],
  pointer?: string | null,
): string {
  const tag = runTag(runId, steps);
  const text = pointer ? withPointer(userComment, pointer) : (userComment ?? "").trim();
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
