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
import type { RunReport } from "../shared/report/types.js";
import { resumeRun, startRun } from "../shared/run/index.js";
import type { RunEvent } from "../shared/run/types.js";
import { reportBurst } from "../shared/runtime/heap-policy.js";
import { connectionOptions, githubOidcAssertion, type OidcAssertion } from "./connection.js";
import { createEventLogger } from "./events-log.js";
import { githubInitiator, githubPointer } from "./github/initiator.js";
import { effectiveDetachMs } from "./github/inputs.js";
import { prepareRun } from "./github/prepare.js";
import { publishedArtifactName } from "./github/resume.js";
import { GitHubSide } from "./github/side.js";
import { readInputs } from "./inputs.js";
import { installMasking, reportFailure } from "./lifecycle.js";
import { planOnly } from "./plan-only.js";
import { publishResults } from "./publish.js";
import { loadActionRunbook } from "./runbook-source.js";
import { STATE } from "./state.js";

/** Leave the runner's 7.5 s SIGINT grace with room to spare for process teardown. */
export const SIGNAL_GRACE_MS = 6_000;

export async function runMainStep(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const stepStartedMs = Date.now();
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
    const gh = inputs.github;
    const preparation = await prepareRun(inputs);
    if (preparation.kind === "stop") {
      if (preparation.failure) core.setFailed(preparation.failure);
      return;
    }
    const prepared = preparation.prepared;
    const outDir = inputs.outputDir;
    const loaded = prepared.resumed
      ? null
      : await loadActionRunbook(prepared.source, prepared.machineIds, env, inputs.workspace);
    assertion = inputs.auth === "oidc" ? githubOidcAssertion(inputs.audience) : null;
    // The run configures the client's quota account from the runbook's limits (shared/run).
    const api = createMdeClient(connectionOptions(inputs, assertion));
    try {
      if (inputs.dryRun && loaded) {
        await planOnly({ api, signal: controller.signal }, loaded.runbook, loaded.baseDir, inputs);
        return;
      }
      // A signal during validation or sign-in: nothing submitted, nothing for post to do.
      controller.signal.throwIfAborted();
      // Saved before the first submission so the post step can always find this run's journal.
      core.saveState(STATE.outDir, outDir);
      core.saveState(STATE.phase, "running");
      const side = new GitHubSide({
        gh,
        client: prepared.client,
        outDir,
        record: prepared.record,
        runbookName: prepared.runbookName ?? loaded?.runbook.name ?? "",
        artifactName: null,
        devices: prepared.devices,
        runId: prepared.resumed?.runId ?? null,
        startedAt: prepared.startedAt,
      });
      const log = createEventLogger();
      const ctx = {
        api,
        signal: controller.signal,
        // Custody: this workflow run, and the person it was done for (a resume is the current actor's).
        initiator: githubInitiator(gh.run, prepared.resumed ? null : prepared.record.requestedBy),
        commentPointer: githubPointer(gh.run),
        aroundReport: reportBurst,
        onEvent: (event: RunEvent) => {
          log(event);
          side.onEvent(event);
        },
      };
      const detachAfterMs = effectiveDetachMs(gh, Date.now() - stepStartedMs);
      const detach = detachAfterMs !== undefined ? { detachAfterMs } : {};
      let report: RunReport;
      if (prepared.resumed) {
        await side.begin();
        core.info(
          `Resuming run ${prepared.resumed.runId} from ${outDir}; nothing already sent is sent again`,
        );
        report = await resumeRun(ctx, outDir, detach);
      } else if (loaded) {
        report = await startRun(ctx, {
          runbook: loaded.runbook,
          baseDir: loaded.baseDir,
          outDir,
          ...(prepared.machineIds.length > 0 ? { machineIds: prepared.machineIds } : {}),
          ...detach,
        });
      } else {
        throw new Error("nothing to run");
      }
      if (controller.signal.aborted) {
        // The post step publishes (it runs even for a cancelled job); exit now, within the grace.
        process.exitCode = 1;
        return;
      }
      core.saveState(STATE.phase, "published");
      const artifactName = publishedArtifactName(inputs, report);
      side.setArtifactName(inputs.uploadArtifact ? artifactName : null);
      const { failure, upload, artifactNote } = await publishResults(
        { ...inputs, artifactName },
        report,
        env,
      );
      await side.finish(report, upload, artifactNote);
      core.setOutput("run-id", report.runId);
      core.setOutput("issue-comment-url", side.incident?.url ?? "");
      if (report.status === "pending") {
        core.notice(
          `Run ${report.runId} is pending: devices are still queued. Collect later with \`resume-from: ${report.runId}\` (artifact ${artifactName}).`,
        );
      }
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
