/**
 * The incident comment: one per run on the incident issue, found again by a hidden marker and rewritten
 * as the run goes (plan → devices finishing → final table, counts, artifact link, custody).
 *
 * Device text (computer names, script output, error messages) is attacker-controlled. It only ever
 * appears HTML-escaped inside `<code>` within a raw HTML block: a raw HTML block is not parsed as
 * Markdown (no emphasis, no autolinks), escaping defeats tags, and GitHub does not turn `@name`, `#123`
 * or URLs inside `<code>` into mentions, references or links. Line breaks are flattened, so device text
 * can never end the HTML block with a blank line.
 *
 * GitHub refuses a comment body over 65,536 characters; rows are added against a budget below that and
 * the cut is stated.
 */
import { entryId, STATUS_ICON } from "../../shared/report/label.js";
import type {
  Custody,
  CustodySession,
  Initiator,
  MachineReport,
  RunReport,
} from "../../shared/report/types.js";
import { escapeHtml, formatDuration } from "../summary.js";

/** GitHub's limit on an issue comment body. */
export const GITHUB_COMMENT_MAX = 65_536;
/** What the renderer allows itself: room for the cut notice and for escaping slack. */
export const COMMENT_BUDGET = 60_000;
const EXCERPT_CHARS = 120;
// biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters is the point
const CONTROL_CHARS = /[\u0000-\u001f\u007f\u2028\u2029]+/g;

export function commentMarker(runId: string): string {
  return `<!-- mde-lr:run=${runId} -->`;
}

export function markerRunId(body: string): string | null {
  return /^<!-- mde-lr:run=(\d{8}T\d{6}-[0-9a-f]{8}) -->/.exec(body)?.[1] ?? null;
}

/** Device-controlled text, safe in a comment: flattened, cut, escaped, inside `<code>`. */
export function deviceText(value: string | null | undefined, max = EXCERPT_CHARS): string {
  if (!value) return "";
  const flat = value.replace(CONTROL_CHARS, " ").replace(/\s+/g, " ").trim();
  if (!flat) return "";
  const cut = flat.length > max ? `${flat.slice(0, max)}…` : flat;
  return `<code>${escapeHtml(cut)}</code>`;
}

const ICON: Record<string, string> = {
  ...STATUS_ICON,
  waiting: "⏳",
  running: "🔄",
  planned: "🗒️",
};

function state(value: string): string {
  return `${ICON[value] ?? ""} ${escapeHtml(value)}`.trim();
}

export interface CustodyLine {
  label: string;
  /** Plain text (escaped when rendered) or a URL of this workflow (rendered as a link). */
  value: string;
  link?: boolean;
}

export interface DeviceLine {
  machineId: string;
  computerDnsName: string | null;
  /** null: not finished yet. */
  status: string | null;
}

export interface IncidentView {
  runId: string;
  /** `running` until the run ends; then the run's status (`pending` when it was left to collect later). */
  status: string;
  runbook: string;
  devices: DeviceLine[];
  /** Plan-time estimate of the run's length (seconds). */
  etaSeconds: number | null;
  startedAt: string | null;
  report: RunReport | null;
  artifactUrl: string | null;
  artifactNote: string | null;
  /** Shown while the run is pending: how to collect the rest. */
  resumeHint: string | null;
  custody: CustodyLine[];
  /** report.custody: who started, resumed and cancelled the run, the requestors, the runbook (null before v3). */
  reportCustody: Custody | null;
  updatedAt: string;
}

function deviceCell(machineId: string, name: string | null): string {
  return `${name ? `${deviceText(name, 80)}<br>` : ""}<code>${escapeHtml(machineId)}</code>`;
}

function stepsCell(m: MachineReport): string {
  return m.commands
    .map((c) => {
      const what = `${c.step}. ${escapeHtml(c.type)}`;
      const exit = c.exitCode !== null ? ` (exit ${c.exitCode})` : "";
      return `${what} ${state(c.status)}${exit}`;
    })
    .join("<br>");
}

/** PowerShell transcripts open with a line naming the transcript file; it says nothing. */
function transcript(text: string | null): string | null {
  return text ? text.replace(/^\s*Transcript started, output file is [^\n]*\n?/, "") : text;
}

