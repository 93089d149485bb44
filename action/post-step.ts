/**
 * The action's post step. It runs after main even when main failed or the job was cancelled
 * (`post-if` defaults to `always()`). When main did not publish (a signal stopped it, or it crashed
 * mid-run), it cancels this run's unfinished machine actions from the journal, writes the report and
 * summary, and uploads what was collected.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import * as core from "@actions/core";
import { createMdeClient } from "../shared/api/client.js";
import { exitCodeFor } from "../shared/errors.js";
import type { RunReport } from "../shared/report/types.js";
import { cancelRun, PLAN_FILE, readReport } from "../shared/run/index.js";
import { reportBurst } from "../shared/runtime/heap-policy.js";
import type { UploadOutcome } from "./artifact.js";
import { connectionOptions, githubOidcAssertion, type OidcAssertion } from "./connection.js";
import { createGitHubClient } from "./github/client.js";
import { githubInitiator, githubPointer } from "./github/initiator.js";
import { publishedArtifactName } from "./github/resume.js";
import { readRunRecord } from "./github/run-record.js";
import { GitHubSide } from "./github/side.js";
import type { ActionInputs } from "./inputs.js";
import { readInputs } from "./inputs.js";
import { installMasking, reportFailure } from "./lifecycle.js";
import { publishResults } from "./publish.js";
import { STATE } from "./state.js";

/**
 * The server force-ends a cancelled job about 5 minutes after the cancel; publish what exists before
 * that rather than lose the upload to a device slow to acknowledge its cancellation.
 */
export const POST_CANCEL_BUDGET_MS = 3 * 60_000;

async function cancelWithin(
  budgetMs: number,
  cancel: () => Promise<RunReport>,
  outDir: string,
): Promise<RunReport> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<"late">((resolve) => {
    timer = setTimeout(() => resolve("late"), budgetMs);
  });
  try {
    const first = await Promise.race([cancel(), late]);
    if (first !== "late") return first;
    core.warning(`Cancelling took longer than ${budgetMs / 1000} s; publishing the last report written`);
    return await readReport(outDir);
  } finally {
    clearTimeout(timer);
  }
}

/** The incident comment of a run main could not finish: its final (cancelled) state. */
async function finishOnIssue(
  inputs: ActionInputs,
  outDir: string,
  report: RunReport,
  upload: UploadOutcome | null,
  artifactNote: string | null,
  artifactName: string,
): Promise<void> {
  const record = readRunRecord(outDir);
  const gh = inputs.github;
  if (!record || !gh.token || !gh.comment || (gh.issue ?? record.issue) === null) return;
  try {
    const side = new GitHubSide({
      gh,
      client: await createGitHubClient(gh.token),
      outDir,
      record,
      runbookName: report.runbook,
      artifactName: inputs.uploadArtifact ? artifactName : null,
      runId: report.runId,
    });
    await side.finish(report, upload, artifactNote);
  } catch (error) {
    core.warning(`Incident comment not updated: ${error instanceof Error ? error.message : String(error)}`);
  }
}

export async function runPostStep(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  installMasking(env);
  const phase = core.getState(STATE.phase);
  const outDir = core.getState(STATE.outDir);
  if ((phase !== "running" && phase !== "interrupted") || !outDir) {
    core.info(
      phase === "published"
        ? "Main step finished and published; nothing to clean up."
        : "No run was started; nothing to clean up.",
    );
    return;
  }
  if (!existsSync(path.join(outDir, PLAN_FILE))) {
    // Stopped before the run was planned: nothing can have been submitted.
    core.info(`Main step stopped (${phase}) before anything was submitted; nothing to clean up.`);
    return;
  }
  core.info(`Main step did not finish (${phase}); cancelling this run's unfinished actions in ${outDir}`);
  let assertion: OidcAssertion | null = null;
  try {
    // Same inputs as main (the runner passes them to post too); the output folder is main's.
    const inputs = { ...readInputs(env), outputDir: outDir };
    assertion = inputs.auth === "oidc" ? githubOidcAssertion(inputs.audience) : null;
    const api = createMdeClient(connectionOptions(inputs, assertion));
    try {
      const ctx = {
        api,
        initiator: githubInitiator(inputs.github.run, null),
        commentPointer: githubPointer(inputs.github.run),
        aroundReport: reportBurst,
      };
      const report = await cancelWithin(POST_CANCEL_BUDGET_MS, () => cancelRun(ctx, outDir), outDir);
      core.info(`Run ${report.runId}: ${report.status}; ${JSON.stringify(report.counts)}`);
      // Outputs of a post step are not visible to later steps; the summary and artifact are what count.
      const artifactName = publishedArtifactName(inputs, report);
      const { failure, upload, artifactNote } = await publishResults(
        { ...inputs, artifactName },
        report,
        env,
        {
          setOutputs: false,
        },
      );
      await finishOnIssue(inputs, outDir, report, upload, artifactNote, artifactName);
      if (failure) core.setFailed(failure);
    } finally {
      await api.close();
    }
  } catch (error) {
    reportFailure(error, assertion);
    process.exitCode = exitCodeFor(error);
  }
}
