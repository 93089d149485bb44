/**
 * The results table: one row per device and step, sortable by any column, rendered for the visible
 * rows only (spacer rows above and below), so 15,000 rows cost what 40 do. Clicking a row shows the
 * device's details. Every cell is text (textContent); files are relative links.
 */
import type { PageCommand, PageDevice } from "../page-data.js";
import { clear, el, fileLink } from "./dom.js";
import { bytes, duration } from "./format.js";
import type { Row } from "./model.js";

const ROW_H = 26;
const OVERSCAN = 10;

export interface TableRow {
  row: Row;
  cmd: PageCommand | null;
}

interface Column {
  key: string;
  title: string;
  width: string;
  value: (r: TableRow) => string | number | null;
  cell: (r: TableRow) => Node | string;
}

/** A device file's path relative to the run folder (see PageCommand.file). */
export function devicePath(d: PageDevice, name: string): string {
  return name.includes("/") || !d.folder ? name : `${d.folder}/${name}`;
}

/** The service starts every script output with this line (mde-api.md §4.6): it says nothing about the result. */
const TRANSCRIPT_HEADER = /^Transcript started, output file is /;

function firstLine(text: string | null): string {
  if (!text) return "";
  const line = text.split(/\r?\n/).find((l) => l.trim() !== "" && !TRANSCRIPT_HEADER.test(l)) ?? "";
  return line.trim();
}

const COLUMNS: Column[] = [
  { key: "device", title: "Device", width: "17%", value: (r) => r.row.label, cell: (r) => r.row.label },
  {
    key: "status",
    title: "Device status",
    width: "7%",
    value: (r) => r.row.device.status,
    cell: (r) => badge(r.row.device.status),
  },
  {
    key: "step",
    title: "Step",
    width: "8%",
    value: (r) => r.cmd?.step ?? null,
    cell: (r) => (r.cmd ? `${r.cmd.step} ${r.cmd.type}` : ""),
  },
  {
    key: "name",
    title: "Script / path",
    width: "13%",
    value: (r) => r.cmd?.name ?? "",
    cell: (r) => r.cmd?.name ?? "",
  },
  {
    key: "result",
    title: "Result",
    width: "7%",
    value: (r) => r.cmd?.status ?? r.row.device.error?.code ?? "",
    cell: (r) => (r.cmd ? badge(r.cmd.status) : (r.row.device.error?.code ?? "")),
  },
  {
    key: "exit",
    title: "Exit",
    width: "4%",
    value: (r) => r.cmd?.exitCode ?? null,
    cell: (r) => String(r.cmd?.exitCode ?? ""),
  },
  {
    key: "duration",
    title: "Duration",
    width: "7%",
    value: (r) => commandMs(r.cmd),
    cell: (r) => duration(commandMs(r.cmd)),
  },
  {
    key: "output",
    title: "Output (excerpt)",
    width: "17%",
    value: (r) => firstLine(r.cmd?.stdout ?? null) || firstLine(r.cmd?.stderr ?? null),
    cell: (r) => {
      const out = firstLine(r.cmd?.stdout ?? null);
      const err = firstLine(r.cmd?.stderr ?? null);
      const errors = r.cmd?.errors.join("; ") ?? "";
      if (!out && !err && !errors) return "";
      return el(
        "span",
        { class: "excerpt" },
        out,
        err ? el("span", { class: "stderr" }, `${out ? " · " : ""}stderr: ${err}`) : null,
        errors ? el("span", { class: "stderr" }, `${out || err ? " · " : ""}${errors}`) : null,
      );
    },
  },
  {
    key: "file",
    title: "File",
    width: "9%",
    value: (r) => r.cmd?.file ?? "",
    cell: (r) => {
      const f = r.cmd?.file;
      return f ? fileLink(devicePath(r.row.device, f), f.split("/").pop()) : "";
    },
  },
  {
    key: "bytes",
    title: "Size",
    width: "5%",
    value: (r) => r.cmd?.bytes ?? null,
    cell: (r) => bytes(r.cmd?.bytes ?? null),
  },
  {
    key: "sha256",
    title: "SHA-256",
    width: "6%",
    value: (r) => r.cmd?.sha256 ?? "",
    cell: (r) => el("span", { class: "mono" }, r.cmd?.sha256 ?? ""),
  },
];

function commandMs(c: PageCommand | null): number | null {
  return c && c.startedAt !== null && c.finishedAt !== null ? c.finishedAt - c.startedAt : null;
}

export function badge(status: string): HTMLElement {
  return el("span", { class: `badge s-${status.replace(/[^A-Za-z]/g, "")}` }, status);
}

export class ResultsTable {
  private rows: TableRow[] = [];
  private sortKey: string | null = null;
  private sortDir = 1;
  private readonly scroller: HTMLDivElement;
  private readonly tbody: HTMLTableSectionElement;
  private readonly heads = new Map<string, HTMLTableCellElement>();
  private rendered = "";
  private frame = 0;

