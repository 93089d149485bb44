/**
 * report.html's script (bundled by scripts/gen-report-page.mjs into ../page.generated.ts): reads the
 * data from its JSON script element and draws the header, the filter bar, the timeline, the quota
 * charts and the results table. It sets the performance mark `mde-lr:first-screen` once the first
 * screen has been painted (the benchmark reads it), and exposes `window.mdeLrReport` for tests.
 */
import { expandWire, type PageData, SPAN_KINDS, type WireData } from "../page-data.js";
import { QuotaCharts } from "./charts.js";
import { OUTCOME_COLORS, SPAN_COLORS } from "./colors.js";
import { renderDetails } from "./details.js";
import { clear, el, fileLink } from "./dom.js";
import { bytes, dateTime, duration, percent, plural } from "./format.js";
import { Gantt } from "./gantt.js";
import { buildModel, type Filter, type Model, matches, type Row } from "./model.js";
import { badge, ResultsTable } from "./table.js";

function flatten(value: unknown, prefix = "", depth = 0): [string, string][] {
  if (value === null || value === undefined) return [[prefix || "value", "—"]];
  if (typeof value !== "object" || depth > 4) return [[prefix || "value", String(value)]];
  if (Array.isArray(value)) {
    if (value.every((v) => typeof v !== "object" || v === null))
      return [[prefix || "value", value.join(", ")]];
    return value.flatMap((v, i) => flatten(v, `${prefix}[${i}]`, depth + 1));
  }
  return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) =>
    flatten(v, prefix ? `${prefix}.${k}` : k, depth + 1),
  );
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === "string" && v !== "" ? v : null);

/** Who ran it (each process), with which app and MDE requestor, and what (the runbook, its hash and commit). */
function custodyFacts(custody: unknown): [string, string][] {
  if (!isObj(custody) || !Array.isArray(custody.sessions)) return flatten(custody);
  const out: [string, string][] = [];
  for (const s of custody.sessions) {
    if (!isObj(s)) continue;
    const who = isObj(s.initiator) ? s.initiator : {};
    const parts = [
      str(who.kind),
      str(who.user) ?? str(who.requestedBy),
      str(who.requestedBy) && str(who.user) !== str(who.requestedBy) ? `for ${str(who.requestedBy)}` : null,
      str(who.host) ? `on ${str(who.host)}` : null,
      str(who.repository),
      str(who.workflow),
      str(who.runUrl) ?? (str(who.runId) ? `run ${str(who.runId)}` : null),
      str(who.project) ? `Pulumi ${str(who.project)}${str(who.stack) ? `/${str(who.stack)}` : ""}` : null,
    ].filter((x): x is string => x !== null);
    const app = isObj(s.app) ? s.app : {};
    const appText = str(app.clientId)
      ? `app ${str(app.clientId)}${str(app.tenantId) ? ` in tenant ${str(app.tenantId)}` : ""}`
      : null;
    out.push([
      `${str(s.role) ?? "session"} ${str(s.at) ?? ""}`.trim(),
      [parts.join(" · "), appText].filter(Boolean).join("; "),
    ]);
  }
  if (typeof custody.omittedSessions === "number" && custody.omittedSessions > 0)
    out.push(["more sessions", `${custody.omittedSessions} not listed`]);
  if (Array.isArray(custody.requestors) && custody.requestors.length)
    out.push(["MDE requestor", custody.requestors.map(String).join(", ")]);
  const rb = isObj(custody.runbook) ? custody.runbook : null;
  if (rb) {
    out.push(["runbook", [str(rb.name), str(rb.path) ?? str(rb.label)].filter(Boolean).join(" · ")]);
    if (str(rb.sha256))
      out.push(["runbook sha256", `${str(rb.sha256)}${str(rb.hashOf) ? ` (of the ${str(rb.hashOf)})` : ""}`]);
    const git = isObj(rb.git) ? rb.git : null;
    if (git && str(git.commit))
      out.push(["git commit", `${str(git.commit)}${str(git.ref) ? ` (${str(git.ref)})` : ""}`]);
  }
  return out;
}

