/**
 * The fleet timeline: one row per device on a canvas, drawn for the visible rows only (a sticky canvas
 * over a tall spacer), so 5,000 rows scroll as fast as 50. Spans are coloured by what the device was
 * doing, each action is outlined in its outcome's colour, the top strip shows the run's waits and
 * resumes. Drag across the plot to zoom, double-click to reset; hovering tells a span's start, end and
 * reason. Device names are drawn with fillText, which renders text, never markup.
 */
import { ACTION_OUTCOMES, SPAN_KINDS } from "../page-data.js";
import { OUTCOME_COLORS, SPAN_COLORS, STATUS_COLORS, WAIT_COLORS } from "./colors.js";
import { clear, el } from "./dom.js";
import { clockTime, duration } from "./format.js";
import type { Model, Row } from "./model.js";
import { spanLines } from "./tooltip.js";

const ROW_H = 18;
const AXIS_H = 24;
const STRIP_H = 14;
const HEAD_H = AXIS_H + STRIP_H + 4;
const LABEL_W = 240;
const PAD_R = 12;
const TICKS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400].map(
  (s) => s * 1000,
);

export class Gantt {
  private rows: Row[] = [];
  /** Visible time range, ms after t0. */
  private view: [number, number];
  private readonly scroller: HTMLDivElement;
  private readonly canvas: HTMLCanvasElement;
  private readonly spacer: HTMLDivElement;
  private readonly tip: HTMLDivElement;
  private readonly selection: HTMLDivElement;
  private drag: number | null = null;
  private frame = 0;
  private hoverRow = -1;
  onView: (view: [number, number]) => void = () => {};

  constructor(
    private readonly model: Model,
    host: HTMLElement,
  ) {
    this.view = [0, Math.max(1000, model.data.timeline.end)];
    this.canvas = el("canvas", { class: "gantt-canvas" });
    this.spacer = el("div", { class: "gantt-spacer" });
    this.scroller = el("div", { class: "gantt-scroll" }, this.canvas, this.spacer);
    this.tip = el("div", { class: "tooltip", id: "gantt-tooltip", role: "tooltip", hidden: true });
    this.selection = el("div", { class: "gantt-selection", hidden: true });
    host.append(el("div", { class: "gantt" }, this.scroller, this.selection, this.tip));
    this.scroller.addEventListener("scroll", () => this.schedule(), { passive: true });
    new ResizeObserver(() => this.schedule()).observe(this.scroller);
    this.canvas.addEventListener("mousemove", (e) => this.onMove(e));
    this.canvas.addEventListener("mouseleave", () => this.hideTip());
    this.canvas.addEventListener("mousedown", (e) => this.onDown(e));
    window.addEventListener("mouseup", (e) => this.onUp(e));
    this.canvas.addEventListener("dblclick", () => this.resetView());
  }

  setRows(rows: Row[]): void {
    this.rows = rows;
    // As tall as the rows need, up to the CSS max-height (a few rows stay a few rows high).
    this.scroller.style.height = `${HEAD_H + Math.max(3, rows.length) * ROW_H + 2}px`;
    this.scroller.scrollTop = 0;
    this.schedule();
  }

  setView(view: [number, number], notify = false): void {
    const span = Math.max(1000, view[1] - view[0]);
    this.view = [view[0], view[0] + span];
    this.schedule();
    if (notify) this.onView(this.view);
  }

  resetView(): void {
    this.setView([0, Math.max(1000, this.model.data.timeline.end)], true);
  }

  getView(): [number, number] {
    return [...this.view];
  }

  visibleRows(): Row[] {
    const { first, count } = this.window();
    return this.rows.slice(first, first + count);
  }

  /** Draw now (first screen) instead of on the next frame. */
  drawNow(): void {
    cancelAnimationFrame(this.frame);
    this.frame = 0;
    this.draw();
  }

  /**
   * For tests and the curious: the client point at the middle of `machineId`'s first span of `kind`
   * (scrolled into view), or null.
   */
  locate(machineId: string, kind: string): { x: number; y: number } | null {
    const r = this.rows.findIndex((row) => row.device.machineId === machineId);
    const k = SPAN_KINDS.indexOf(kind as (typeof SPAN_KINDS)[number]);
    if (r < 0 || k < 0) return null;
    const spans = this.rows[r]!.device.spans;
    let i = 0;
    while (i < spans.length && spans[i] !== k) i += 3;
    if (i >= spans.length) return null;
    const top = r * ROW_H;
    const visible = this.scroller.clientHeight - HEAD_H;
    if (top < this.scroller.scrollTop || top + ROW_H > this.scroller.scrollTop + visible) {
      this.scroller.scrollTop = Math.max(0, top - visible / 2);
    }
    this.scroller.scrollIntoView({ block: "nearest" });
    this.drawNow();
    const a = Math.max(spans[i + 1]!, this.view[0]);
    const b = Math.min(spans[i + 2]!, this.view[1]);
    const rect = this.canvas.getBoundingClientRect();
    return {
      x: rect.left + this.xOf((a + b) / 2),
      y: rect.top + HEAD_H + top - this.scroller.scrollTop + ROW_H / 2,
    };
  }

  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  private window(): { first: number; count: number } {
    const first = Math.floor(this.scroller.scrollTop / ROW_H);
    const count = Math.ceil(Math.max(0, this.scroller.clientHeight - HEAD_H) / ROW_H) + 1;
    return { first, count };
  }

