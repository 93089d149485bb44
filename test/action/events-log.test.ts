import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createEventLogger } from "../../action/events-log.js";
import { registerSecret } from "../../shared/redact.js";

let out: string[] = [];
beforeEach(() => {
  out = [];
  vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    out.push(String(chunk));
    return true;
  });
});
afterEach(() => {
  vi.restoreAllMocks();
});

describe("run events in the step log", () => {
  it("turns at most five warnings into annotations, the rest into log lines", () => {
    const log = createEventLogger();
    for (let i = 0; i < 8; i++) log({ type: "warning", message: `w${i}` });
    const text = out.join("");
    expect(text.match(/^::warning::/gm)).toHaveLength(5);
    expect(text).toContain("warning: w7");
  });

  it("throttles progress lines but always prints the last one", () => {
    let t = 0;
    const log = createEventLogger(() => t);
    for (let done = 0; done < 10; done++) {
      t += 1_000;
      log({ type: "progress", done, total: 10, pending: 0, running: 1, queued: 0 });
    }
    t += 1_000;
    log({ type: "progress", done: 10, total: 10, pending: 0, running: 0, queued: 0 });
    const lines = out
      .join("")
      .split("\n")
      .filter((l) => l.startsWith("Progress"));
    expect(lines).toEqual([
      "Progress: 0/10 done, 1 running, 0 queued, 0 pending",
      "Progress: 10/10 done, 0 running, 0 queued, 0 pending",
    ]);
  });

  it("redacts what it prints", () => {
    registerSecret("SECRET-in-a-device-path-123");
    createEventLogger()({
      type: "collected",
      machineId: "m",
      step: 1,
      file: "x/SECRET-in-a-device-path-123",
      bytes: 1,
    });
    expect(out.join("")).not.toContain("SECRET-in-a-device-path-123");
  });
});