function detailCell(m: MachineReport): string {
  if (m.error) return `${deviceText(m.error.code, 60)} ${deviceText(m.error.message)}`;
  const failed = m.commands.find((c) => c.errors.length > 0 || c.status === "failed");
  if (failed)
    return deviceText(failed.errors.join("; ") || transcript(failed.stderr) || transcript(failed.stdout));
  const out = m.commands.find((c) => transcript(c.stdout));
  return deviceText(transcript(out?.stdout ?? null));
}

function finalRows(report: RunReport): string[] {
  return report.machines.map(
    (m) =>
      `<tr><td>${deviceCell(entryId(m), m.computerDnsName)}</td><td>${state(m.status)}</td>` +
      `<td>${stepsCell(m)}</td><td>${escapeHtml(formatDuration(m.startedAt, m.finishedAt))}</td>` +
      `<td>${detailCell(m)}</td></tr>`,
  );
}

function liveRows(devices: DeviceLine[]): string[] {
  return devices.map(
    (d) =>
      `<tr><td>${deviceCell(d.machineId, d.computerDnsName)}</td><td>${state(d.status ?? "waiting")}</td></tr>`,
  );
}

/** A workflow run's page, the only URL the custody rows link (the values travel in artifacts). */
export const RUN_URL =
  /^https?:\/\/[A-Za-z0-9.-]+(:\d+)?\/[\w.-]+\/[\w.-]+\/actions\/runs\/\d+(\/attempts\/\d+)?$/;
/** Sessions shown in the comment: the first ones and the latest; report.json keeps them all. */
const SESSIONS_SHOWN = 12;

const ROLE: Record<CustodySession["role"], string> = {
  start: "Started",
  resume: "Resumed",
  cancel: "Cancelled",
};

/** `responder (for alice), workflow Incident response, on issues` / `alice@laptop (CLI)` / `Pulumi proj/dev`. */
function who(i: Initiator): string {
  if (i.kind === "cli") return `${[i.user, i.host].filter(Boolean).join("@") || "someone"} (CLI)`;
  if (i.kind === "pulumi") return `Pulumi ${[i.project, i.stack].filter(Boolean).join("/") || "stack"}`;
  if (i.kind === "api") return "code calling the library";
  const person = i.user ? `${i.user}${i.requestedBy ? ` (for ${i.requestedBy})` : ""}` : null;
  return (
    [person, i.workflow ? `workflow ${i.workflow}` : null, i.eventName ? `on ${i.eventName}` : null]
      .filter(Boolean)
      .join(", ") || "GitHub Actions"
  );
}

function reportCustodyLines(c: Custody): CustodyLine[] {
  const lines: CustodyLine[] = [];
  lines.push({ label: "MDE requestor", value: c.requestors.join(", ") || "(not reported by the service)" });
  const apps = new Set<string>();
  for (const s of c.sessions) {
    if (!s.app.clientId && !s.app.tenantId) continue;
    const claims = s.app.source === "token-claims" ? " (token claims, unverified)" : "";
    apps.add(`client ${s.app.clientId ?? "unknown"} · tenant ${s.app.tenantId ?? "unknown"}${claims}`);
  }
  for (const app of apps) lines.push({ label: "Entra app", value: app });
  const rb = c.runbook;
  if (rb) {
    lines.push({ label: "Runbook", value: [rb.name, rb.path ?? rb.label].filter(Boolean).join(" · ") });
    if (rb.sha256) lines.push({ label: `Runbook sha256 (${rb.hashOf ?? "?"})`, value: rb.sha256 });
    if (rb.git?.commit) {
      const ref = rb.git.ref ? ` (${rb.git.ref.replace(/^refs\/heads\//, "")})` : "";
      lines.push({ label: "Runbook commit", value: `${rb.git.commit}${ref}` });
    }
  }
  const n = c.sessions.length;
  const shown =
    n <= SESSIONS_SHOWN
      ? c.sessions
      : [...c.sessions.slice(0, 2), ...c.sessions.slice(n - SESSIONS_SHOWN + 2)];
  const hidden = n - shown.length + c.omittedSessions;
  shown.forEach((s, i) => {
    if (hidden > 0 && i === 2) lines.push({ label: "…", value: `${hidden} more session(s) in report.json` });
    lines.push({ label: `${ROLE[s.role]} ${s.at}`, value: who(s.initiator) });
    const url = s.initiator.runUrl;
    if (url) lines.push({ label: "Workflow run", value: url, link: RUN_URL.test(url) });
  });
  return lines;
}

