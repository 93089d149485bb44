/**
 * The quota picture: submissions per rolling minute, sessions in use, API calls per rolling minute and
 * hour, each against its limit, drawn with uPlot (canvas; thousands of points cost nothing). Zooming one
 * chart (drag) zooms the others and the timeline; a double-click resets.
 */
import uPlot from "uplot";
import { el } from "./dom.js";
import { clockTime } from "./format.js";
import type { Model, Series } from "./model.js";

interface ChartSpec {
  title: string;
  value: keyof Omit<Series, "step" | "x">;
  label: string;
  color: string;
  limit: number | null;
  limitLabel: string;
  extra?: { value: keyof Omit<Series, "step" | "x">; label: string; color: string };
}

export class QuotaCharts {
  private readonly plots: uPlot[] = [];
  private syncing = false;
  /** Called with the new range (ms after t0) when a chart is zoomed; null on reset. */
  onView: (view: [number, number] | null) => void = () => {};

  constructor(
    private readonly model: Model,
    host: HTMLElement,
  ) {
    const s = model.series;
    const l = model.data.limits;
    if (!s) {
      host.append(
        el("p", { class: "note" }, "No times are known for this run, so there is no quota picture."),
      );
      return;
    }
    const recorded = model.data.timeline.recorded;
    const specs: ChartSpec[] = [
      {
        title: recorded ? "Sessions in use" : "Sessions in use (approximate: from report.json's times)",
        value: "sessions",
        label: "sessions",
        color: "#1e88e5",
        limit: l?.maxConcurrentSessions ?? null,
        limitLabel: "session cap",
        extra: { value: "waiting", label: "devices waiting for their turn", color: "#9e9e9e" },
      },
    ];
    if (recorded) {
      specs.unshift({
        title: "Submissions per rolling minute",
        value: "submitsPerMinute",
        label: "submissions",
        color: "#6a1b9a",
        limit: l?.submitPerMinute ?? null,
        limitLabel: "submit limit",
      });
      specs.push(
        {
          title: "API calls per rolling minute (all but submissions and downloads)",
          value: "callsPerMinute",
          label: "calls",
          color: "#00897b",
          limit: l?.callsPerMinute ?? null,
          limitLabel: "per-minute limit",
        },
        {
          title: "API calls per rolling hour",
          value: "callsPerHour",
          label: "calls",
          color: "#5d4037",
          limit: l?.callsPerHour ?? null,
          limitLabel: "per-hour limit",
        },
      );
    }
    const grid = el("div", { class: "charts" });
    host.append(grid);
    for (const spec of specs) {
      const box = el("div", { class: "chart" });
      grid.append(box);
      this.plots.push(this.chart(box, spec, s));
    }
    new ResizeObserver(() => {
      for (const p of this.plots) {
        const w = (p.root.parentElement?.clientWidth ?? 600) - 4;
        if (Math.abs(p.width - w) > 2) p.setSize({ width: w, height: p.height });
      }
    }).observe(grid);
  }

  /** The charts' time range, epoch seconds (null without charts). */
  range(): [number, number] | null {
    const x = this.plots[0]?.scales["x"];
    return x?.min !== undefined && x.max !== undefined ? [x.min, x.max] : null;
  }

  /** Show `view` (ms after t0), or everything when null, without calling onView back. */
  setView(view: [number, number] | null): void {
    const s = this.model.series;
    if (!s) return;
    const t0 = this.model.t0 / 1000;
    const min = view ? t0 + view[0] / 1000 : s.x[0]!;
    const max = view ? t0 + view[1] / 1000 : s.x[s.x.length - 1]!;
    this.syncing = true;
    try {
      for (const p of this.plots) p.setScale("x", { min, max });
    } finally {
      this.syncing = false;
    }
  }

  private chart(box: HTMLElement, spec: ChartSpec, s: Series): uPlot {
    const values = s[spec.value];
    const series: uPlot.Series[] = [
      {},
      {
        label: spec.label,
        stroke: spec.color,
        fill: `${spec.color}22`,
        width: 1.5,
        paths: uPlot.paths.stepped?.({ align: 1 }),
      },
    ];
    const data: (number | null)[][] = [s.x, values];
    if (spec.limit !== null) {
      series.push({
        label: spec.limitLabel,
        stroke: "#d32f2f",
        width: 1,
        dash: [6, 4],
        points: { show: false },
      });
      data.push(s.x.map(() => spec.limit));
    }
    if (spec.extra) {
      series.push({
        label: spec.extra.label,
        stroke: spec.extra.color,
        width: 1,
        scale: "devices",
        paths: uPlot.paths.stepped?.({ align: 1 }),
      });
      data.push(s[spec.extra.value]);
    }
    const axes: uPlot.Axis[] = [{ values: (_u, splits) => timeLabels(splits) }, { size: 48 }];
    if (spec.extra) axes.push({ scale: "devices", side: 1, grid: { show: false }, size: 52 });
    const opts: uPlot.Options = {
      title: spec.title,
      width: Math.max(300, box.clientWidth - 4),
      height: 180,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),
      scales: {
        x: { time: true },
        y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] },
        devices: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] },
      },
      series,
      axes,
      legend: { live: true },
      cursor: { sync: { key: "mde-lr-quota" }, drag: { x: true, y: false } },
      hooks: {
        setScale: [
          (u, key) => {
            if (key !== "x" || this.syncing) return;
            const min = u.scales.x?.min;
            const max = u.scales.x?.max;
            if (min === undefined || max === undefined) return;
            const t0 = this.model.t0 / 1000;
            const full = min <= s.x[0]! && max >= s.x[s.x.length - 1]!;
            const view: [number, number] | null = full ? null : [(min - t0) * 1000, (max - t0) * 1000];
            this.syncing = true;
            try {
              for (const p of this.plots) if (p !== u) p.setScale("x", { min, max });
            } finally {
              this.syncing = false;
            }
            this.onView(view);
          },
        ],
      },
    };
    return new uPlot(opts, data as uPlot.AlignedData, box);
  }
}

/** Axis labels in UTC, 24 h: seconds when the ticks are closer than a minute, the date when days apart. */
function timeLabels(splits: number[]): string[] {
  const step = splits.length > 1 ? splits[1]! - splits[0]! : 60;
  return splits.map((s) => {
    const ms = s * 1000;
    if (step >= 86_400) return new Date(ms).toISOString().slice(5, 10);
    return clockTime(ms, step < 60);
  });
}