function header(model: Model, onStatus: (status: string) => void): HTMLElement {
  const { run, files, timeline, limits } = model.data;
  const start = Date.parse(run.startedAt);
  const end = run.finishedAt ? Date.parse(run.finishedAt) : null;
  const counts = Object.entries(run.counts).filter(([, n]) => n > 0);
  const total = Object.values(run.counts).reduce((a, b) => a + b, 0);
  const h = el(
    "header",
    { id: "run-header" },
    el("h1", {}, "Live response run ", badge(run.status)),
    el(
      "p",
      { class: "meta" },
      "Runbook ",
      el("strong", {}, run.runbook),
      ` · run ${run.runId} · ${dateTime(start)} → ${end !== null ? dateTime(end) : "not finished"}`,
      end !== null ? ` (${duration(end - start)})` : "",
    ),
    el(
      "p",
      { class: "counts", id: "counts" },
      `${plural(total, "device")}: `,
      ...counts.map(([status, n]) => {
        const b = el(
          "button",
          { type: "button", class: `count s-${status}`, "data-status": status },
          `${n} ${status}`,
        );
        b.addEventListener("click", () => onStatus(status));
        return b;
      }),
    ),
  );
  if (run.comment) h.append(el("p", {}, "Comment: ", el("q", {}, run.comment)));
  const custody = el("div", { class: "custody", id: "custody" }, el("h2", {}, "Custody"));
  if (run.custody !== null && run.custody !== undefined) {
    const dl = el("dl", { class: "facts" });
    for (const [k, v] of custodyFacts(run.custody)) dl.append(el("dt", {}, k), el("dd", {}, v));
    custody.append(dl);
  } else {
    custody.append(
      el("p", { class: "note" }, "Custody (who ran it, what, when) was not recorded in this report."),
    );
  }
  h.append(custody);
  if (run.error) h.append(el("p", { class: "error" }, `Run error ${run.error.code}: ${run.error.message}`));
  if (run.warnings.length)
    h.append(el("ul", { class: "warnings" }, ...run.warnings.map((w) => el("li", {}, w))));
  if (run.unresolved.length) {
    h.append(
      el("p", {}, "Targets that matched no device:"),
      el(
        "ul",
        { class: "warnings" },
        ...run.unresolved.map((u) =>
          el("li", {}, `${u.selector} ${u.value}${u.error ? `: ${u.error.code} — ${u.error.message}` : ""}`),
        ),
      ),
    );
  }
  const links = el("p", { class: "files", id: "files" }, "Files: ");
  files.forEach((f, i) => {
    if (i) links.append(" · ");
    links.append(fileLink(f.name), ` (${bytes(f.bytes)})`);
  });
  h.append(links);
  const calls = Object.entries(run.apiCalls).filter(([, n]) => n > 0);
  if (calls.length)
    h.append(el("p", { class: "meta" }, `MDE API calls: ${calls.map(([k, n]) => `${k} ${n}`).join(", ")}`));
  if (limits) {
    h.append(
      el(
        "p",
        { class: "meta" },
        `Limits: ${limits.submitPerMinute} submissions a minute, ${limits.maxConcurrentSessions} sessions at once, ` +
          `${limits.callsPerMinute} calls a minute, ${limits.callsPerHour} an hour` +
          (limits.canary ? `, canary ${limits.canary}` : ""),
      ),
    );
  }
  if (!timeline.recorded) {
    h.append(
      el(
        "p",
        { class: "notice", id: "no-timeline" },
        "The detailed timeline was not recorded for this run (no timeline.jsonl): each device's spans are " +
          "reconstructed from report.json's first submission, command and end times, and the API calls over time are unknown.",
      ),
    );
  }
  return h;
}

function boundText(model: Model): string | null {
  const b = model.bound;
  if (!b) return null;
  if (b.waitingSeconds === 0) return "No device waited for its turn: no limit held the run back.";
  const hit = b.shares.filter((s) => s.share > 0);
  if (!hit.length) {
    return `Devices waited for their turn during ${duration(b.waitingSeconds * 1000)} of the run without reaching a limit (they waited for the next submit slot or poll).`;
  }
  return (
    `Devices waited for their turn during ${duration(b.waitingSeconds * 1000)} of the run; meanwhile it was at its ` +
    hit.map((s) => `${s.label} ${percent(s.share)} of that time`).join(", ") +
    "."
  );
}

function legend(): HTMLElement {
  const item = (color: string, label: string, outline = false) =>
    el(
      "span",
      { class: "legend-item" },
      el("span", {
        class: outline ? "swatch outline" : "swatch",
        style: `${outline ? "border-color" : "background"}:${color}`,
      }),
      label,
    );
  return el(
    "p",
    { class: "legend" },
    ...SPAN_KINDS.map((k) => item(SPAN_COLORS[k], k)),
    " actions: ",
    ...Object.entries(OUTCOME_COLORS)
      .filter(([k]) => k)
      .map(([k, c]) => item(c, k, true)),
  );
}

