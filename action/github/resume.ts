/**
 * Collect later, across workflow runs. A run that stops watching (detach-after, or the job's time
 * limit near) uploads its folder, journal included, as an artifact whose name carries the run:
 *
 *     <artifact-name>.<run id>.<status>      e.g. mde-lr-triage-attempt1-3f2a1b0c.20261123T064000-1a2b3c4d.pending
 *
 * A later workflow run (`resume-from`) finds the newest artifact of that run across the repository,
 * downloads it (another run's artifact: a token with `actions: read`), unpacks it into a fresh folder
 * and resumes it with the core's resumeRun, which submits nothing twice (the journal and the run tag
 * say what was sent). Its own artifact, named the same way, becomes the run's newest state, so a later
 * harvest always continues from the newest folder, never from a stale one that could re-submit.
 * MDE keeps a queued action for up to 3 days, so pending runs are looked for within 3 days.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { InputError } from "../../shared/errors.js";
import type { RunReport } from "../../shared/report/types.js";
import { PLAN_FILE } from "../../shared/run/index.js";
import { type ActionInputs, sanitizeArtifactName } from "../inputs.js";
import type { GitHubClient, RepoArtifact } from "./client.js";
import { CORE_RUN_ID, chainsArtifacts, type ResumeFrom } from "./inputs.js";
import { extractZipInside } from "./unzip.js";

export const PENDING_WINDOW_MS = 3 * 24 * 3_600_000;
const STATUSES = ["succeeded", "failed", "partial", "cancelled", "pending"] as const;
const CHAIN_NAME = new RegExp(`\\.(\\d{8}T\\d{6}-[0-9a-f]{8})\\.(${STATUSES.join("|")})$`);
/** Pages of 100 artifacts scanned (newest first) when looking for a run's newest state. */
const MAX_PAGES = 10;

export function chainArtifactName(base: string, runId: string, status: string): string {
  return sanitizeArtifactName(`${base}.${runId}.${status}`);
}

export function parseChainName(name: string): { runId: string; status: string } | null {
  const m = CHAIN_NAME.exec(name);
  return m?.[1] && m[2] ? { runId: m[1], status: m[2] } : null;
}

export interface ChainHead {
  runId: string;
  status: string;
  artifact: RepoArtifact;
}

function newer(a: RepoArtifact, b: RepoArtifact): boolean {
  const ta = Date.parse(a.createdAt ?? "") || 0;
  const tb = Date.parse(b.createdAt ?? "") || 0;
  return ta !== tb ? ta > tb : a.id > b.id;
}

/** The newest artifact of every run seen, from the repository's artifact list. */
export async function chainHeads(
  client: GitHubClient,
  sinceMs: number | null,
): Promise<Map<string, ChainHead>> {
  const heads = new Map<string, ChainHead>();
  for (let page = 1; page <= MAX_PAGES; page++) {
    const { artifacts } = await client.listRepoArtifacts(page);
    let anyRecent = false;
    for (const a of artifacts) {
      const created = Date.parse(a.createdAt ?? "");
      if (sinceMs !== null && Number.isFinite(created) && created < sinceMs) continue;
      anyRecent = true;
      const chain = parseChainName(a.name);
      if (!chain || a.expired) continue;
      const known = heads.get(chain.runId);
      if (!known || newer(a, known.artifact)) heads.set(chain.runId, { ...chain, artifact: a });
    }
    // The list is newest first (GitHub's order, not a documented guarantee): stop at a page with
    // nothing recent, or at the last page.
    if (artifacts.length < 100 || !anyRecent) break;
  }
  return heads;
}

/** Runs whose newest state is `pending` and younger than the window, newest first. */
export async function pendingRuns(client: GitHubClient, nowMs: number): Promise<ChainHead[]> {
  const heads = await chainHeads(client, nowMs - PENDING_WINDOW_MS);
  return [...heads.values()]
    .filter((h) => h.status === "pending")
    .sort((a, b) => (newer(a.artifact, b.artifact) ? -1 : 1));
}

