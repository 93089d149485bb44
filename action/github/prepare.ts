/**
 * Before Defender is touched: decide what this step runs (the inputs' runbook, a ChatOps command, or a
 * pending run from an earlier workflow run) and set up the run's GitHub record. Octokit is loaded only
 * when a GitHub feature is in use.
 */

import * as core from "@actions/core";
import { entryId } from "../../shared/report/label.js";
import { readReport } from "../../shared/run/index.js";
import type { ActionInputs, RunbookSource } from "../inputs.js";
import { createGitHubClient, type GitHubClient } from "./client.js";
import type { DeviceLine } from "./comment-body.js";
import { runUrl } from "./event.js";
import { type ChainHead, downloadRunFolder, resolveResume } from "./resume.js";
import { type RunRecord, readRunRecord, runbookIdentity } from "./run-record.js";
import { chatOpsGate, listPending } from "./steps.js";

export interface Prepared {
  client: GitHubClient | null;
  source: RunbookSource;
  machineIds: string[];
  resumed: ChainHead | null;
  record: RunRecord;
  /** A resumed run's devices and name, from the report it downloaded. */
  devices: DeviceLine[];
  runbookName: string | null;
  startedAt: string | null;
}

export type Preparation = { kind: "run"; prepared: Prepared } | { kind: "stop"; failure: string | null };

export function needsGitHub(inputs: ActionInputs): boolean {
  const gh = inputs.github;
  return (
    Boolean(gh.token) &&
    (gh.findPending || gh.chatops !== null || gh.resumeFrom !== null || (gh.comment && gh.issue !== null))
  );
}

function visit(inputs: ActionInputs, role: "started" | "resumed"): RunRecord["visits"][number] {
  const run = inputs.github.run;
  return {
    role,
    actor: run.actor,
    workflow: run.workflow,
    event: run.eventName,
    runUrl: runUrl(run),
    at: new Date().toISOString(),
  };
}

export async function prepareRun(inputs: ActionInputs): Promise<Preparation> {
  const gh = inputs.github;
  const client = needsGitHub(inputs) && gh.token ? await createGitHubClient(gh.token) : null;
  let source = inputs.runbook;
  let machineIds = inputs.machineIds;
  let requestedBy = gh.run.actor;

  if (gh.findPending && client) {
    await listPending(client);
    return { kind: "stop", failure: null };
  }
  if (gh.chatops && client) {
    const gate = await chatOpsGate(client, gh, inputs.workspace);
    if (gate.kind === "stop") return gate;
    source = { kind: "path", path: gate.command.runbookPath };
    machineIds = gate.command.machineIds;
    requestedBy = gh.run.comment?.login ?? requestedBy;
  }
  if (gh.resumeFrom && client && gh.token) {
    const target = await resolveResume(client, gh.resumeFrom, Date.now());
    if (target.kind === "finished") {
      core.info(
        `Run ${target.head.runId} is already ${target.head.status} (artifact ${target.head.artifact.name}); nothing to resume.`,
      );
      core.setOutput("status", target.head.status);
      core.setOutput("run-id", target.head.runId);
      return { kind: "stop", failure: null };
    }
    const head = target.head;
    await core.group(`Download run ${head.runId} (artifact ${head.artifact.name})`, () =>
      downloadRunFolder(gh.token as string, client, head, inputs.outputDir),
    );
    const report = await readReport(inputs.outputDir);
    const earlier = readRunRecord(inputs.outputDir);
    const record: RunRecord = earlier ?? {
      version: 1,
      issue: null,
      commentId: null,
      runbook: { label: report.runbook, sha256: null },
      requestedBy: null,
      visits: [],
    };
    record.visits.push(visit(inputs, "resumed"));
    return {
      kind: "run",
      prepared: {
        client,
        source,
        machineIds,
        resumed: head,
        record,
        devices: report.machines.map((m) => ({
          machineId: entryId(m),
          computerDnsName: m.computerDnsName,
          status: m.status === "pending" ? null : m.status,
        })),
        runbookName: report.runbook,
        startedAt: report.startedAt,
      },
    };
  }
  const record: RunRecord = {
    version: 1,
    issue: gh.issue,
    commentId: null,
    runbook: runbookIdentity(source, inputs.workspace),
    requestedBy,
    visits: [visit(inputs, "started")],
  };
  return {
    kind: "run",
    prepared: {
      client,
      source,
      machineIds,
      resumed: null,
      record,
      devices: [],
      runbookName: null,
      startedAt: null,
    },
  };
}
