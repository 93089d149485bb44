/**
 * The action's post step. It runs after main even when main failed or the job was cancelled
 * (`post-if` defaults to `always()`). When main did not publish (a signal stopped it, or it crashed
 * mid-run), it cancels this run's unfinished machine actions from the journal, writes the report and
 * summary, and uploads what was collected.
 */
import * as core from "@actions/core";
import { createMdeClient } from "../shared/api/client.js";
import { exitCodeFor } from "../shared/errors.js";
import { cancelRun } from "../shared/run/index.js";
import { connectionOptions, githubOidcAssertion, type OidcAssertion } from "./connection.js";
import { readInputs } from "./inputs.js";
import { installMasking, reportFailure } from "./lifecycle.js";
import { publishResults } from "./publish.js";
import { STATE } from "./state.js";

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
  core.info(`Main step did not finish (${phase}); cancelling this run's unfinished actions in ${outDir}`);
  let assertion: OidcAssertion | null = null;
  try {
    // Same inputs as main (the runner passes them to post too); the output folder is main's.
    const inputs = { ...readInputs(env), outputDir: outDir };
    assertion = inputs.auth === "oidc" ? githubOidcAssertion(inputs.audience) : null;
    const api = createMdeClient(connectionOptions(inputs, assertion));
    try {
      const report = await cancelRun({ api }, outDir);
      core.info(`Run ${report.runId}: ${report.status}; ${JSON.stringify(report.counts)}`);
      // Outputs of a post step are not visible to later steps; the summary and artifact are what count.
      const { failure } = await publishResults(inputs, report, env, { setOutputs: false });
      if (failure) core.setFailed(failure);
    } finally {
      await api.close();
    }
  } catch (error) {
    reportFailure(error, assertion);
    process.exitCode = exitCodeFor(error);
  }
}
