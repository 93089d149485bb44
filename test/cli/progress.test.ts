/**
 * The progress views. The live view needs a terminal, which a test process doesn't have, so these
 * drive the views through the CliIo seam with a recording stand-in for the terminal.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import type { CliIo } from "../../shared/cli/io.js";
import { createProgressView } from "../../shared/cli/progress.js";

function recordingIo(interactive: boolean, color = false): CliIo & { written: string[] } {
  const written: string[] = [];
  return {
    written,
    out: (t) => written.push(t),
    err: (t) => written.push(t),
    interactive,
    color,
    env: {},
    columns: 100,
  };
}

const ESC = "\u001b";
const A = "a".repeat(40);
const B = "b".repeat(40);

afterEach(() => {
  vi.useRealTimers();
});

describe("live progress view (terminal)", () => {
  it("redraws a compact table in place, named devices, running first", () => {
    vi.useFakeTimers();
    const io = recordingIo(true, true);
    const view = createProgressView(io);
    view.onEvent({ type: "planned", runId: "r1", devices: 2, actions: 2, skipped: 0 });
    view.setNames(
      new Map([
        [A, "alpha.contoso.com"],
        [B, "bravo.contoso.com"],
      ]),
    );
    view.onEvent({ type: "submitted", machineId: A, actionId: "11111111-2222", step: 1 });
    vi.advanceTimersByTime(250);
    const first = io.written.join("");
    expect(first).toContain("run r1");
    expect(first).toContain("alpha.contoso.com");
    expect(first).toContain(`${ESC}[36msubmitted`); // coloured status
    view.onEvent({ type: "deviceDone", machineId: A, status: "succeeded" });
    view.onEvent({ type: "submitted", machineId: B, actionId: "33333333-4444", step: 1 });
    view.onEvent({ type: "progress", done: 1, total: 2, pending: 0, running: 1, queued: 0 });
    vi.advanceTimersByTime(250);
    const redraw = io.written.slice(1).join("");
    // Cursor back over the previous frame, clear, draw the new one.
    expect(redraw).toMatch(new RegExp(`${ESC}\\[\\d+F${ESC}\\[J`));
    expect(redraw).toContain("1/2 done · 1 running");
    expect(redraw.indexOf("bravo.contoso.com")).toBeLessThan(redraw.indexOf("alpha.contoso.com"));
    const frames = io.written.length;
    vi.advanceTimersByTime(1000);
    expect(io.written.length).toBe(frames); // nothing changed, nothing redrawn
    view.stop();
    // The final frame stays; the report printed after it must never be drawn over.
    const afterStop = io.written.length;
    view.stop();
    view.onEvent({ type: "progress", done: 2, total: 2, pending: 0, running: 0, queued: 0 });
    vi.advanceTimersByTime(1000);
    expect(io.written.length).toBe(afterStop);
  });

  it("prints warnings above the table", () => {
    vi.useFakeTimers();
    const io = recordingIo(true);
    const view = createProgressView(io);
    view.onEvent({ type: "planned", runId: "r2", devices: 1, actions: 1, skipped: 0 });
    vi.advanceTimersByTime(250);
    view.onEvent({ type: "warning", message: "web-srv-02: KB unknown" });
    expect(io.written.join("")).toContain("warning: web-srv-02: KB unknown\n");
    view.stop();
  });
});

describe("plain progress view (logs)", () => {
  it("prints one line per submission and finished device, summaries at most every interval", () => {
    const io = recordingIo(false);
    const view = createProgressView(io, { plainEveryMs: 60_000 });
    view.onEvent({ type: "planned", runId: "r3", devices: 2, actions: 2, skipped: 1 });
    view.setNames(new Map([[A, "alpha"]]));
    view.onEvent({ type: "submitted", machineId: A, actionId: "act-1", step: 1 });
    view.onEvent({ type: "progress", done: 0, total: 2, pending: 0, running: 1, queued: 1 });
    view.onEvent({ type: "progress", done: 0, total: 2, pending: 0, running: 2, queued: 0 });
    view.onEvent({ type: "deviceDone", machineId: A, status: "failed" });
    view.onEvent({ type: "progress", done: 2, total: 2, pending: 0, running: 0, queued: 0 });
    view.onEvent({ type: "finished", status: "partial" });
    view.stop();
    const lines = io.written.join("").trim().split("\n");
    expect(lines.map((l) => l.replace(/^\[\d\d:\d\d:\d\d\] /, ""))).toEqual([
      "run r3: 2 device(s), 2 action(s), 1 skipped",
      "alpha: submitted step 1 (action act-1)",
      "0/2 done · 1 running · 1 queued",
      "alpha: failed",
      "2/2 done · 0 running · 0 queued",
      "run finished: partial",
    ]);
    expect(io.written.join("")).not.toContain("\u001b");
  });
});
