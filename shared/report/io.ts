/** Write and read a run's report files (report.json, summary.md) in its output folder. */
import fs from "node:fs";
import { InputError } from "../errors.js";
import { jsonChunks, withNewline } from "../results/json-chunks.js";
import { resolveInside } from "../results/paths.js";
import { writeFileAtomicSync } from "../results/safe-fs.js";
import { emptyCounts, unresolvedEntry } from "./build.js";
import { REPORT_HTML_FILE, writeReportHtml } from "./html/render.js";
import type { PlanLike } from "./html/run-folder.js";
import { renderSummary } from "./summary.js";
import type { RunReport } from "./types.js";

export const REPORT_FILE = "report.json";
export const SUMMARY_FILE = "summary.md";
export { REPORT_HTML_FILE };

/**
 * report.json, summary.md and report.html (the page never fails the run: see writeReportHtml). `plan`:
 * the run's plan, when the caller has it in memory (the page reads it from the folder otherwise).
 */
export function writeReportFiles(outDir: string, report: RunReport, plan?: PlanLike): void {
  // Machine by machine (the same text as JSON.stringify(report, null, 2)): at 5,000 devices the
  // document is tens of MiB, and as one string plus its UTF-8 copy it was the run's peak.
  writeFileAtomicSync(resolveInside(outDir, REPORT_FILE), withNewline(jsonChunks(report, 2, 2)));
  writeFileAtomicSync(resolveInside(outDir, SUMMARY_FILE), renderSummary(report));
  writeReportHtml(outDir, report, plan);
}

/** The last report.json written in `outDir` (a run writes it at the end, on detach and on cancel). */
export function readReportFile(outDir: string): RunReport {
  const file = resolveInside(outDir, REPORT_FILE);
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    throw new InputError(
      "outDir",
      `no ${REPORT_FILE} in ${outDir}: the run has not written one yet (resume it)`,
      {
        cause: error,
      },
    );
  }
  return upgradeReport(JSON.parse(text) as { schemaVersion?: unknown }, file);
}

/**
 * A report of any version this one reads, as version 3. Version 2 had no chain of custody: `custody` and
 * each command's `submittedAt` / `downloadedAt` become null (unknown, not invented). Version 1 also
 * listed unresolved targets only in `unresolved`; they become entries with status `unresolved`
 * (counted), and the status stays as written.
 */
export function upgradeReport(value: { schemaVersion?: unknown }, where = "report.json"): RunReport {
  if (value.schemaVersion === 3) return value as RunReport;
  if (value.schemaVersion === 2) return withoutCustody(value as Omit<RunReport, "schemaVersion">);
  if (value.schemaVersion !== 1) {
    throw new InputError(
      "outDir",
      `${where} has schemaVersion ${String(value.schemaVersion)}; this version reads 1, 2 and 3 (a newer mde-lr wrote it: update mde-lr)`,
    );
  }
  const v1 = value as Omit<RunReport, "schemaVersion" | "counts"> & { counts: Record<string, number> };
  const machines = [...v1.machines];
  for (const u of v1.unresolved ?? []) machines.push(unresolvedEntry(u, []));
  return withoutCustody({
    ...v1,
    counts: { ...emptyCounts(), ...v1.counts, unresolved: (v1.unresolved ?? []).length },
    machines,
  });
}

/** A version 1 or 2 report as version 3: no custody was recorded, so every custody field is null. */
function withoutCustody(old: Omit<RunReport, "schemaVersion" | "custody">): RunReport {
  return {
    ...old,
    schemaVersion: 3,
    machines: old.machines.map((m) => ({
      ...m,
      commands: m.commands.map((c) => ({
        ...c,
        submittedAt: c.submittedAt ?? null,
        downloadedAt: c.downloadedAt ?? null,
      })),
    })),
    custody: null,
  };
}