  constructor(
    host: HTMLElement,
    private readonly onSelect: (row: Row) => void,
  ) {
    const colgroup = el("colgroup", {}, ...COLUMNS.map((c) => el("col", { style: `width:${c.width}` })));
    const headRow = el("tr");
    for (const c of COLUMNS) {
      const th = el("th", { scope: "col", "data-key": c.key, title: "sort" }, c.title);
      th.addEventListener("click", () => this.sortBy(c.key));
      this.heads.set(c.key, th);
      headRow.append(th);
    }
    this.tbody = el("tbody");
    const table = el(
      "table",
      { class: "results", id: "results-table" },
      colgroup,
      el("thead", {}, headRow),
      this.tbody,
    );
    this.scroller = el("div", { class: "table-scroll" }, table);
    host.append(this.scroller);
    this.scroller.addEventListener("scroll", () => this.schedule(), { passive: true });
    new ResizeObserver(() => this.schedule()).observe(this.scroller);
    this.tbody.addEventListener("click", (e) => {
      const tr = (e.target as Element).closest("tr[data-row]");
      if (!tr || (e.target as Element).closest("a")) return;
      const r = this.rows[Number(tr.getAttribute("data-row"))];
      if (r) this.onSelect(r.row);
    });
  }

  setRows(rows: Row[]): void {
    const out: TableRow[] = [];
    for (const row of rows) {
      if (row.device.commands.length === 0) out.push({ row, cmd: null });
      for (const cmd of row.device.commands) out.push({ row, cmd });
    }
    this.rows = out;
    this.applySort();
    this.scroller.style.height = `${32 + Math.max(2, out.length) * ROW_H}px`;
    this.scroller.scrollTop = 0;
    this.rendered = "";
    this.render();
  }

  count(): number {
    return this.rows.length;
  }

  private sortBy(key: string): void {
    this.sortDir = this.sortKey === key ? -this.sortDir : 1;
    this.sortKey = key;
    for (const [k, th] of this.heads) {
      th.setAttribute("aria-sort", k === key ? (this.sortDir > 0 ? "ascending" : "descending") : "none");
    }
    this.applySort();
    this.rendered = "";
    this.render();
  }

  private applySort(): void {
    const col = COLUMNS.find((c) => c.key === this.sortKey);
    if (!col) return;
    const dir = this.sortDir;
    const keyed = this.rows.map((r, i) => ({ r, i, v: col.value(r) }));
    keyed.sort((a, b) => {
      // Empty values last in either direction; ties keep report order.
      const ea = a.v === null || a.v === "";
      const eb = b.v === null || b.v === "";
      if (ea !== eb) return ea ? 1 : -1;
      let c = 0;
      if (typeof a.v === "number" && typeof b.v === "number") c = a.v - b.v;
      else c = String(a.v).localeCompare(String(b.v), "en", { numeric: true });
      return c * dir || a.i - b.i;
    });
    this.rows = keyed.map((k) => k.r);
  }

  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
    });
  }

  private render(): void {
    const head = 30;
    const first = Math.max(0, Math.floor((this.scroller.scrollTop - head) / ROW_H) - OVERSCAN);
    const count = Math.ceil(this.scroller.clientHeight / ROW_H) + 2 * OVERSCAN;
    const last = Math.min(this.rows.length, first + count);
    const key = `${first}:${last}:${this.rows.length}`;
    if (key === this.rendered) return;
    this.rendered = key;
    clear(this.tbody);
    const spacer = (h: number) =>
      el(
        "tr",
        { class: "spacer", "aria-hidden": "true" },
        el("td", { colspan: COLUMNS.length, style: `height:${h}px` }),
      );
    if (first > 0) this.tbody.append(spacer(first * ROW_H));
    for (let i = first; i < last; i++) {
      const r = this.rows[i]!;
      const tr = el("tr", {
        "data-row": i,
        "data-machine-id": r.row.device.machineId ?? "",
        "data-step": r.cmd?.step ?? "",
      });
      for (const c of COLUMNS) {
        const content = c.cell(r);
        const td = el("td", { class: `c-${c.key}` }, content);
        // The full text on hover for cells an ellipsis may cut (title is text, not markup).
        const v = c.value(r);
        if (typeof v === "string" && v.length > 12) td.title = v;
        tr.append(td);
      }
      this.tbody.append(tr);
    }
    if (last < this.rows.length) this.tbody.append(spacer((this.rows.length - last) * ROW_H));
    if (this.rows.length === 0) {
      this.tbody.append(
        el("tr", {}, el("td", { colspan: COLUMNS.length, class: "empty" }, "No device matches the filter.")),
      );
    }
  }
}
