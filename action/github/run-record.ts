/**
 * github-run.json in the run folder: what the GitHub side of a run must remember across processes (the
 * post step, a resumed run in another workflow run): the incident issue and comment, and who asked for
 * what, from where (custody). Plain data, no secrets; it travels in the artifact with the journal.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { writeFileAtomicSync } from "../../shared/results/safe-fs.js";
import type { RunbookSource } from "../inputs.js";
import { type CustodyLine, RUN_URL } from "./comment-body.js";

export const RUN_RECORD_FILE = "github-run.json";

export interface RunVisit {
  role: "started" | "resumed";
  actor: string | null;
  workflow: string | null;
  event: string | null;
  runUrl: string | null;
  at: string;
}

export interface RunRecord {
  version: 1;
  issue: number | null;
  commentId: number | null;
  runbook: { label: string; sha256: string | null };
  /** The person the run was done for: the ChatOps commenter, else the workflow's actor. */
  requestedBy: string | null;
  visits: RunVisit[];
}

export function runbookIdentity(source: RunbookSource, workspace: string): RunRecord["runbook"] {
  const sha = (data: string | Buffer) => createHash("sha256").update(data).digest("hex");
  switch (source.kind) {
    case "path": {
      const rel = path.relative(workspace, source.path).split(path.sep).join("/");
      let digest: string | null = null;
      try {
        digest = sha(readFileSync(source.path));
      } catch {
        digest = null;
      }
      return { label: rel.startsWith("..") ? source.path : rel, sha256: digest };
    }
    case "inline":
      return { label: "inline `runbook` input", sha256: sha(source.text) };
    case "commands":
      return { label: "`commands` input", sha256: sha(source.text) };
    case "none":
      return { label: "(from the run folder)", sha256: null };
  }
}

export function readRunRecord(outDir: string): RunRecord | null {
  const file = path.join(outDir, RUN_RECORD_FILE);
  if (!existsSync(file)) return null;
  try {
    const r = JSON.parse(readFileSync(file, "utf8")) as Partial<RunRecord>;
    if (r.version !== 1) return null;
    return {
      version: 1,
      issue: typeof r.issue === "number" ? r.issue : null,
      commentId: typeof r.commentId === "number" ? r.commentId : null,
      runbook: {
        label: typeof r.runbook?.label === "string" ? r.runbook.label : "",
        sha256: typeof r.runbook?.sha256 === "string" ? r.runbook.sha256 : null,
      },
      requestedBy: typeof r.requestedBy === "string" ? r.requestedBy : null,
      visits: Array.isArray(r.visits) ? r.visits.filter((v) => v && typeof v === "object").slice(-50) : [],
    };
  } catch {
    return null;
  }
}

export function writeRunRecord(outDir: string, record: RunRecord): void {
  writeFileAtomicSync(path.join(outDir, RUN_RECORD_FILE), `${JSON.stringify(record, null, 2)}\n`);
}

/**
 * What the GitHub record adds to the custody rows. `brief` once the report carries the core's custody
 * block (runbook, every session of every front end): then only what the core cannot know is listed.
 */
export function custodyLines(record: RunRecord, artifactName: string | null, brief = false): CustodyLine[] {
  const lines: CustodyLine[] = [];
  if (record.requestedBy) lines.push({ label: "Requested by", value: record.requestedBy });
  if (brief) {
    if (artifactName) lines.push({ label: "Artifact", value: artifactName });
    return lines;
  }
  lines.push({ label: "Runbook", value: record.runbook.label });
  if (record.runbook.sha256) lines.push({ label: "Runbook sha256", value: record.runbook.sha256 });
  for (const v of record.visits) {
    const who = [v.actor, v.workflow ? `workflow ${v.workflow}` : null, v.event ? `on ${v.event}` : null]
      .filter(Boolean)
      .join(", ");
    lines.push({ label: `${v.role === "started" ? "Started" : "Resumed"} ${v.at}`, value: who || "unknown" });
    // The record travels in an artifact: link only what has the shape of a workflow run's page.
    if (v.runUrl) lines.push({ label: "Workflow run", value: v.runUrl, link: RUN_URL.test(v.runUrl) });
  }
  if (artifactName) lines.push({ label: "Artifact", value: artifactName });
  return lines;
}
