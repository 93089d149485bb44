/**
 * summary.md: the table a person reads (GitHub job summary, or opened next to report.json).
 * Computer names, paths, stdout and error text are device-controlled: every such string is escaped
 * for both Markdown and HTML (the GitHub summary renders raw HTML and does not escape cells), and
 * the table is capped so the summary stays far below the runner's 1 MiB limit.
 */
import { entryId, entryName, STATUS_ICON } from "./label.js";
import type { CommandReport, MachineReport, RunReport } from "./types.js";

/** Rows shown before "… and N more"; report.json always has every device. */
export const SUMMARY_MAX_ROWS = 500;
const SUMMARY_MAX_ERRORS = 50;

/** C0/C1 controls, zero-width and bidi-override characters (a name could hide or reorder text). */
function isInvisible(code: number): boolean {
  return (
    code < 0x20 ||
    (code >= 0x7f && code <= 0x9f) ||
    (code >= 0x200b && code <= 0x200f) ||
    (code >= 0x202a && code <= 0x202e) ||
    (code >= 0x2066 && code <= 0x2069)
  );
}

function stripInvisible(text: string): string {
  let out = "";
  for (const ch of text) out += isInvisible(ch.codePointAt(0)!) ? " " : ch;
  return out.replace(/ {2,}/g, " ");
}

/** Escape text for a Markdown table cell that GitHub may render as HTML. */
export function escapeCell(text: string, maxLength = 200): string {
  let t = stripInvisible(text).trim();
  if (t.length > maxLength) t = `${t.slice(0, maxLength - 1)}…`;
  // Markdown first (adds backslashes), then HTML entities (whose `&#...;` must not be escaped again).
  return t
    .replace(/([\\`*_{}[\]()#+\-.!~])/g, "\\$1")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/\|/g, "&#124;");
}

const ICON = STATUS_ICON;

function stepCell(c: CommandReport | undefined): string {
  if (!c) return "";
  const icon = ICON[c.status] ?? c.status;
  if (c.type === "RunScript" && c.exitCode !== null) return `${icon} exit ${c.exitCode}`;
  if (c.type === "GetFile" && c.bytes !== null) return `${icon} ${formatBytes(c.bytes)}`;
  return c.status === "notRun" ? icon : `${icon} ${c.status}`;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

export function formatDuration(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms) || ms < 0) return "";
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  return `${Math.floor(m / 60)}h ${m % 60}m`;
}

function duration(m: MachineReport): number | null {
  if (!m.startedAt || !m.finishedAt) return null;
  return Date.parse(m.finishedAt) - Date.parse(m.startedAt);
}

function stepHeader(c: CommandReport): string {
  const what = c.type === "GetFile" ? c.path : c.scriptName;
  return `${c.step}. ${c.type}${what ? ` ${escapeCell(what, 40)}` : ""}`;
}

export function renderSummary(report: RunReport): string {
  const lines: string[] = [];
  lines.push(`## mde-lr run \`${report.runId}\`: ${ICON[report.status] ?? ""} ${report.status}`);
  lines.push("");
  lines.push(
    `Runbook **${escapeCell(report.runbook, 100)}**, started ${report.startedAt}` +
      (report.finishedAt ? `, finished ${report.finishedAt}` : ", still running"),
  );
  lines.push("");
  const counts = Object.entries(report.counts)
    .filter(([, n]) => n > 0)
    .map(([s, n]) => `${ICON[s] ?? ""} ${s}: ${n}`)
    .join(" · ");
  lines.push(`Devices: ${report.machines.length}${counts ? ` (${counts})` : ""}`);
  lines.push("");

  const template = report.machines.find((m) => m.commands.length > 0)?.commands ?? [];
  const stepNumbers = [...new Set(report.machines.flatMap((m) => m.commands.map((c) => c.step)))].sort(
    (a, b) => a - b,
  );
  const headers = stepNumbers.map((n) => {
    const c =
      template.find((x) => x.step === n) ??
      report.machines.flatMap((m) => m.commands).find((x) => x.step === n);
    return c ? stepHeader(c) : String(n);
  });
  lines.push(`| Device | Status | ${headers.join(" | ")}${headers.length ? " | " : ""}Duration |`);
  lines.push(`|---|---|${stepNumbers.map(() => "---|").join("")}---|`);
  for (const m of report.machines.slice(0, SUMMARY_MAX_ROWS)) {
    const name = m.computerDnsName ? `${escapeCell(m.computerDnsName, 80)}<br>` : "";
    const cells = stepNumbers.map((n) => stepCell(m.commands.find((c) => c.step === n)));
    lines.push(
      `| ${name}${escapeCell(entryId(m).slice(0, 40))} | ${ICON[m.status] ?? ""} ${m.status} | ${cells.join(" | ")}${
        cells.length ? " | " : ""
      }${formatDuration(duration(m))} |`,
    );
  }
  if (report.machines.length > SUMMARY_MAX_ROWS) {
    lines.push("");
    lines.push(`… and ${report.machines.length - SUMMARY_MAX_ROWS} more devices: see report.json.`);
  }

  const problems = report.machines.filter((m) => m.error);
  if (problems.length > 0) {
    lines.push("");
    lines.push("### Problems");
    lines.push("");
    for (const m of problems.slice(0, SUMMARY_MAX_ERRORS)) {
      const who = escapeCell(entryName(m), 80);
      lines.push(`- ${who}: **${escapeCell(m.error!.code, 60)}** ${escapeCell(m.error!.message, 400)}`);
    }
    if (problems.length > SUMMARY_MAX_ERRORS)
      lines.push(`- … and ${problems.length - SUMMARY_MAX_ERRORS} more`);
  }
  lines.push("");
  return lines.join("\n");
}
