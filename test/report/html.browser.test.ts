// biome-ignore-all lint/performance/useDomNodeTextContent: Playwright's Locator.innerText (the text as rendered), not the DOM property
/**
 * report.html in a real browser: Debian's chromium (headless) driven by playwright-core opens the page a
 * real emulator run wrote (file://) and checks its rows, spans and table against report.json and the
 * timeline, that filtering, search and sorting work, and that hostile device text stays inert text.
 * Needs /usr/bin/chromium (`sudo apt-get install -y chromium`; .ci/run installs it), or MDE_LR_CHROMIUM.
 */
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "../../bench/harness/chromium.js";
import { machineIdFor } from "../../shared/emulator/index.js";
import { SPAN_COLORS } from "../../shared/report/html/page/colors.js";
import { writeReportPage } from "../../shared/report/html/rewrite.js";
import type { RunReport } from "../../shared/report/types.js";
import { tempDir } from "../run/helpers.js";
import { HOSTILE_NAME, HOSTILE_STDOUT, type HtmlFleet, runHtmlFleet, UNKNOWN_ID } from "./html-fleet.js";

interface Span {
  kind: string;
  start: number;
  end: number;
}

interface Opened {
  page: Page;
  dialogs: string[];
  errors: string[];
}

let browser: Browser;
let fleet: HtmlFleet;

beforeAll(async () => {
  // Launch first: without a browser this fails at once with the install command, before any run.
  browser = await launchChromium();
  fleet = await runHtmlFleet();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await fleet?.rig.close();
  if (fleet) rmSync(fleet.outDir, { recursive: true, force: true });
});

async function open(dir: string): Promise<Opened> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 }, deviceScaleFactor: 1 });
  const dialogs: string[] = [];
  const errors: string[] = [];
  page.on("dialog", (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning") errors.push(`${m.type()}: ${m.text()}`);
  });
  await page.goto(pathToFileURL(path.join(dir, "report.html")).href);
  await page.waitForFunction(() => performance.getEntriesByName("mde-lr:first-screen").length > 0, null, {
    timeout: 15_000,
  });
  return { page, dialogs, errors };
}

/** Calls the page's test hook `window.mdeLrReport.<fn>(...args)` (browser code as a string: no DOM types here). */
function hook<T>(page: Page, fn: string, ...args: unknown[]): Promise<T> {
  return page.evaluate(
    `window.mdeLrReport.${fn}(${args.map((a) => JSON.stringify(a)).join(", ")})`,
  ) as Promise<T>;
}

const spansOf = (page: Page, id: string) => hook<Span[] | null>(page, "spans", id);
const rowsOf = (page: Page) =>
  hook<{ machineId: string | null; label: string; status: string }[]>(page, "rows");
const locate = (page: Page, id: string, kind: string) =>
  hook<{ x: number; y: number }>(page, "locate", id, kind);

/** Entries of devices the run worked on (not unresolved targets or preflight skips): they have spans. */
const ran = (m: { machineId: string | null; status: string }) =>
  m.machineId !== null && m.status !== "unresolved" && m.status !== "skipped";

function machine(report: RunReport, name: string) {
  const m = report.machines.find((x) => x.computerDnsName === name);
  if (!m) throw new Error(`no ${name} in the report`);
  return m;
}

