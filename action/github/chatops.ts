/**
 * ChatOps: `/live-response <runbook>.yml <device id> [<device id>…]` in a comment on an incident issue.
 * Parsed strictly: the command word, one runbook *file name* that exists in the configured runbook
 * folder of the checked-out repository (never a path, never inline YAML: a comment names a runbook, it
 * never contains one), then 1 to MAX_IDS device ids of 40 hex characters. Nothing else passes.
 *
 * Hostile comments: the body comes from the event payload, a snapshot taken when the comment was
 * created, so editing it later changes nothing; `edited` events and comments by bots (this action's
 * own included) are ignored, so replies can never trigger runs; comments on pull requests are refused
 * (a pull request's branch is not where runbooks are trusted from).
 *
 * Replies are one raw HTML paragraph (not parsed as Markdown, so quoted text cannot become a link or
 * emphasis), with everything the commenter wrote escaped inside `<code>` (no mentions, no references).
 */
import { lstatSync, readdirSync } from "node:fs";
import path from "node:path";
import { deviceText } from "./comment-body.js";
import type { IssueCommentPayload } from "./event.js";

export const COMMAND = "/live-response";
export const MAX_IDS = 50;
const RUNBOOK_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}\.ya?ml$/;
const MACHINE_ID = /^[0-9a-fA-F]{40}$/;
const USAGE = `<code>${COMMAND} &lt;runbook&gt;.yml &lt;device id&gt; [&lt;device id&gt; …]</code>`;

export interface ChatOpsCommand {
  runbookFile: string;
  runbookPath: string;
  machineIds: string[];
}

export type ParseResult =
  | { kind: "command"; command: ChatOpsCommand }
  /** Not addressed to us: say nothing (no reply loops, no noise). */
  | { kind: "ignored"; why: string }
  /** A mistake: reply with `reply` (safe HTML/Markdown), start nothing. */
  | { kind: "rejected"; reply: string };

/** Runbook file names in the folder (regular files only; symlinks could point anywhere). */
export function runbookNames(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isFile() && RUNBOOK_NAME.test(e.name))
      .map((e) => e.name)
      .sort();
  } catch {
    return [];
  }
}

export function screenComment(comment: IssueCommentPayload): ParseResult | null {
  if (comment.userType === "Bot" || /\[bot\]$/.test(comment.login)) {
    return { kind: "ignored", why: `comment by a bot (${comment.login})` };
  }
  if (comment.action !== "created") {
    return {
      kind: "ignored",
      why: `comment ${comment.action ?? "event"}, not created: only new comments are commands`,
    };
  }
  if (!comment.body.trimStart().startsWith(COMMAND)) {
    return { kind: "ignored", why: `comment does not start with ${COMMAND}` };
  }
  if (comment.isPullRequest) {
    return {
      kind: "rejected",
      reply: `${COMMAND} runs from incident issues only, not from pull requests. Nothing was submitted.`,
    };
  }
  return null;
}

export function parseCommand(body: string, runbookDir: string, dirLabel: string): ParseResult {
  const text = body.trim();
  const reject = (why: string): ParseResult => ({
    kind: "rejected",
    reply: `Not run: ${why}. Usage: ${USAGE} (one line, nothing else). Nothing was submitted.`,
  });
  if (/[\r\n]/.test(text)) return reject("the command must be the whole comment, on one line");
  const tokens = text.split(/[ \t]+/);
  if (tokens[0] !== COMMAND) return reject(`the comment must start with <code>${COMMAND}</code> and a space`);
  const name = tokens[1];
  if (!name) return reject("no runbook named");
  const available = runbookNames(runbookDir);
  const list = available.length
    ? `runbooks in ${deviceText(dirLabel)}: ${available.map((n) => deviceText(n)).join(", ")}`
    : `no runbooks found in ${deviceText(dirLabel)}`;
  if (!RUNBOOK_NAME.test(name) || name.includes("..")) {
    return reject(
      `${deviceText(name, 60)} is not a runbook file name (a name like triage.yml from the runbook folder, never a path); ${list}`,
    );
  }
  const runbookPath = path.join(runbookDir, name);
  let isFile = false;
  try {
    isFile = lstatSync(runbookPath).isFile();
  } catch {
    isFile = false;
  }
  if (!isFile || !available.includes(name)) return reject(`no runbook ${deviceText(name, 60)}; ${list}`);
  const ids = tokens.slice(2);
  if (ids.length === 0) return reject("no device id given");
  if (ids.length > MAX_IDS) return reject(`${ids.length} device ids; at most ${MAX_IDS} per command`);
  const bad = ids.filter((id) => !MACHINE_ID.test(id));
  if (bad.length > 0) {
    return reject(
      `${bad.length} value(s) are not device ids (40 hex characters): ${bad
        .slice(0, 3)
        .map((b) => deviceText(b, 60))
        .join(", ")}`,
    );
  }
  const lower = ids.map((id) => id.toLowerCase());
  const dupes = lower.filter((id, i) => lower.indexOf(id) !== i);
  if (dupes.length > 0) return reject(`device id <code>${dupes[0]}</code> is listed twice`);
  return { kind: "command", command: { runbookFile: name, runbookPath, machineIds: lower } };
}

/** A reply body: one HTML block (no Markdown parsing inside). */
export function replyBody(html: string): string {
  return `<p>${html}</p>`;
}

export function refusalReply(required: string, login: string, role: string): string {
  return `Refused: ${COMMAND} needs the <b>${required}</b> role or higher on this repository; ${deviceText(login, 60)} has ${deviceText(role, 60)}. Nothing was submitted.`;
}
