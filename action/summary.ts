/**
 * Renders the job summary (GITHUB_STEP_SUMMARY) from a RunReport: one table row per device and step.
 * Device-controlled text (names, paths, script output) is untrusted, and `core.summary` does not escape
 * table cells, so everything goes through `escapeHtml`. The runner drops a step's whole summary above
 * 1 MiB, so rows are added against a byte budget and the cut is stated.
 */
import { entryId, STATUS_ICON } from "../shared/report/label.js";
import type { CommandReport, MachineReport, RunReport } from "../shared/report/types.js";

/** The runner's limit is 1 MiB per step; stay well below it (other text may share the step). */
export const SUMMARY_BUDGET_BYTES = 1024 * 1024 - 64 * 1024;
const EXCERPT_CHARS = 160;
/** \u0000 padding is common in transcripts (mde-api.md §4.6); tabs and newlines are kept. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters is the point
const CONTROL_CHARS = /[\u0000-\u0008\u000b-\u001f\u007f]/g;

/** Escapes text for HTML element content and attribute values; also defuses @mentions and markdown. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"'`@|\\*_[\]]/g, (c) => `&#${c.charCodeAt(0)};`);
}

function excerpt(value: string | null): string {
  if (!value) return "";
  const clean = value
    .replace(CONTROL_CHARS, "")
    // PowerShell transcripts open with a boilerplate line naming the transcript file; it says nothing.
    .replace(/^\s*Transcript started, output file is [^\n]*\n?/, "")
    .trim();
  const short = clean.length > EXCERPT_CHARS ? `${clean.slice(0, EXCERPT_CHARS)}…` : clean;
  return short.replace(/\s*\n\s*/g, " ⏎ ");
}

export function formatDuration(startedAt: string | null, finishedAt: string | null): string {
  if (!startedAt || !finishedAt) return "";
  const ms = Date.parse(finishedAt) - Date.parse(startedAt);
  if (!Number.isFinite(ms) || ms < 0) return "";
  if (ms < 1000) return `${ms} ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  return s % 60 === 0 ? `${m} min` : `${m} min ${s % 60} s`;
}

function status(value: string): string {
  return `${STATUS_ICON[value] ?? ""} ${escapeHtml(value)}`.trim();
}

function target(c: CommandReport): string {
  return c.scriptName ?? c.path ?? "";
}

function deviceLabel(m: MachineReport): string {
  const name = m.computerDnsName ? `${escapeHtml(m.computerDnsName)}<br>` : "";
  return `${name}<code>${escapeHtml(entryId(m))}</code>`;
}

function machineRows(m: MachineReport): string[] {
  const device = deviceLabel(m);
  // Nothing ran on it (preflight skip, a target that found no device): one row with the reason.
  if (m.commands.length === 0 || m.status === "unresolved" || m.status === "skipped") {
    const why = m.error ? `${escapeHtml(m.error.code)}: ${escapeHtml(excerpt(m.error.message))}` : "";
    return [
      `<tr><td>${device}</td><td></td><td></td><td>${status(m.status)}</td><td></td><td></td><td>${why}</td></tr>`,
    ];
  }
  return m.commands.map((c) => {
    const detail = c.errors.length > 0 ? c.errors.join("; ") : (c.stdout ?? c.stderr ?? c.file ?? "");
    const what = `${escapeHtml(c.type)} <code>${escapeHtml(target(c))}</code>`;
    return (
      `<tr><td>${device}</td><td>${c.step}. ${what}</td><td>${status(c.status)}</td>` +
      `<td>${status(m.status)}</td><td>${c.exitCode ?? ""}</td>` +
      `<td>${formatDuration(c.startedAt, c.finishedAt)}</td><td>${escapeHtml(excerpt(detail))}</td></tr>`
    );
  });
}

export interface SummaryExtras {
  artifactUrl?: string | null;
  artifactNote?: string | null;
  reportPath?: string | null;
  heading?: string;
}

/** Renders the summary, never larger than `budget` bytes (UTF-8). */
export function renderSummary(
  report: RunReport,
  extras: SummaryExtras = {},
  budget = SUMMARY_BUDGET_BYTES,
): string {
  const counts = Object.entries(report.counts)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${status(k)} ${n}`)
    .join(" · ");
  const head = [
    `<h2>${escapeHtml(extras.heading ?? "MDE Live Response")}: ${escapeHtml(report.runbook)}</h2>`,
    `<p><b>${status(report.status)}</b> · ${report.machines.length} device(s) · ${counts || "no devices"}` +
      ` · run <code>${escapeHtml(report.runId)}</code></p>`,
  ];
  if (extras.artifactUrl) {
    head.push(`<p>Results: <a href="${escapeHtml(extras.artifactUrl)}">artifact</a></p>`);
  }
  if (extras.artifactNote) head.push(`<p>${escapeHtml(extras.artifactNote)}</p>`);
  const tableHead =
    "<table><thead><tr><th>Device</th><th>Step</th><th>Step status</th><th>Device status</th>" +
    "<th>Exit code</th><th>Duration</th><th>Output / error</th></tr></thead><tbody>";
  const tableTail = "</tbody></table>";

  const rows = report.machines.flatMap(machineRows);
  const fixed = Buffer.byteLength(head.join("\n") + tableHead + tableTail, "utf8") + 400;
  let used = fixed;
  let shown = 0;
  for (const row of rows) {
    const size = Buffer.byteLength(row, "utf8") + 1;
    if (used + size > budget) break;
    used += size;
    shown++;
  }
  const out = [...head, tableHead, ...rows.slice(0, shown), tableTail];
  if (shown < rows.length) {
    out.push(
      `<p><i>Truncated: ${rows.length - shown} of ${rows.length} rows not shown to stay under the 1 MiB job-summary limit; ` +
        `report.json${extras.reportPath ? "" : " in the artifact"} has every device.</i></p>`,
    );
  }
  return `${out.join("\n")}\n`;
}