function start(data: PageData): void {
  const app = document.getElementById("app")!;
  clear(app);
  const model = buildModel(data);
  const filter: Filter = { status: "", text: "" };

  const statusSelect = el(
    "select",
    { id: "status-filter", "aria-label": "device status" },
    el("option", { value: "" }, "all statuses"),
  );
  for (const [s, n] of Object.entries(data.run.counts))
    if (n > 0) statusSelect.append(el("option", { value: s }, s));
  const search = el("input", {
    id: "search",
    type: "search",
    placeholder: "search names, ids, paths, output, sha256…",
    "aria-label": "search",
  });
  const shown = el("span", { id: "shown" });
  const reset = el("button", { type: "button", id: "reset-zoom" }, "reset zoom");
  const range = el("span", { id: "range", class: "meta" });

  const setStatus = (s: string) => {
    filter.status = filter.status === s ? "" : s;
    statusSelect.value = filter.status;
    apply();
  };
  app.append(header(model, setStatus));
  const bar = el("div", { class: "filters" }, statusSelect, search, shown, reset, range);
  app.append(bar);

  const timelineSection = el("section", { id: "timeline" }, el("h2", {}, "Timeline"), legend());
  app.append(timelineSection);
  const gantt = new Gantt(model, timelineSection);

  const quota = el("section", { id: "quota" }, el("h2", {}, "Quota picture"));
  const bt = boundText(model);
  if (bt) quota.append(el("p", { id: "bound" }, bt));
  app.append(quota);
  const charts = new QuotaCharts(model, quota);

  const results = el("section", { id: "results" }, el("h2", {}, "Results"));
  app.append(results);
  const details = el("div", { id: "details", class: "details" });
  let selected: Row | null = null;
  const table = new ResultsTable(results, (row) => {
    selected = row;
    renderDetails(details, model, row);
    details.scrollIntoView({ block: "nearest" });
  });
  results.append(details);
  renderDetails(details, model, null);

  const showRange = (view: [number, number] | null) => {
    range.textContent = view
      ? `showing ${dateTime(model.t0 + view[0])} → ${dateTime(model.t0 + view[1])}`
      : "";
  };
  gantt.onView = (view) => {
    const full = view[0] <= 0 && view[1] >= data.timeline.end;
    charts.setView(full ? null : view);
    showRange(full ? null : view);
  };
  charts.onView = (view) => {
    gantt.setView(view ?? [0, data.timeline.end]);
    showRange(view);
  };
  reset.addEventListener("click", () => gantt.resetView());

  let rows: Row[] = model.rows;
  function apply(): void {
    rows = model.rows.filter((r) => matches(r, filter));
    shown.textContent = `${rows.length.toLocaleString("en-US")} of ${plural(model.rows.length, "device")}`;
    gantt.setRows(rows);
    table.setRows(rows);
    if (selected && !rows.includes(selected)) {
      selected = null;
      renderDetails(details, model, null);
    }
  }
  statusSelect.addEventListener("change", () => {
    filter.status = statusSelect.value;
    apply();
  });
  let typing = 0;
  search.addEventListener("input", () => {
    clearTimeout(typing);
    typing = window.setTimeout(() => {
      filter.text = search.value;
      apply();
    }, 120);
  });
  apply();
  gantt.drawNow();

  (window as unknown as { mdeLrReport: unknown }).mdeLrReport = {
    model,
    rows: () => rows.map((r) => ({ machineId: r.device.machineId, label: r.label, status: r.device.status })),
    visibleTimelineRows: () => gantt.visibleRows().map((r) => r.device.machineId),
    spans: (machineId: string) => {
      const d = model.rows.find((r) => r.device.machineId === machineId)?.device;
      if (!d) return null;
      const out: { kind: string; start: number; end: number }[] = [];
      for (let i = 0; i + 2 < d.spans.length; i += 3) {
        out.push({
          kind: SPAN_KINDS[d.spans[i]!]!,
          start: model.t0 + d.spans[i + 1]!,
          end: model.t0 + d.spans[i + 2]!,
        });
      }
      return out;
    },
    locate: (machineId: string, kind: string) => gantt.locate(machineId, kind),
    view: () => gantt.getView().map((t) => model.t0 + t),
    zoom: (a: number, b: number) => gantt.setView([a - model.t0, b - model.t0], true),
    tableRows: () => table.count(),
    chartRange: () => charts.range(),
  };
  // The mark goes after the first paint: rAF runs before it, a task queued from there after it.
  requestAnimationFrame(() => setTimeout(() => performance.mark("mde-lr:first-screen"), 0));
}

function boot(): void {
  const node = document.getElementById("report-data");
  let data: PageData;
  try {
    data = expandWire(JSON.parse(node?.textContent ?? "") as WireData);
  } catch (error) {
    const app = document.getElementById("app");
    if (app)
      app.textContent = `This report's data could not be read (${String(error)}); report.json in this folder has it.`;
    return;
  }
  start(data);
}

boot();
