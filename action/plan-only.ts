/**
 * `dry-run: true`: resolve targets, run preflight and pack the steps without submitting anything or
 * touching the library; print the plan and put it in the job summary.
 */
import * as core from "@actions/core";
import type { MdeApi } from "../shared/api/types.js";
import { buildPlan } from "../shared/plan/index.js";
import type { Plan } from "../shared/plan/types.js";
import { redact } from "../shared/redact.js";
import type { Runbook } from "../shared/runbook/types.js";
import type { ActionInputs } from "./inputs.js";
import { writeSummary } from "./publish.js";
import { escapeHtml } from "./summary.js";

export function renderPlanSummary(plan: Plan): string {
  const rows = plan.devices.map(
    (d) =>
      `<tr><td>${escapeHtml(d.computerDnsName ?? "")}<br><code>${escapeHtml(d.machineId)}</code></td>` +
      `<td>${escapeHtml(d.osPlatform ?? "")}</td><td>${d.actions.length}</td></tr>`,
  );
  const skipped = plan.skipped.map(
    (s) =>
      `<tr><td>${escapeHtml(s.computerDnsName ?? "")}<br><code>${escapeHtml(s.machineId)}</code></td>` +
      `<td colspan="2">skipped: ${escapeHtml(s.error.code)}</td></tr>`,
  );
  return [
    `<h2>MDE Live Response plan (dry run): ${escapeHtml(plan.runbook)}</h2>`,
    `<p>${plan.devices.length} device(s), ${plan.actions} machine action(s), ${plan.skipped.length} skipped, ` +
      `${plan.unresolved.length} unresolved target(s); about ${Math.ceil(plan.eta.seconds / 60)} min (bottleneck: ${escapeHtml(plan.eta.bottleneck)}). Nothing was submitted.</p>`,
    "<table><thead><tr><th>Device</th><th>OS</th><th>Actions</th></tr></thead><tbody>",
    ...rows.slice(0, 2000),
    ...skipped.slice(0, 2000),
    "</tbody></table>",
    ...plan.warnings.slice(0, 50).map((w) => `<p>⚠️ ${escapeHtml(w)}</p>`),
  ].join("\n");
}

export async function planOnly(
  ctx: { api: MdeApi; signal: AbortSignal },
  runbook: Runbook,
  baseDir: string,
  inputs: ActionInputs,
): Promise<void> {
  const plan = await buildPlan(ctx.api, runbook, {
    baseDir,
    dryRun: true,
    signal: ctx.signal,
    ...(inputs.machineIds.length > 0 ? { machineIds: inputs.machineIds } : {}),
  });
  core.info(redact(JSON.stringify(plan, null, 2)));
  for (const u of plan.unresolved)
    core.warning(redact(`Target ${u.selector} "${u.value}": ${u.error.message}`));
  core.setOutput("status", "planned");
  core.setOutput(
    "summary",
    JSON.stringify({ devices: plan.devices.length, actions: plan.actions, skipped: plan.skipped.length }),
  );
  core.setOutput("action-ids", "{}");
  await writeSummary(renderPlanSummary(plan));
}
