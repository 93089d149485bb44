/**
 * (Re)write report.html for any run folder (`mde-lr report`): from its report.json (schema 1 or 2), or,
 * when the run never wrote one (it crashed or is still running), from its plan and journal, read
 * without changing anything else in the folder.
 */
import fs from "node:fs";
import path from "node:path";
import { InputError } from "../../errors.js";
import { deviceFolderName } from "../../results/paths.js";
import { Journal, PLAN_FILE } from "../../state/journal.js";
import { buildReport } from "../build.js";
import { upgradeReport } from "../io.js";
import type { ReportLike } from "./data.js";
import { writeReportHtml } from "./render.js";

export interface WrittenPage {
  path: string;
  /** Where the results came from. */
  from: "report.json" | "journal";
  /** The page could not be built (it then says so itself); null when it was written. */
  error: unknown;
}

function readReportJson(file: string): ReportLike {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (error) {
    throw new InputError("dir", `${file} is not readable JSON (${(error as Error).message})`, {
      cause: error,
    });
  }
  const r = parsed as Partial<ReportLike> | null;
  if (!r || typeof r !== "object" || !Array.isArray(r.machines) || typeof r.runId !== "string") {
    throw new InputError("dir", `${file} is not an mde-lr report (no runId or machines)`);
  }
  // Every version readReport reads, as the current one (unknown versions are refused there).
  return upgradeReport(r as { schemaVersion?: unknown }, file);
}

/** The report a finished run would write, from the journal as it stands (status `pending` if unfinished). */
function reportFromJournal(root: string): ReportLike {
  const { plan, run, records } = Journal.load(root);
  const report = buildReport({
    plan,
    records,
    outDir: root,
    cancelled: run.cancelled,
    finishedAt: run.finishedAt,
    folderOf: (i) => deviceFolderName(plan.devices[i]!.machineId, plan.devices[i]!.computerDnsName),
    apiCalls: { ...run.apiCalls },
  });
  return report;
}

export function writeReportPage(outDir: string): WrittenPage {
  const root = path.resolve(outDir);
  if (!fs.existsSync(root) || !fs.statSync(root).isDirectory()) {
    throw new InputError(
      "dir",
      `${root} is not a folder; pass a run's output folder (the --out of mde-lr run)`,
    );
  }
  const reportFile = path.join(root, "report.json");
  let report: ReportLike;
  let from: WrittenPage["from"];
  if (fs.existsSync(reportFile)) {
    report = readReportJson(reportFile);
    from = "report.json";
  } else if (fs.existsSync(path.join(root, PLAN_FILE))) {
    report = reportFromJournal(root);
    from = "journal";
  } else {
    throw new InputError(
      "dir",
      `${root} holds no run (no report.json and no ${PLAN_FILE}); pass a run's output folder (the --out of mde-lr run)`,
    );
  }
  const written = writeReportHtml(root, report);
  return { path: written.path, from, error: written.error };
}
