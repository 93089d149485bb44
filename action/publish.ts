/**
 * After a run (main) or a cancellation (post): upload the output folder, set the outputs, write the
 * job summary and the grouped annotations, and decide whether the step fails (`fail-on`).
 */

import path from "node:path";
import * as core from "@actions/core";
import { redact } from "../shared/redact.js";
import type { RunReport } from "../shared/report/types.js";
import { failureStatuses } from "../shared/report/verdict.js";
import { groupFailures } from "./annotations.js";
import { type UploadOutcome, uploadOutputFolder } from "./artifact.js";
import type { ActionInputs, Env, FailOn } from "./inputs.js";
import { renderSummary } from "./summary.js";

/**
 * The reason the step fails, or null. Skipped devices (preflight) and pending ones (detached) never fail
 * the step by themselves: a runbook that must reach every device says `onIneligible: fail`.
 */
export function failureReason(report: RunReport, failOn: FailOn): string | null {
  if (failOn === "never") return null;
  const statuses = failureStatuses(report);
  const bad = statuses.reduce((n, s) => n + (report.counts[s] ?? 0), 0);
  if (report.status === "cancelled") return "the run was cancelled";
  if (bad === 0) return null;
  const detail = statuses
    .filter((s) => (report.counts[s] ?? 0) > 0)
    .map((s) => `${report.counts[s]} ${s}`)
    .join(", ");
  if (failOn === "any") return `${bad} of ${report.machines.length} device(s) did not succeed (${detail})`;
  if (report.counts.succeeded === 0) return `no device succeeded (${detail})`;
  return null;
}

/** The job summary is a nicety: without GITHUB_STEP_SUMMARY (a local runner) say so and go on. */
export async function writeSummary(html: string): Promise<void> {
  try {
    await core.summary.addRaw(redact(html)).write();
  } catch (error) {
    core.warning(`Job summary not written: ${error instanceof Error ? error.message : String(error)}`);
  }
}

export function actionIdsByDevice(report: RunReport): Record<string, string[]> {
  return Object.fromEntries(
    report.machines.flatMap((m) => (m.machineId === null ? [] : [[m.machineId, m.actionIds] as const])),
  );
}

export interface PublishResult {
  upload: UploadOutcome | null;
  failure: string | null;
  /** Why there is no artifact link (upload off or failed), for the incident comment. */
  artifactNote: string | null;
}

export async function publishResults(
  inputs: ActionInputs,
  report: RunReport,
  env: Env,
  options: { setOutputs: boolean } = { setOutputs: true },
): Promise<PublishResult> {
  const reportPath = path.join(inputs.outputDir, "report.json");
  let upload: UploadOutcome | null = null;
  if (inputs.uploadArtifact) {
    upload = await core.group(`Upload artifact ${inputs.artifactName}`, async () => {
      const outcome = await uploadOutputFolder({
        name: inputs.artifactName,
        root: inputs.outputDir,
        retentionDays: inputs.retentionDays,
        env,
      });
      for (const s of outcome.skipped) core.warning(redact(`Not uploaded: ${s.path} (${s.reason})`));
      if (outcome.ok) {
        core.info(`Uploaded ${outcome.files} file(s), ${outcome.size} bytes, as artifact ${outcome.id}`);
      }
      return outcome;
    });
  }
  if (options.setOutputs) {
    core.setOutput("status", report.status);
    core.setOutput("report", reportPath);
    core.setOutput("action-ids", JSON.stringify(actionIdsByDevice(report)));
    core.setOutput("summary", JSON.stringify(report.counts));
    core.setOutput("artifact-id", upload?.ok ? String(upload.id) : "");
    core.setOutput("artifact-url", upload?.ok ? (upload.url ?? "") : "");
  }

  let artifactNote: string | null = null;
  if (upload && !upload.ok) {
    artifactNote = upload.message;
    core.error(redact(upload.message), { title: "Results not uploaded" });
  } else if (!inputs.uploadArtifact) {
    artifactNote = `Artifact upload is off; results are in ${inputs.outputDir}.`;
  }
  const html = renderSummary(report, {
    artifactUrl: upload?.ok ? upload.url : null,
    artifactNote,
    reportPath: upload?.ok ? null : reportPath,
  });
  await writeSummary(html);

  for (const a of groupFailures(report)) {
    const emit = a.level === "error" ? core.error : core.warning;
    emit(redact(a.message), { title: redact(a.title) });
  }

  let failure = failureReason(report, inputs.failOn);
  if (!failure && upload && !upload.ok)
    failure = "the results could not be uploaded (they are still on disk)";
  return { upload, failure, artifactNote };
}
