/**
 * Progress while a run waits on devices. On a terminal: a compact table redrawn in place (a few
 * times a second at most). Otherwise (CI logs, pipes): plain lines — each submission and each
 * finished device, plus a summary line every `plainEveryMs`.
 */
import { basename } from "node:path";
import type { RunEvent } from "../run/types.js";
import { type CliIo, paint, statusStyle } from "./io.js";
import { table } from "./table.js";

interface DeviceRow {
  name: string;
  status: string;
  step: number | null;
  detail: string;
}

export interface ProgressView {
  onEvent(event: RunEvent): void;
  /** Device names for machine ids (from the run's plan), once known. */
  setNames(names: ReadonlyMap<string, string>): void;
  stop(): void;
}

const REDRAW_MS = 200;
const MAX_LIVE_ROWS = 15;

function shortId(id: string): string {
  return id.length > 12 ? `${id.slice(0, 12)}…` : id;
}

function clockTime(): string {
  return new Date().toISOString().slice(11, 19);
}

abstract class BaseView implements ProgressView {
  protected readonly devices = new Map<string, DeviceRow>();
  protected readonly names = new Map<string, string>();
  protected counts = { done: 0, total: 0, pending: 0, running: 0, queued: 0 };
  protected runId = "";
  protected waiting: { reason: string; untilMs: number } | null = null;

  constructor(protected readonly io: CliIo) {}

  /** Adds names (devices arrive batch by batch while targets resolve). */
  setNames(names: ReadonlyMap<string, string>): void {
    for (const [id, name] of names) {
      this.names.set(id, name);
      const row = this.devices.get(id);
      if (row) row.name = name;
    }
  }

  protected row(machineId: string): DeviceRow {
    let row = this.devices.get(machineId);
    if (!row) {
      row = {
        name: this.names.get(machineId) ?? shortId(machineId),
        status: "queued",
        step: null,
        detail: "",
      };
      this.devices.set(machineId, row);
    }
    return row;
  }

  protected summary(): string {
    const c = this.counts;
    const wait = this.waiting ? ` · waiting (${this.waiting.reason})` : "";
    return `${c.done}/${c.total} done · ${c.running} running · ${c.queued} queued${c.pending ? ` · ${c.pending} pending` : ""}${wait}`;
  }

  onEvent(event: RunEvent): void {
    switch (event.type) {
      case "planned":
        this.runId = event.runId;
        this.counts.total = event.devices;
        this.counts.queued = event.devices;
        break;
      case "submitted": {
        const row = this.row(event.machineId);
        row.status = "submitted";
        row.step = event.step;
        row.detail = `action ${shortId(event.actionId)}`;
        this.waiting = null;
        break;
      }
      case "status": {
        const row = this.row(event.machineId);
        row.status = event.status;
        break;
      }
      case "collected": {
        const row = this.row(event.machineId);
        row.step = event.step;
        row.detail = `collected ${basename(event.file)} (${event.bytes} bytes)`;
        break;
      }
      case "deviceDone": {
        const row = this.row(event.machineId);
        row.status = event.status;
        row.detail = row.detail.startsWith("collected") ? row.detail : "";
        break;
      }
      case "waiting":
        this.waiting = { reason: event.reason, untilMs: event.untilMs };
        break;
      case "progress":
        this.counts = { ...event };
        break;
      default:
        break;
    }
    this.render(event);
  }

  protected abstract render(event: RunEvent): void;
  abstract stop(): void;
}

class PlainView extends BaseView {
  private lastSummaryAt = 0;
  constructor(
    io: CliIo,
    private readonly everyMs: number,
  ) {
    super(io);
  }

  protected render(event: RunEvent): void {
    const line = (text: string) => this.io.err(`[${clockTime()}] ${text}\n`);
    switch (event.type) {
      case "planned":
        line(
          `run ${event.runId}: ${event.devices} device(s), ${event.actions} action(s), ${event.skipped} skipped`,
        );
        break;
      case "submitted":
        line(`${this.row(event.machineId).name}: submitted step ${event.step} (action ${event.actionId})`);
        break;
      case "deviceDone":
        line(`${this.row(event.machineId).name}: ${paint(this.io, statusStyle(event.status), event.status)}`);
        break;
      case "warning":
        line(`${paint(this.io, "yellow", "warning")}: ${event.message}`);
        break;
      case "progress": {
        const now = Date.now();
        if (now - this.lastSummaryAt >= this.everyMs || event.done === event.total) {
          this.lastSummaryAt = now;
          line(this.summary());
        }
        break;
      }
      case "finished":
        line(`run finished: ${paint(this.io, statusStyle(event.status), event.status)}`);
        break;
      default:
        break;
    }
  }

  stop(): void {}
}

class LiveView extends BaseView {
  private drawnLines = 0;
  private dirty = false;
  private stopped = false;
  private readonly timer: NodeJS.Timeout;

  constructor(io: CliIo) {
    super(io);
    this.timer = setInterval(() => this.flush(), REDRAW_MS);
    this.timer.unref();
  }

  protected render(event: RunEvent): void {
    if (event.type === "warning") {
      this.clear();
      this.io.err(`${paint(this.io, "yellow", "warning")}: ${event.message}\n`);
    }
    this.dirty = true;
    if (event.type === "finished") this.flush();
  }

  private clear(): void {
    if (this.drawnLines > 0) this.io.err(`\u001b[${this.drawnLines}F\u001b[J`);
    this.drawnLines = 0;
  }

  private flush(): void {
    if (!this.dirty || this.stopped) return;
    this.dirty = false;
    const order = (s: string) => (/InProgress|submitted|Pending/.test(s) ? 0 : s === "queued" ? 1 : 2);
    const rows = [...this.devices.values()].sort((a, b) => order(a.status) - order(b.status));
    const shown = rows.slice(0, MAX_LIVE_ROWS);
    // Lines must not wrap, or moving the cursor back over the frame would miss rows: the name gets
    // up to 40 columns, the detail whatever is left of the terminal's width.
    const nameWidth = Math.min(40, Math.max(4, ...shown.map((r) => r.name.length)));
    const detailWidth = Math.max(10, this.io.columns - nameWidth - 30);
    const cut = (s: string, w: number) => (s.length > w ? `${s.slice(0, w - 1)}…` : s);
    const lines = [
      `${paint(this.io, "bold", `run ${this.runId}`)}  ${this.summary()}`,
      table(
        shown.map((r) => [
          cut(r.name, nameWidth),
          paint(this.io, statusStyle(r.status), r.status),
          r.step === null ? "" : `step ${r.step}`,
          cut(r.detail, detailWidth),
        ]),
        { maxCell: Number.POSITIVE_INFINITY },
      ),
    ].filter((l) => l !== "");
    if (rows.length > shown.length) lines.push(`  … and ${rows.length - shown.length} more`);
    const text = `${lines.join("\n")}\n`;
    this.clear();
    this.io.err(text);
    this.drawnLines = text.split("\n").length - 1;
  }

  /** Draws the final frame once and leaves it: later output (the report) goes below it. */
  stop(): void {
    if (this.stopped) return;
    clearInterval(this.timer);
    this.dirty = true;
    this.flush();
    this.stopped = true;
    this.drawnLines = 0;
  }
}

export function createProgressView(io: CliIo, options: { plainEveryMs?: number } = {}): ProgressView {
  return io.interactive ? new LiveView(io) : new PlainView(io, options.plainEveryMs ?? 15_000);
}