export type ResumeTarget = { kind: "pending"; head: ChainHead } | { kind: "finished"; head: ChainHead };

export async function resolveResume(
  client: GitHubClient,
  from: ResumeFrom,
  nowMs: number,
): Promise<ResumeTarget> {
  if (from.kind === "latest") {
    const [head] = await pendingRuns(client, nowMs);
    if (!head) {
      throw new InputError(
        "resume-from",
        "no pending run in this repository in the last 3 days (nothing to collect)",
      );
    }
    return { kind: "pending", head };
  }
  let runId: string;
  if (from.kind === "workflowRun") {
    const chains = (await client.listRunArtifacts(from.id)).flatMap((a) => {
      const c = parseChainName(a.name);
      return c && !a.expired ? [c] : [];
    });
    const ids = [...new Set(chains.filter((c) => c.status === "pending").map((c) => c.runId))];
    if (ids.length === 0) {
      throw new InputError(
        "resume-from",
        `workflow run ${from.id} left no pending run folder (an artifact named <artifact-name>.<run id>.pending); check the run id, or use \`latest\``,
      );
    }
    if (ids.length > 1) {
      throw new InputError(
        "resume-from",
        `workflow run ${from.id} left ${ids.length} pending runs (${ids.join(", ")}); give one of these run ids instead`,
      );
    }
    runId = ids[0] as string;
  } else {
    runId = from.runId;
  }
  const head = (await chainHeads(client, null)).get(runId);
  if (!head) {
    throw new InputError(
      "resume-from",
      `no artifact of run ${runId} in this repository (expired, or never uploaded)`,
    );
  }
  return head.status === "pending" ? { kind: "pending", head } : { kind: "finished", head };
}

/**
 * Downloads the artifact (another workflow run's: the artifact client's `findBy` with the token) and
 * unpacks it into `dest`, which must be new or empty; checks that it is the run it claims to be.
 */
export async function downloadRunFolder(
  token: string,
  client: GitHubClient,
  head: ChainHead,
  dest: string,
): Promise<void> {
  const artifact = await import("@actions/artifact");
  const tmp = mkdtempSync(path.join(tmpdir(), "mde-lr-resume-"));
  try {
    await new artifact.DefaultArtifactClient().downloadArtifact(head.artifact.id, {
      path: tmp,
      // Unpacked here, not by the artifact client: every entry is checked to stay inside `dest`.
      skipDecompress: true,
      findBy: {
        token,
        workflowRunId: head.artifact.workflowRunId ?? 0,
        repositoryOwner: client.owner,
        repositoryName: client.repo,
      },
    });
    const [zip] = readdirSync(tmp)
      .map((f) => path.join(tmp, f))
      .filter((f) => statSync(f).isFile());
    if (!zip) throw new InputError("resume-from", `artifact ${head.artifact.id} downloaded empty`);
    await extractZipInside(zip, dest);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  let planRunId: unknown;
  try {
    planRunId = (JSON.parse(readFileSync(path.join(dest, PLAN_FILE), "utf8")) as { runId?: unknown }).runId;
  } catch {
    throw new InputError(
      "resume-from",
      `artifact "${head.artifact.name}" holds no run folder (${PLAN_FILE} missing)`,
    );
  }
  if (typeof planRunId !== "string" || !CORE_RUN_ID.test(planRunId) || planRunId !== head.runId) {
    throw new InputError(
      "resume-from",
      `artifact "${head.artifact.name}" holds run ${String(planRunId).slice(0, 40)}, not ${head.runId}`,
    );
  }
}

/** The artifact name: `artifact-name`, plus `.<run id>.<status>` when the run may continue elsewhere. */
export function publishedArtifactName(inputs: ActionInputs, report: RunReport): string {
  return chainsArtifacts(inputs.github) || report.status === "pending"
    ? chainArtifactName(inputs.artifactName, report.runId, report.status)
    : inputs.artifactName;
}
