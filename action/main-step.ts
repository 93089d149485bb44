/**
 * The action's main step: validate, sign in, run the runbook through the shared orchestrator, publish.
 *
 * Cancellation: the runner sends SIGINT, waits 7.5 s, then SIGTERM and 2.5 s later kills the tree. On
 * the first signal the run is aborted (no new submissions), the state says "interrupted", and the process
 * exits before the grace ends whatever the orchestrator is doing; the post step then cancels this run's
 * unfinished actions from the journal, writes the report and uploads what was collected.
 */
import * as core from "@actions/core";
import { createMdeClient } from "../shared/api/client.js";
import { CancelledError, exitCodeFor } from "../shared/errors.js";
import { startRun } from "../shared/run/index.js";
import { connectionOptions, githubOidcAssertion, type OidcAssertion } from "./connection.js";
import { createEventLogger } from "./events-log.js";
import { readInputs } from "./inputs.js";
import { installMasking, reportFailure } from "./lifecycle.js";
import { planOnly } from "./plan-only.js";
import { publishResults } from "./publish.js";
import { loadActionRunbook } from "./runbook-source.js";
import { STATE } from "./state.js";

/** Leave the runner's 7.5 s SIGINT grace with room to spare for process teardown. */
export const SIGNAL_GRACE_MS = 6_000;

export async function runMainStep(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  installMasking(env);
  const controller = new AbortController();
  let assertion: OidcAssertion | null = null;
  const onSignal = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) return;
    core.saveState(STATE.phase, "interrupted");
    core.warning(
      `${signal} received: no new submissions; the post step cancels unfinished actions and uploads results`,
    );
    controller.abort(new CancelledError(`${signal} received`));
    // Whatever the orchestrator is still doing, be gone before the runner's SIGTERM/kill.
    setTimeout(() => process.exit(1), SIGNAL_GRACE_MS).unref();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  try {
    const inputs = readInputs(env);
    const { runbook, baseDir } = await loadActionRunbook(
      inputs.runbook,
      inputs.machineIds,
      env,
      inputs.workspace,
    );
    assertion = inputs.auth === "oidc" ? githubOidcAssertion(inputs.audience) : null;
    // The run configures the client's quota account from the runbook's limits (shared/run).
    const api = createMdeClient(connectionOptions(inputs, assertion));
    try {
      if (inputs.dryRun) {
        await planOnly({ api, signal: controller.signal }, runbook, baseDir, inputs);
        return;
      }
      // A signal during validation or sign-in: nothing submitted, nothing for post to do.
      controller.signal.throwIfAborted();
      // Saved before the first submission so the post step can always find this run's journal.
      core.saveState(STATE.outDir, inputs.outputDir);
      core.saveState(STATE.phase, "running");
      const report = await startRun(
        { api, signal: controller.signal, onEvent: createEventLogger() },
        {
          runbook,
          baseDir,
          outDir: inputs.outputDir,
          ...(inputs.machineIds.length > 0 ? { machineIds: inputs.machineIds } : {}),
        },
      );
      if (controller.signal.aborted) {
        // The post step publishes (it runs even for a cancelled job); exit now, within the grace.
        process.exitCode = 1;
        return;
      }
      core.saveState(STATE.phase, "published");
      const { failure } = await publishResults(inputs, report, env);
      if (failure) {
        core.setFailed(failure);
      }
    } finally {
      await api.close();
    }
  } catch (error) {
    if (controller.signal.aborted) {
      process.exitCode = 1;
      return;
    }
    reportFailure(error, assertion);
    process.exitCode = exitCodeFor(error);
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}