describe("report.html from a real emulator run", { timeout: 120_000 }, () => {
  it("has one timeline row per device of report.json, in its order, and spans that match the run", async () => {
    const { page, errors } = await open(fleet.outDir);
    const report = JSON.parse(readFileSync(path.join(fleet.outDir, "report.json"), "utf8")) as RunReport;
    // Six devices, and the unknown id as its own unresolved entry.
    expect(report.machines).toHaveLength(7);
    expect(report.machines.find((m) => m.machineId === UNKNOWN_ID)?.status).toBe("unresolved");
    const rows = await rowsOf(page);
    expect(rows.map((r) => r.machineId)).toEqual(report.machines.map((m) => m.machineId));
    expect(rows.map((r) => r.status)).toEqual(report.machines.map((m) => m.status));

    for (const m of report.machines.filter(ran)) {
      const spans = await spansOf(page, m.machineId!);
      expect(spans?.length, m.computerDnsName ?? "").toBeGreaterThan(0);
      // Contiguous from the run's start to the device's end, which is the report's finishedAt.
      for (let i = 1; i < spans!.length; i++) expect(spans![i]!.start).toBe(spans![i - 1]!.end);
      expect(spans!.at(-1)!.end).toBe(Date.parse(m.finishedAt!));
      const submitting = spans!.find((s) => s.kind === "submitting");
      expect(submitting!.start).toBe(Date.parse(m.startedAt!));
      // The device was collecting only after its commands ended on the service.
      const collecting = spans!.find((s) => s.kind === "collecting")!;
      for (const c of m.commands) {
        if (c.finishedAt) expect(collecting.start).toBeGreaterThanOrEqual(Date.parse(c.finishedAt) - 1);
      }
    }
    const canary = machine(report, fleet.names.canary);
    for (const m of report.machines.filter((x) => x !== canary && ran(x))) {
      const held = (await spansOf(page, m.machineId!))!.find((s) => s.kind === "canary");
      expect(held, m.computerDnsName ?? "").toBeDefined();
      expect(held!.end).toBeGreaterThanOrEqual(Date.parse(canary.finishedAt!) - 1);
    }
    const busy = (await spansOf(page, machine(report, fleet.names.busy).machineId!))!;
    expect(busy.some((s) => s.kind === "busy")).toBe(true);
    const offline = machine(report, fleet.names.offline);
    const pending = (await spansOf(page, offline.machineId!))!.filter((s) => s.kind === "pending");
    const waitedOnDevice = pending.reduce((n, s) => n + s.end - s.start, 0);
    expect(waitedOnDevice).toBeGreaterThan(0.8 * (fleet.onlineAt - Date.parse(offline.startedAt!)));

    // The session cap (2) held: never more than 2 devices submitting/pending/running at once.
    const edges: [number, number][] = [];
    for (const m of report.machines.filter(ran)) {
      for (const s of (await spansOf(page, m.machineId!))!) {
        if (["submitting", "pending", "running"].includes(s.kind)) edges.push([s.start, 1], [s.end, -1]);
      }
    }
    edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    let inUse = 0;
    let peak = 0;
    for (const [, d] of edges) {
      inUse += d;
      peak = Math.max(peak, inUse);
    }
    expect(peak).toBe(2);

    // Each action with its outcome as the service ended it.
    const actions = (await page.evaluate(
      "window.mdeLrReport.model.data.devices.map((d) => d.actions)",
    )) as number[][];
    const service = fleet.rig.emu.state.actions() as { id: string; status: string }[];
    report.machines.forEach((m, i) => {
      expect(actions[i]!.length / 4).toBe(m.actionIds.length);
      const outcome = ["", "Succeeded", "Failed", "Cancelled", "TimeOut"][actions[i]![2]!];
      expect(outcome).toBe(service.find((a) => a.id === m.actionIds[0])?.status);
    });
    expect(await page.locator("#bound").innerText()).toContain("session cap");
    expect(errors).toEqual([]);
    await page.close();
  });

  it("draws the spans where they are and tells start, end and reason on hover", async () => {
    const { page } = await open(fleet.outDir);
    const busyId = machineIdFor(fleet.names.busy);
    const point = await locate(page, busyId, "busy");
    const color = await page.evaluate(`(() => {
      const canvas = document.querySelector("canvas.gantt-canvas");
      const r = canvas.getBoundingClientRect();
      const [red, green, blue] = canvas.getContext("2d").getImageData(${point.x} - r.left, ${point.y} - r.top, 1, 1).data;
      return "#" + [red, green, blue].map((v) => v.toString(16).padStart(2, "0")).join("");
    })()`);
    expect(color).toBe(SPAN_COLORS.busy);
    await page.mouse.move(point.x, point.y);
    const tip = page.locator("#gantt-tooltip");
    await expect.poll(() => tip.isVisible()).toBe(true);
    const text = await tip.innerText();
    expect(text).toContain(fleet.names.busy);
    expect(text).toMatch(/busy: \d\d:\d\d:\d\d → \d\d:\d\d:\d\d/);
    expect(text).toContain("another live response session");

    // A device waiting for its turn under the session cap says so.
    const okId = machineIdFor(fleet.names.hostile);
    const wait = await locate(page, okId, "waiting");
    await page.mouse.move(wait.x, wait.y);
    await expect.poll(async () => tip.innerText()).toContain("waiting for its turn: session cap: 2 of 2");

    // Drag across the plot to zoom into that stretch of time; the charts follow; double-click resets.
    const full = await hook<[number, number]>(page, "view");
    const from = await locate(page, busyId, "busy");
    await page.mouse.move(from.x - 40, from.y);
    await page.mouse.down();
    await page.mouse.move(from.x + 40, from.y, { steps: 4 });
    await page.mouse.up();
    const zoomed = await hook<[number, number]>(page, "view");
    expect(zoomed[1] - zoomed[0]).toBeLessThan((full[1] - full[0]) / 5);
    expect(zoomed[0]).toBeGreaterThan(full[0]);
    expect(await page.locator("#range").innerText()).toMatch(/^showing \d{4}-\d\d-\d\d /);
    const chartMin = await page.evaluate("window.mdeLrReport.chartRange()");
    expect(Math.abs((chartMin as number[])[0]! * 1000 - zoomed[0])).toBeLessThan(1000);
    await page.mouse.dblclick(from.x, from.y);
    expect(await hook<[number, number]>(page, "view")).toEqual(full);
    await page.close();
  });

  it("lists every device and step in the table with status, exit code, file, size and sha256", async () => {
    const { page } = await open(fleet.outDir);
    const report = fleet.report;
    const expected = report.machines.reduce((n, m) => n + m.commands.length, 0);
    await expect.poll(() => page.locator("#results-table tr[data-row]").count()).toBe(expected);
    for (const m of report.machines) {
      for (const c of m.commands) {
        const tr = page.locator(`#results-table tr[data-machine-id="${m.machineId}"][data-step="${c.step}"]`);
        expect(await tr.locator("td.c-result").innerText()).toBe(c.status);
        expect(await tr.locator("td.c-exit").innerText()).toBe(c.exitCode === null ? "" : String(c.exitCode));
        expect(await tr.locator("td.c-sha256").innerText()).toBe(c.sha256 ?? "");
        if (c.file) {
          const href = await tr.locator("td.c-file a").getAttribute("href");
          expect(decodeURIComponent(href!)).toBe(c.file);
          // Relative to the page, so the link works wherever the folder (or the artifact zip) is unpacked.
          const target = new URL(href!, pathToFileURL(path.join(fleet.outDir, "report.html")));
          expect(existsSync(target)).toBe(true);
        }
      }
    }
    // The header links the folder's other files.
    const files = await page.locator("#files a").allInnerTexts();
    for (const f of ["report.json", "summary.md", "manifest.sha256", "timeline.jsonl"])
      expect(files).toContain(f);
    // The chain of custody this run recorded: who (the process and its app), the MDE requestor, the runbook.
    const custody = await page.locator("#custody").innerText();
    expect(custody).toMatch(/start \d{4}-/);
    expect(custody).toContain(`MDE requestor\n${report.custody!.requestors[0]}`);
    expect(custody).toContain(report.custody!.runbook!.sha256!);
    expect(await page.locator("#run-header").innerText()).toContain(UNKNOWN_ID);

    // Sorting by device name, both ways.
    await page.locator('th[data-key="device"]').click();
    const labels = report.machines
      .map((m) => m.computerDnsName ?? m.machineId!)
      .sort((a, b) => a.localeCompare(b, "en"));
    expect(await page.locator("#results-table tr[data-row] td.c-device").first().innerText()).toBe(labels[0]);
    await page.locator('th[data-key="device"]').click();
    expect(await page.locator("#results-table tr[data-row] td.c-device").first().innerText()).toBe(
      labels.at(-1),
    );
    await page.close();
  });

  it("filters by status and searches names, output and hashes", async () => {
    const { page } = await open(fleet.outDir);
    const report = fleet.report;
    await page.selectOption("#status-filter", "failed");
    const failed = report.machines.filter((m) => m.status === "failed");
    await expect
      .poll(async () => (await rowsOf(page)).map((r) => r.machineId))
      .toEqual(failed.map((m) => m.machineId));
    expect(await page.locator("#results-table tr[data-row]").count()).toBe(failed[0]!.commands.length);
    expect(await page.locator("#shown").innerText()).toBe(`1 of 7 devices`);
    await page.selectOption("#status-filter", "");

    // A collected file's hash finds its device; two words must both match.
    const ok = machine(report, fleet.names.ok);
    const sha = ok.commands.find((c) => c.type === "GetFile")!.sha256!;
    await page.fill("#search", sha.slice(0, 20));
    await expect.poll(async () => (await rowsOf(page)).map((r) => r.machineId)).toEqual([ok.machineId]);
    await page.fill("#search", "access denied");
    await expect.poll(async () => (await rowsOf(page)).map((r) => r.label)).toEqual([fleet.names.fail]);
    await page.fill("#search", "no-such-device-anywhere");
    await expect.poll(async () => (await rowsOf(page)).length).toBe(0);
    expect(await page.locator("#results-table td.empty").innerText()).toContain("No device matches");
    await page.fill("#search", "");
    await expect.poll(async () => (await rowsOf(page)).length).toBe(report.machines.length);
    // The count chips filter too.
    await page.locator('#counts button[data-status="succeeded"]').click();
    await expect.poll(async () => (await rowsOf(page)).length).toBe(report.counts.succeeded);
    await page.close();
  });

  it("keeps hostile device text inert: rendered as text, nothing runs, no element is injected", async () => {
    const { page, dialogs, errors } = await open(fleet.outDir);
    const id = machineIdFor(HOSTILE_NAME);
    const row = page.locator(`#results-table tr[data-machine-id="${id}"][data-step="1"]`);
    expect(await row.locator("td.c-device").innerText()).toBe(HOSTILE_NAME);
    expect(await row.locator("td.c-output").innerText()).toContain(
      `</script><img src=x onerror="window.__pwned=2;alert(2)">`,
    );
    await row.click();
    const pre = page.locator("#details pre.out");
    const stdout = fleet.report.machines.find((m) => m.machineId === id)!.commands[0]!.stdout!;
    expect(stdout).toContain(HOSTILE_STDOUT);
    // As the report has it, less the service's "Transcript started, output file is …" line.
    expect(await pre.textContent()).toBe(stdout.replace(/^Transcript started, output file is [^\n]*\n/, ""));
    expect(await page.locator("#details h3").innerText()).toContain(HOSTILE_NAME);
    // The tooltip shows the name as text too.
    const point = await locate(page, id, "running");
    await page.mouse.move(point.x, point.y);
    await expect.poll(async () => page.locator("#gantt-tooltip").innerText()).toContain(HOSTILE_NAME);

    const dom = await page.evaluate(`({
      pwned: window.__pwned,
      images: document.querySelectorAll("img").length,
      bold: document.querySelectorAll("b").length,
      scripts: document.querySelectorAll("script").length,
      title: document.title,
    })`);
    expect(dom).toEqual({
      pwned: undefined,
      images: 0,
      bold: 0,
      scripts: 2,
      title: expect.stringContaining("html-report-test"),
    });
    expect(dialogs).toEqual([]);
    expect(errors).toEqual([]);
    // In the file itself the text cannot close the data element: `<` is escaped in the JSON.
    const html = readFileSync(path.join(fleet.outDir, "report.html"), "utf8");
    const data = html.slice(html.indexOf('id="report-data">'), html.lastIndexOf("</script>"));
    expect(data.match(/<\/script/gi)).toHaveLength(1);
    expect(html).not.toContain("<img");
    await page.close();
  });

  it("renders schema-3 additions when present: custody, unresolved entries, warnings, a run error", async () => {
    const dir = tempDir("html-v3");
    cpSync(fleet.outDir, dir, { recursive: true });
    const report = JSON.parse(readFileSync(path.join(dir, "report.json"), "utf8"));
    report.error = { code: "Auth.Refused", message: "sign-in stopped the run" };
    report.custody = {
      requestors: ["8b2f6f8e-0000-4000-8000-00000000f0e1"],
      sessions: [
        {
          role: "start",
          at: report.startedAt,
          initiator: {
            kind: "github-action",
            user: "analyst",
            repository: "contoso/ir",
            runUrl: "https://github.com/contoso/ir/actions/runs/9/attempts/1",
          },
          app: { clientId: "11111111-1111-1111-1111-111111111111", tenantId: null, source: "connection" },
        },
        {
          role: "resume",
          at: report.startedAt,
          initiator: { kind: "cli", user: "bob", host: "soc-ws-7" },
          app: {},
        },
      ],
      omittedSessions: 0,
      runbook: {
        name: "html-report-test",
        sha256: "a".repeat(64),
        hashOf: "file",
        label: null,
        path: "runbooks/t.yaml",
        git: { commit: "b".repeat(40), ref: "refs/heads/main", blob: null },
      },
    };
    report.machines[1].warnings = ["OS needs KB5005103 for live response"];
    report.machines.push({
      machineId: null,
      computerDnsName: null,
      actionIds: [],
      status: "unresolved",
      error: { code: "Target.NotFound", message: "no device named ghost.corp" },
      startedAt: null,
      finishedAt: null,
      commands: [],
      target: { selector: "computerNames", value: "ghost.corp" },
    });
    writeFileSync(path.join(dir, "report.json"), JSON.stringify(report));
    expect(writeReportPage(dir).error).toBeNull();
    const { page, errors } = await open(dir);
    const custody = await page.locator("#custody").innerText();
    expect(custody).toContain(
      "github-action · analyst · contoso/ir · https://github.com/contoso/ir/actions/runs/9/attempts/1",
    );
    expect(custody).toContain("cli · bob · on soc-ws-7");
    expect(custody).toContain(`${"b".repeat(40)} (refs/heads/main)`);
    expect(await page.locator("#run-header").innerText()).toContain(
      "Run error Auth.Refused: sign-in stopped the run",
    );
    const rows = await rowsOf(page);
    expect(rows).toHaveLength(8);
    expect(rows.at(-1)).toEqual({ machineId: null, label: "ghost.corp", status: "unresolved" });
    await page.locator("#results-table tr[data-row]").filter({ hasText: fleet.names.ok }).first().click();
    expect(await page.locator("#details").innerText()).toContain("OS needs KB5005103");
    expect(errors).toEqual([]);
    await page.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("an older run folder (no timeline.jsonl) still gets spans from report.json and says what is missing", async () => {
    const dir = tempDir("html-old");
    cpSync(fleet.outDir, dir, { recursive: true });
    rmSync(path.join(dir, "timeline.jsonl"));
    rmSync(path.join(dir, "report.html"));
    expect(writeReportPage(dir)).toMatchObject({ from: "report.json", error: null });
    const { page, errors } = await open(dir);
    expect(await page.locator("#no-timeline").innerText()).toContain("not recorded");
    for (const m of fleet.report.machines.filter(ran)) {
      const spans = (await spansOf(page, m.machineId!))!;
      expect(spans.length).toBeGreaterThan(0);
      expect(spans[0]!.start).toBe(Date.parse(m.startedAt!));
      expect(spans.at(-1)!.end).toBe(Date.parse(m.finishedAt!));
      expect(spans.some((s) => s.kind === "running")).toBe(true);
    }
    expect(await page.locator("#quota").innerText()).toContain("approximate");
    expect(errors).toEqual([]);
    await page.close();
    rmSync(dir, { recursive: true, force: true });
  });
});
