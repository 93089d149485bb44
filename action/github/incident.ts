/**
 * Keeps the run's one comment on the incident issue up to date: created at plan time, edited as devices
 * finish, rewritten a last time with the final table. Never floods the issue and never fails the run:
 * a comment is a courtesy; the job summary and the artifact are the record.
 *
 * Cadence: GitHub's secondary rate limits count content-creating requests (documented: at most 80 a
 * minute and 500 an hour per token, with a pause between mutating calls advised), and a matrix of runs
 * shares one GITHUB_TOKEN per job but one installation across jobs. Edits are therefore coalesced and
 * sent at most every 30 s (2 a minute, 120 an hour per run even for a run that lasts hours); only the
 * newest state is sent, and the final edit goes out at once.
 */
import { redact } from "../../shared/redact.js";
import type { GitHubApiError, GitHubClient } from "./client.js";
import { type IncidentView, markerRunId, renderIncidentComment } from "./comment-body.js";

export const EDIT_INTERVAL_MS = 30_000;
/** Tests shorten the cadence; GitHub asks for at least a second between mutating requests. */
const MIN_EDIT_INTERVAL_MS = 1_000;

export const STATE_LABELS = ["running", "pending", "succeeded", "failed", "partial", "cancelled"] as const;
export const labelFor = (state: string) => `mde-lr:${state}`;

export interface IncidentLog {
  info(message: string): void;
  warning(message: string): void;
}

export interface IncidentOptions {
  client: GitHubClient;
  issue: number;
  labels: boolean;
  log: IncidentLog;
  intervalMs?: number;
  /** A comment this run already has (a resumed run): edited if it still carries the run's marker. */
  commentId?: number | null;
  now?: () => number;
}

function isApiError(error: unknown): error is GitHubApiError {
  return error instanceof Error && error.name === "GitHubApiError";
}

/** Why a comment could not be written, and the fix. */
export function explainCommentFailure(error: unknown, issue: number): { message: string; fatal: boolean } {
  if (isApiError(error)) {
    if (error.status === 403 && /rate limit/i.test(error.githubMessage)) {
      return {
        message: `GitHub rate limit on comments (${error.githubMessage}); slowing down`,
        fatal: false,
      };
    }
    if (error.status === 403 || error.status === 401) {
      return {
        message: `Cannot comment on issue #${issue}: the token lacks \`issues: write\` (GitHub: ${error.status} ${error.githubMessage || "Forbidden"}). Add \`permissions: issues: write\` to the job (a pull request also needs \`pull-requests: write\`; pull requests from forks never get write access). The results are in the job summary and the artifact.`,
        fatal: true,
      };
    }
    if (error.status === 404 || error.status === 410) {
      return {
        message: `Cannot comment on issue #${issue}: it does not exist in this repository (GitHub: ${error.status}); check the \`issue\` input.`,
        fatal: true,
      };
    }
  }
  const text = error instanceof Error ? error.message : String(error);
  return { message: `Comment on issue #${issue} not updated: ${text}`, fatal: false };
}

export class IncidentComment {
  private commentId: number | null;
  private commentUrl: string | null = null;
  private disabled = false;
  private verified = false;
  private lastWrite = Number.NEGATIVE_INFINITY;
  private queued: IncidentView | null = null;
  private timer: NodeJS.Timeout | null = null;
  private chain: Promise<void> = Promise.resolve();
  private interval: number;
  private readonly now: () => number;

  constructor(private readonly options: IncidentOptions) {
    this.commentId = options.commentId ?? null;
    this.interval = Math.max(MIN_EDIT_INTERVAL_MS, options.intervalMs ?? EDIT_INTERVAL_MS);
    this.now = options.now ?? Date.now;
  }

  get id(): number | null {
    return this.commentId;
  }

  get url(): string | null {
    return this.commentUrl;
  }

  /** Writes now (the plan, or the final state); later calls to `update` are throttled again. */
  async write(view: IncidentView): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.queued = null;
    this.chain = this.chain.then(() => this.send(view));
    await this.chain;
  }

  /** The newest state, sent when the cadence allows. */
  update(view: IncidentView): void {
    if (this.disabled) return;
    this.queued = view;
    if (this.timer) return;
    const wait = Math.max(0, this.lastWrite + this.interval - this.now());
    this.timer = setTimeout(() => {
      this.timer = null;
      const next = this.queued;
      this.queued = null;
      if (next) this.chain = this.chain.then(() => this.send(next));
    }, wait);
    // Never keep the process alive for a courtesy edit; the final write is awaited.
    this.timer.unref();
  }

  /** Drops a pending throttled edit (the caller writes the final state itself). */
  async settle(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.queued = null;
    await this.chain;
  }

  /** Sets the run's state label and removes the other state labels this action uses. */
  async label(state: string): Promise<void> {
    if (!this.options.labels || this.disabled) return;
    const { client, issue } = this.options;
    try {
      await client.addLabels(issue, [labelFor(state)]);
      for (const other of STATE_LABELS) {
        if (other !== state) await client.removeLabel(issue, labelFor(other));
      }
    } catch (error) {
      const why = explainCommentFailure(error, issue);
      this.options.log.warning(why.message.replace("comment on", "label"));
    }
  }

  private async find(runId: string): Promise<number | null> {
    const { client, issue } = this.options;
    if (this.commentId !== null) {
      const known = await client.getComment(this.commentId);
      if (known && markerRunId(known.body) === runId) return known.id;
    }
    // The first comment carrying the marker is ours: anyone else could copy it only after seeing it.
    const all = await client.listComments(issue);
    return all.find((c) => markerRunId(c.body) === runId)?.id ?? null;
  }

  private async send(view: IncidentView): Promise<void> {
    if (this.disabled) return;
    const { client, issue, log } = this.options;
    // Nothing secret belongs in a comment; redact registered secrets (tokens, SAS links) regardless.
    const body = redact(renderIncidentComment(view));
    try {
      if (!this.verified) {
        // A resumed run edits the comment the earlier run made, if it still carries the marker.
        if (this.commentId !== null) this.commentId = await this.find(view.runId);
        this.verified = true;
      }
      const ref =
        this.commentId === null
          ? await client.createComment(issue, body)
          : await client.updateComment(this.commentId, body);
      if (this.commentId === null) log.info(`Incident comment on issue #${issue}: ${ref.url}`);
      this.commentId = ref.id;
      this.commentUrl = ref.url;
      this.lastWrite = this.now();
    } catch (error) {
      const why = explainCommentFailure(error, issue);
      log.warning(why.message);
      if (why.fatal) this.disabled = true;
      else this.interval = Math.min(this.interval * 2, 5 * 60_000);
      this.lastWrite = this.now();
    }
  }
}