function custodyBlock(view: IncidentView): string {
  const lines = [...view.custody, ...(view.reportCustody ? reportCustodyLines(view.reportCustody) : [])];
  const rows = lines.map((c) => {
    const value = c.link
      ? `<a href="${escapeHtml(c.value)}">${escapeHtml(c.value)}</a>`
      : deviceText(c.value, 300) || "<code></code>";
    return `<tr><td>${escapeHtml(c.label)}</td><td>${value}</td></tr>`;
  });
  return `<details><summary>Chain of custody</summary><table>${rows.join("")}</table></details>`;
}

function minutes(seconds: number): string {
  if (seconds < 90) return `${Math.max(1, Math.round(seconds))} s`;
  return `${Math.round(seconds / 60)} min`;
}

/** The whole comment body, never longer than `budget` characters. */
export function renderIncidentComment(view: IncidentView, budget = COMMENT_BUDGET): string {
  const counts = view.report
    ? Object.entries(view.report.counts)
        .filter(([, n]) => n > 0)
        .map(([k, n]) => `${state(k)} ${n}`)
        .join(" · ")
    : `${view.devices.filter((d) => d.status !== null).length} of ${view.devices.length} device(s) done`;
  const head = [
    commentMarker(view.runId),
    `<h3>MDE Live Response: ${deviceText(view.runbook, 100)} · ${state(view.status)}</h3>`,
    `<p>Run <code>${escapeHtml(view.runId)}</code> · ${view.devices.length} device(s) · ${counts || "no devices"}` +
      (view.etaSeconds !== null && !view.report ? ` · estimated ${minutes(view.etaSeconds)}` : "") +
      (view.startedAt ? ` · started ${escapeHtml(view.startedAt)}` : "") +
      "</p>",
  ];
  if (view.artifactUrl) {
    head.push(
      `<p>Results: <a href="${escapeHtml(view.artifactUrl)}">artifact</a> (sign-in with read access needed)</p>`,
    );
  }
  if (view.artifactNote) head.push(`<p>${escapeHtml(view.artifactNote)}</p>`);
  if (view.resumeHint) head.push(`<p>${escapeHtml(view.resumeHint)}</p>`);
  const tableHead = view.report
    ? "<table><thead><tr><th>Device</th><th>Status</th><th>Steps</th><th>Duration</th><th>Output / error</th></tr></thead><tbody>"
    : "<table><thead><tr><th>Device</th><th>Status</th></tr></thead><tbody>";
  const tableTail = "</tbody></table>";
  const tail = [
    custodyBlock(view),
    `<sub>Updated ${escapeHtml(view.updatedAt)}. This comment is edited in place as the run goes.</sub>`,
  ];
  const rows = view.report ? finalRows(view.report) : liveRows(view.devices);

  const cutNotice = (hidden: number) =>
    `<p><i>${hidden} of ${rows.length} device row(s) not shown: GitHub limits a comment to ${GITHUB_COMMENT_MAX.toLocaleString("en-US")} characters. report.json in the artifact lists every device.</i></p>`;
  const fixed =
    [...head, tableHead, tableTail, ...tail].join("\n").length + cutNotice(rows.length).length + 16;
  let used = fixed;
  let shown = 0;
  for (const row of rows) {
    if (used + row.length > budget) break;
    used += row.length;
    shown++;
  }
  const parts = [...head, tableHead + rows.slice(0, shown).join("") + tableTail];
  if (shown < rows.length) parts.push(cutNotice(rows.length - shown));
  parts.push(...tail);
  const body = parts.join("\n");
  // Fixed parts are bounded; a pathological custody block is the only way past the budget.
  return body.length <= budget ? body : `${body.slice(0, budget - 40)}\n<p><i>(cut)</i></p>`;
}
