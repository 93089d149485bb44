/**
 * The GitHub-only parts of the main step that run before anything reaches Defender: the ChatOps gate
 * (acknowledge, check the commenter's role, parse the command, reply) and find-pending.
 */
import path from "node:path";
import * as core from "@actions/core";
import { redact } from "../../shared/redact.js";
import { type ChatOpsCommand, parseCommand, refusalReply, replyBody, screenComment } from "./chatops.js";
import type { GitHubClient } from "./client.js";
import { explainCommentFailure } from "./incident.js";
import type { GitHubInputs } from "./inputs.js";
import { checkPermission } from "./permission.js";
import { pendingRuns } from "./resume.js";

export type GateResult =
  | { kind: "command"; command: ChatOpsCommand }
  | { kind: "stop"; failure: string | null };

async function reply(client: GitHubClient, issue: number, html: string): Promise<void> {
  try {
    await client.createComment(issue, redact(replyBody(html)));
  } catch (error) {
    core.warning(explainCommentFailure(error, issue).message);
  }
}

async function react(
  client: GitHubClient,
  commentId: number,
  content: "eyes" | "rocket" | "-1",
): Promise<void> {
  try {
    await client.addReaction(commentId, content);
  } catch (error) {
    const e = explainCommentFailure(error, 0);
    core.warning(`Could not react to the command comment: ${e.message.replace(" on issue #0", "")}`);
  }
}

export async function chatOpsGate(
  client: GitHubClient,
  gh: GitHubInputs,
  workspace: string,
): Promise<GateResult> {
  const comment = gh.run.comment;
  const issue = gh.run.eventIssue;
  if (!comment || issue === null || !gh.chatops) {
    return { kind: "stop", failure: "chatops: no issue comment in the event payload" };
  }
  const screened = screenComment(comment);
  if (screened?.kind === "ignored") {
    core.info(`Not a ChatOps command (${screened.why}); nothing to do.`);
    return { kind: "stop", failure: null };
  }
  // Acknowledge at once: the person who typed the command sees it was picked up.
  await react(client, comment.commentId, "eyes");
  if (screened?.kind === "rejected") {
    await reply(client, issue, screened.reply);
    return { kind: "stop", failure: "ChatOps command refused: it was made on a pull request" };
  }
  const required = gh.chatops.permission;
  let verdict: Awaited<ReturnType<typeof checkPermission>>;
  try {
    verdict = await checkPermission(client, comment.login, required);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    await reply(
      client,
      issue,
      `Not run: the commenter's permission could not be checked. Nothing was submitted.`,
    );
    return { kind: "stop", failure: `ChatOps: could not check ${comment.login}'s permission (${why})` };
  }
  if (!verdict.allowed) {
    await react(client, comment.commentId, "-1");
    await reply(client, issue, refusalReply(required, comment.login, verdict.role));
    return {
      kind: "stop",
      failure: `ChatOps command refused: ${comment.login} has ${verdict.role}; ${required} or higher is required (chatops-permission)`,
    };
  }
  const dirLabel = path.relative(workspace, gh.chatops.runbookDir).split(path.sep).join("/") || ".";
  const parsed = parseCommand(comment.body, gh.chatops.runbookDir, dirLabel);
  if (parsed.kind !== "command") {
    if (parsed.kind === "rejected") {
      await react(client, comment.commentId, "-1");
      await reply(client, issue, parsed.reply);
    }
    return { kind: "stop", failure: "ChatOps command not run: see the reply on the issue" };
  }
  await react(client, comment.commentId, "rocket");
  core.info(
    `ChatOps: ${comment.login} (${verdict.role}) runs ${parsed.command.runbookFile} on ${parsed.command.machineIds.length} device(s)`,
  );
  return parsed;
}

/** find-pending: the runs left pending in the last 3 days, as `pending-runs` (a JSON array of run ids). */
export async function listPending(client: GitHubClient): Promise<void> {
  const heads = await pendingRuns(client, Date.now());
  for (const h of heads) {
    core.info(
      `Pending: run ${h.runId}, artifact ${h.artifact.name} (workflow run ${h.artifact.workflowRunId}, ${h.artifact.createdAt})`,
    );
  }
  core.info(`${heads.length} pending run(s) in the last 3 days`);
  core.setOutput("pending-runs", JSON.stringify(heads.map((h) => h.runId)));
}
