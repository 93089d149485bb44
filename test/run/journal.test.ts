import { appendFileSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { InputError } from "../../shared/errors.js";
import { JOURNAL_FILE, Journal, SNAPSHOT_FILE } from "../../shared/state/journal.js";
import { newDeviceRecord, type RunPlanFile } from "../../shared/state/records.js";
import { tempDir } from "./helpers.js";

function plan(devices: number): RunPlanFile {
  return {
    version: 1,
    runId: "r1",
    runbookName: "j",
    comment: null,
    startedAt: new Date(0).toISOString(),
    startedAtMs: 0,
    steps: [{ type: "GetFile", path: "C:\\x" }],
    options: {
      timeoutMs: 1,
      pollIntervalMs: 1,
      onActiveSession: "wait",
      maxConcurrentSessions: 1,
      canary: 0,
      submitPerMinute: 10,
      callsPerMinute: 100,
      callsPerHour: 1500,
    },
    devices: Array.from({ length: devices }, (_, i) => ({
      machineId: String(i).padStart(40, "0"),
      computerDnsName: null,
      actions: [{ steps: [1], commands: [{ type: "GetFile", params: [{ key: "Path", value: "C:\\x" }] }] }],
    })),
    skipped: [],
    unresolved: [],
    warnings: [],
  };
}

describe("journal", () => {
  it("replays the last record per device, and refuses to start a second run in the same folder", () => {
    const dir = tempDir("journal");
    const j = Journal.create(dir, plan(3));
    const r = newDeviceRecord(false);
    j.write(0, { ...r, phase: "submitting", intentAt: 5 }, true);
    j.write(0, { ...r, phase: "inflight", actionId: "a0", actionIds: ["a0"] }, true);
    j.write(2, { ...r, phase: "busy", busyCount: 1 });
    j.writeRun({ cancelled: false, finishedAt: null, apiCalls: { submit: 1 } });
    j.close();
    const loaded = Journal.load(dir);
    expect(loaded.records[0]?.phase).toBe("inflight");
    expect(loaded.records[0]?.actionId).toBe("a0");
    expect(loaded.records[1]).toBeNull();
    expect(loaded.records[2]?.busyCount).toBe(1);
    expect(loaded.run.apiCalls).toEqual({ submit: 1 });
    expect(() => Journal.create(dir, plan(3))).toThrow(InputError);
  });

  it("replays devices with one shared copy of equal packed actions, and the snapshot reads back", () => {
    const dir = tempDir("shared-actions");
    const p = plan(2_000);
    p.devices[7]!.actions = [
      { steps: [1], commands: [{ type: "GetFile", params: [{ key: "Path", value: "C:\\y" }] }] },
    ];
    const j = Journal.create(dir, p);
    const records = p.devices.map((_, i) => ({ ...newDeviceRecord(false), action: i % 3 }));
    j.compact(records, { cancelled: false, finishedAt: null, apiCalls: { link: 2 } });
    j.close();
    const loaded = Journal.load(dir);
    const devices = loaded.plan.devices;
    expect(devices[0]!.actions).toBe(devices[1_999]!.actions);
    expect(devices[7]!.actions).not.toBe(devices[0]!.actions);
    expect(devices[7]!.actions).toEqual(p.devices[7]!.actions);
    expect(devices.map((d) => d.actions)).toEqual(p.devices.map((d) => d.actions));
    // The snapshot is written piece by piece: the same JSON as one JSON.stringify.
    expect(loaded.records).toEqual(records);
    expect(JSON.parse(readFileSync(path.join(dir, SNAPSHOT_FILE), "utf8")).run.apiCalls).toEqual({ link: 2 });
  });

  it("ignores and cuts a torn last line (crash mid-append), so later appends are not lost", () => {
    const dir = tempDir("torn");
    const j = Journal.create(dir, plan(2));
    j.write(0, { ...newDeviceRecord(false), phase: "submitting" }, true);
    j.close();
    appendFileSync(path.join(dir, JOURNAL_FILE), '{"s":2,"d":1,"r":{"pha');
    expect(Journal.load(dir).records[1]).toBeNull();
    const { journal } = Journal.open(dir);
    journal.write(1, { ...newDeviceRecord(false), phase: "queued" });
    journal.close();
    const loaded = Journal.load(dir);
    expect(loaded.records[0]?.phase).toBe("submitting");
    expect(loaded.records[1]?.phase).toBe("queued");
  });

  it("compacts into a snapshot and keeps replaying correctly, even if the journal was not emptied", () => {
    const dir = tempDir("compact");
    const j = Journal.create(dir, plan(100));
    const records = Array.from({ length: 100 }, () => newDeviceRecord(false));
    for (let round = 0; round < 6; round++) {
      for (let i = 0; i < 100; i++) {
        records[i] = { ...records[i]!, busyCount: round };
        j.write(i, records[i]!);
        j.maybeCompact(100, () => records, { cancelled: false, finishedAt: null, apiCalls: {} }, 2);
      }
    }
    j.close();
    expect(statSync(path.join(dir, SNAPSHOT_FILE)).size).toBeGreaterThan(0);
    // Far fewer lines than the 600 writes: the journal restarted at each compaction.
    expect(readFileSync(path.join(dir, JOURNAL_FILE), "utf8").split("\n").length).toBeLessThan(500);
    const loaded = Journal.load(dir);
    expect(loaded.records.every((r) => r?.busyCount === 5)).toBe(true);
  });
});
