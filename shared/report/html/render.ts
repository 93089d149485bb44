/**
 * report.html: one self-contained page (styles, script and data inline; nothing loaded at view time).
 * The data is JSON in a `<script type="application/json">` with `<`, `>`, `&`, U+2028 and U+2029
 * escaped, so no device text can close the element or start markup; the page's script renders it with
 * textContent only. A Content-Security-Policy allows exactly the page's own script (by hash) and no
 * network at all, so even text that did become markup could neither run nor load anything.
 */
import { createHash } from "node:crypto";
import { resolveInside } from "../../results/paths.js";
import { writeFileAtomicSync } from "../../results/safe-fs.js";
import { type PageModel, pageDataChunks, pageModel, REPORT_HTML_FILE, type ReportLike } from "./data.js";
import { escapeHtml, jsonForScript } from "./escape.js";
import { PAGE_CSS, PAGE_SCRIPT } from "./page.generated.js";
import type { PlanLike } from "./run-folder.js";

const SCRIPT_HASH = createHash("sha256").update(PAGE_SCRIPT).digest("base64");

export { escapeHtml, jsonForScript };

/** The page in parts (the data a device at a time), so writing it never joins megabytes into one string. */
export function* renderReportHtmlParts(data: PageModel): Generator<string> {
  const csp = [
    "default-src 'none'",
    `script-src 'sha256-${SCRIPT_HASH}'`,
    // uPlot and the page size elements through inline styles; styles cannot run code or, with
    // default-src 'none', load anything.
    "style-src 'unsafe-inline'",
    "img-src data:",
    "base-uri 'none'",
    "form-action 'none'",
  ].join("; ");
  const title = `${data.head.run.runbook} · ${data.head.run.runId} · ${data.head.run.status}`;
  const head = [
    "<!doctype html>",
    '<html lang="en">',
    "<head>",
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${escapeHtml(csp)}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="generator" content="mde-live-response">',
    `<title>${escapeHtml(title)}</title>`,
    `<style>${PAGE_CSS}</style>`,
    "</head>",
    "<body>",
    '<div id="app"><p>Loading the report…</p></div>',
    "<noscript><p>This page draws its timeline and tables with JavaScript. report.json and summary.md in this folder hold the same results.</p></noscript>",
    '<script type="application/json" id="report-data">',
  ];
  yield head.join("\n");
  yield* pageDataChunks(data);
  yield `</script>\n<script>${PAGE_SCRIPT}</script>\n</body>\n</html>\n`;
}

/** A page that says why the real one could not be written (the rest of the run folder is intact). */
function failurePage(error: unknown): string {
  const why = error instanceof Error ? error.message : String(error);
  return [
    '<!doctype html><html lang="en"><head><meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'">`,
    "<title>report.html could not be written</title></head><body>",
    `<p>This page could not be built (${escapeHtml(why)}). report.json and summary.md in this folder have the results; <code>mde-lr report &lt;this folder&gt;</code> writes the page again.</p>`,
    "</body></html>",
    "",
  ].join("\n");
}

/**
 * Write `report.html` into `outDir` from `report` and the folder's timeline. Never throws: the page is a
 * view of report.json, and a run must not fail because of it (a failure leaves a page that says so).
 * Returns the page's path and the error, if any.
 */
export function writeReportHtml(
  outDir: string,
  report: ReportLike,
  plan?: PlanLike,
): { path: string; error: unknown } {
  const file = resolveInside(outDir, REPORT_HTML_FILE);
  try {
    writeFileAtomicSync(file, renderReportHtmlParts(pageModel(outDir, report, Date.now(), plan)));
    return { path: file, error: null };
  } catch (error) {
    try {
      writeFileAtomicSync(file, failurePage(error));
    } catch {
      // The folder itself is unwritable; report.json's write would have failed first.
    }
    return { path: file, error };
  }
}

export { REPORT_HTML_FILE };
