/** Human-readable output of the CLI's results (the --json forms print the objects themselves). */

import type { LibraryFile } from "../api/types.js";
import type { LibrarySyncResult, PackedAction, Plan } from "../plan/types.js";
import { entryName } from "../report/label.js";
import type { RunReport } from "../report/types.js";
import { formatDuration } from "../runbook/duration.js";
import type { Runbook } from "../runbook/types.js";
import { type CliIo, paint, statusStyle } from "./io.js";
import { table } from "./table.js";

function describeAction(a: PackedAction): string {
  return a.commands
    .map((c) => `${c.type} ${c.params.map((p) => (p.key === "Args" ? `[${p.value}]` : p.value)).join(" ")}`)
    .join(" → ");
}

function minutes(seconds: number): string {
  if (seconds < 90) return `${seconds} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

export function renderValidation(io: CliIo, path: string, rb: Runbook, actions: PackedAction[]): string {
  const t = rb.targets;
  const targets = [
    t.machineIds.length ? `${t.machineIds.length} machine id(s)` : "",
    t.computerNames.length ? `${t.computerNames.length} computer name(s)` : "",
    t.tags.length ? `tags ${t.tags.join(", ")}` : "",
    t.filter ? `filter "${t.filter}"` : "",
  ].filter(Boolean);
  return [
    `${paint(io, "green", "✓")} ${path} is a valid runbook: ${paint(io, "bold", rb.name)}`,
    `  targets: ${targets.join("; ")}`,
    `  ${rb.commands.length} step(s) → ${actions.length} machine action(s) per device:`,
    ...actions.map((a) => `    ${a.index + 1}. ${describeAction(a)}`),
    rb.library.length ? `  library: ${rb.library.map((l) => l.fileName).join(", ")}` : "",
    `  timeout ${formatDuration(rb.options.timeoutMs)}, poll every ${formatDuration(rb.options.pollIntervalMs)}, ` +
      `at most ${rb.options.maxDevices} device(s), ${rb.options.maxConcurrentSessions} sessions at once` +
      (rb.options.canary ? `, canary ${rb.options.canary}` : ""),
    "",
  ]
    .filter((l, i, all) => l !== "" || i === all.length - 1)
    .join("\n");
}

export function renderPlan(io: CliIo, plan: Plan): string {
  const out: string[] = [`${paint(io, "bold", `Plan for ${plan.runbook}`)} (nothing was submitted)`, ""];
  out.push(`Devices (${plan.devices.length}):`);
  if (plan.devices.length > 0) {
    out.push(
      table(
        plan.devices.map((d) => [
          d.computerDnsName ?? "",
          d.machineId,
          d.osPlatform ?? "",
          `${d.actions.length} action(s)`,
        ]),
      ),
    );
    const first = plan.devices[0]!;
    out.push("", "Actions on each device:");
    for (const a of first.actions)
      out.push(`  ${a.index + 1}. steps ${a.steps.join(", ")}: ${describeAction(a)}`);
  }
  if (plan.skipped.length > 0) {
    out.push("", `Skipped (${plan.skipped.length}):`);
    out.push(
      table(
        plan.skipped.map((s) => [
          s.computerDnsName ?? s.machineId,
          paint(io, "yellow", s.error.code),
          s.error.message,
        ]),
        { maxCell: 200 },
      ),
    );
  }
  if (plan.unresolved.length > 0) {
    out.push("", `Targets that found nothing (${plan.unresolved.length}):`);
    out.push(
      table(
        plan.unresolved.map((u) => [u.selector, u.value, u.error.message]),
        { maxCell: 200 },
      ),
    );
  }
  if (plan.warnings.length > 0) {
    out.push("", "Warnings:", ...plan.warnings.map((w) => `  ${paint(io, "yellow", "!")} ${w}`));
  }
  if (plan.library) {
    const l = plan.library;
    out.push(
      "",
      `Library: ${l.uploaded.length ? `would upload ${l.uploaded.join(", ")}` : "nothing to upload"}` +
        (l.unchanged.length ? `; up to date: ${l.unchanged.join(", ")}` : ""),
    );
  }
  const c = plan.calls;
  out.push(
    "",
    `API calls: ${c.runLiveResponse} runliveresponse, ~${c.getMachineAction} status polls, ${c.getResultDownloadLink} result links, ` +
      `${c.uploadLibraryFile} library upload(s); ${c.downloads} download(s) from storage`,
    `Estimated time: about ${minutes(plan.eta.seconds)} (bottleneck: ${plan.eta.bottleneck})`,
    ...plan.eta.assumptions.map((a) => `  · ${a}`),
    "",
  );
  return out.join("\n");
}

export function renderReport(io: CliIo, report: RunReport, outDir: string): string {
  const counts = Object.entries(report.counts)
    .filter(([, n]) => n > 0)
    .map(([s, n]) => `${n} ${s}`)
    .join(", ");
  const out = [
    `${paint(io, "bold", `Run ${report.runId}`)} (${report.runbook}): ${paint(io, statusStyle(report.status), report.status)}` +
      (counts ? ` — ${counts}` : ""),
  ];
  if (report.machines.length > 0) {
    out.push(
      table(
        report.machines.map((m) => {
          const files = m.commands.filter((c) => c.file !== null).length;
          const why = m.error
            ? `${m.error.code}: ${m.error.message}`
            : files
              ? `${files} result file(s)`
              : "";
          return [entryName(m), paint(io, statusStyle(m.status), m.status), why];
        }),
        { maxCell: 160 },
      ),
    );
  }
  out.push(`Results, report.json and summary.md in ${outDir}`, "");
  return out.join("\n");
}

export function renderLibrary(io: CliIo, files: LibraryFile[]): string {
  if (files.length === 0) return "The Live Response library is empty.\n";
  return `${table([
    ["NAME", "SHA256", "UPDATED", "DESCRIPTION"].map((h) => paint(io, "dim", h)),
    ...files.map((f) => [
      f.fileName,
      f.sha256?.slice(0, 12) ?? "(none)",
      (f.lastUpdatedTime ?? f.creationTime ?? "").slice(0, 19).replace("T", " "),
      f.description ?? "",
    ]),
  ])}\n`;
}

export function renderSync(io: CliIo, result: LibrarySyncResult): string {
  const verb = result.dryRun ? "would upload" : "uploaded";
  return [
    `${paint(io, "green", "✓")} library ${result.dryRun ? "checked (dry run)" : "in sync"}: ${verb} ${result.uploaded.length ? result.uploaded.join(", ") : "nothing"}` +
      (result.unchanged.length ? `; already up to date: ${result.unchanged.join(", ")}` : ""),
    "",
  ].join("\n");
}