  private width(): number {
    return this.scroller.clientWidth;
  }

  private xOf(ms: number): number {
    const [a, b] = this.view;
    return LABEL_W + ((ms - a) / (b - a)) * (this.width() - LABEL_W - PAD_R);
  }

  private msAt(x: number): number {
    const [a, b] = this.view;
    return a + ((x - LABEL_W) / (this.width() - LABEL_W - PAD_R)) * (b - a);
  }

  private draw(): void {
    const w = this.width();
    const h = this.scroller.clientHeight;
    this.spacer.style.height = `${Math.max(0, HEAD_H + this.rows.length * ROW_H - h)}px`;
    const dpr = window.devicePixelRatio || 1;
    if (this.canvas.width !== Math.round(w * dpr) || this.canvas.height !== Math.round(h * dpr)) {
      this.canvas.width = Math.round(w * dpr);
      this.canvas.height = Math.round(h * dpr);
      this.canvas.style.width = `${w}px`;
      this.canvas.style.height = `${h}px`;
    }
    const g = this.canvas.getContext("2d");
    if (!g) return;
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, w, h);
    g.font = "12px system-ui, sans-serif";
    g.textBaseline = "middle";
    const { first, count } = this.window();
    const offset = this.scroller.scrollTop - first * ROW_H;
    g.save();
    g.beginPath();
    g.rect(0, HEAD_H, w, h - HEAD_H);
    g.clip();
    for (let r = first; r < Math.min(this.rows.length, first + count); r++) {
      this.drawRow(g, this.rows[r]!, HEAD_H + (r - first) * ROW_H - offset, r, w);
    }
    g.restore();
    this.drawHead(g, w, h);
    if (this.rows.length === 0) {
      g.fillStyle = "#666";
      g.fillText("No device matches the filter.", LABEL_W, HEAD_H + ROW_H);
    }
  }

  private drawRow(g: CanvasRenderingContext2D, row: Row, y: number, r: number, w: number): void {
    if (r % 2 === 1 || r === this.hoverRow) {
      g.fillStyle = r === this.hoverRow ? "#e3f2fd" : "#f6f7f9";
      g.fillRect(0, y, w, ROW_H);
    }
    const d = row.device;
    g.fillStyle = STATUS_COLORS[d.status] ?? "#9e9e9e";
    g.beginPath();
    g.arc(8, y + ROW_H / 2, 4, 0, Math.PI * 2);
    g.fill();
    g.fillStyle = "#222";
    g.save();
    g.beginPath();
    g.rect(16, y, LABEL_W - 22, ROW_H);
    g.clip();
    g.fillText(row.label, 18, y + ROW_H / 2);
    g.restore();
    const left = LABEL_W;
    const right = w - PAD_R;
    const clampX = (x: number) => Math.min(right, Math.max(left, x));
    for (let i = 0; i + 2 < d.spans.length; i += 3) {
      const x0 = this.xOf(d.spans[i + 1]!);
      const x1 = this.xOf(d.spans[i + 2]!);
      if (x1 < left || x0 > right) continue;
      g.fillStyle = SPAN_COLORS[SPAN_KINDS[d.spans[i]!] ?? "waiting"];
      const a = clampX(x0);
      g.fillRect(a, y + 4, Math.max(1, clampX(x1) - a), ROW_H - 8);
    }
    for (let i = 0; i + 3 < d.actions.length; i += 4) {
      const x0 = this.xOf(d.actions[i]!);
      const x1 = this.xOf(d.actions[i + 1]!);
      if (x1 < left || x0 > right) continue;
      const color = OUTCOME_COLORS[ACTION_OUTCOMES[d.actions[i + 2]!] ?? ""] ?? "#9e9e9e";
      const a = clampX(x0);
      const b = Math.max(a + 1, clampX(x1));
      g.strokeStyle = color;
      g.lineWidth = 1;
      g.strokeRect(a + 0.5, y + 2.5, b - a - 1, ROW_H - 5);
      g.fillStyle = color;
      g.fillRect(a, y + ROW_H - 4, b - a, 2);
    }
  }

  private drawHead(g: CanvasRenderingContext2D, w: number, h: number): void {
    g.fillStyle = "#fff";
    g.fillRect(0, 0, w, HEAD_H);
    g.strokeStyle = "#ccc";
    g.beginPath();
    g.moveTo(0, HEAD_H - 0.5);
    g.lineTo(w, HEAD_H - 0.5);
    g.stroke();
    const [a, b] = this.view;
    const t0 = this.model.t0;
    const plotW = w - LABEL_W - PAD_R;
    const step = TICKS.find((t) => ((b - a) / t) * 90 <= plotW) ?? TICKS[TICKS.length - 1]!;
    g.fillStyle = "#444";
    g.strokeStyle = "#e4e6ea";
    const firstTick = Math.ceil((t0 + a) / step) * step - t0;
    for (let t = firstTick; t <= b; t += step) {
      const x = Math.round(this.xOf(t)) + 0.5;
      g.beginPath();
      g.moveTo(x, AXIS_H - 6);
      g.lineTo(x, h);
      g.stroke();
      g.fillText(clockTime(t0 + t, step < 60_000), x + 3, AXIS_H / 2);
    }
    g.fillStyle = "#444";
    g.fillText("UTC", 8, AXIS_H / 2);
    g.fillText("run waits", 8, AXIS_H + STRIP_H / 2);
    const clampX = (x: number) => Math.min(w - PAD_R, Math.max(LABEL_W, x));
    for (const [t, reason, until] of this.model.data.timeline.waits) {
      const x0 = clampX(this.xOf(t));
      const x1 = clampX(this.xOf(Math.max(until, t + 1000)));
      if (x1 <= LABEL_W || x0 >= w - PAD_R) continue;
      g.fillStyle = WAIT_COLORS[reason] ?? "#999";
      g.fillRect(x0, AXIS_H + 2, Math.max(2, x1 - x0), STRIP_H - 4);
    }
    g.strokeStyle = "#6a1b9a";
    g.setLineDash([4, 3]);
    for (const [t, kind] of this.model.data.timeline.processes.slice(1)) {
      const x = Math.round(this.xOf(t)) + 0.5;
      if (x < LABEL_W || x > w - PAD_R) continue;
      g.beginPath();
      g.moveTo(x, AXIS_H);
      g.lineTo(x, h);
      g.stroke();
      g.fillStyle = "#6a1b9a";
      g.fillText(kind, x + 3, AXIS_H + STRIP_H / 2);
    }
    g.setLineDash([]);
  }

  // ---------------------------------------------------------------------------------------------
  // Pointer

  private pointer(e: MouseEvent): { x: number; y: number } {
    const rect = this.canvas.getBoundingClientRect();
    return { x: e.clientX - rect.left, y: e.clientY - rect.top };
  }

  private onDown(e: MouseEvent): void {
    const { x } = this.pointer(e);
    if (x < LABEL_W) return;
    this.drag = x;
    e.preventDefault();
  }

  private onUp(e: MouseEvent): void {
    if (this.drag === null) return;
    const start = this.drag;
    this.drag = null;
    this.selection.hidden = true;
    const { x } = this.pointer(e);
    if (Math.abs(x - start) < 5) return;
    const a = this.msAt(Math.min(x, start));
    const b = this.msAt(Math.max(x, start));
    this.setView([Math.max(this.view[0], a), Math.min(this.view[1], b)], true);
  }

  private onMove(e: MouseEvent): void {
    const { x, y } = this.pointer(e);
    if (this.drag !== null) {
      const a = Math.min(this.drag, x);
      this.selection.hidden = false;
      this.selection.style.left = `${a}px`;
      this.selection.style.width = `${Math.abs(x - this.drag)}px`;
      this.hideTip();
      return;
    }
    const lines = this.describe(x, y);
    if (!lines) {
      this.hideTip();
      return;
    }
    clear(this.tip);
    for (const [i, line] of lines.entries())
      this.tip.append(el("div", { class: i === 0 ? "tip-head" : "" }, line));
    this.tip.hidden = false;
    const box = this.canvas.getBoundingClientRect();
    const left = Math.min(x + 14, box.width - this.tip.offsetWidth - 4);
    this.tip.style.left = `${Math.max(0, left)}px`;
    this.tip.style.top = `${y + 16}px`;
  }

  private hideTip(): void {
    this.tip.hidden = true;
    if (this.hoverRow !== -1) {
      this.hoverRow = -1;
      this.schedule();
    }
  }

  /** What is under the pointer, as lines of text (the first one the heading); null for nothing. */
  private describe(x: number, y: number): string[] | null {
    if (x < LABEL_W) return null;
    const t = this.msAt(x);
    const t0 = this.model.t0;
    if (y >= AXIS_H && y < AXIS_H + STRIP_H) {
      const w = this.model.data.timeline.waits.find(
        ([a, , b]) => t >= a - 2000 && t <= Math.max(b, a + 2000),
      );
      if (!w) return null;
      return [
        `run waited: ${w[1]}`,
        `${clockTime(t0 + w[0])} → ${clockTime(t0 + w[2])} (${duration(w[2] - w[0])})`,
      ];
    }
    if (y < HEAD_H) return null;
    const r = Math.floor((y - HEAD_H + this.scroller.scrollTop) / ROW_H);
    const row = this.rows[r];
    if (!row) return null;
    if (r !== this.hoverRow) {
      this.hoverRow = r;
      this.schedule();
    }
    return spanLines(this.model, row, t);
  }
}
