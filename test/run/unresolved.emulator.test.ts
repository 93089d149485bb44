/**
 * A requested device that cannot be reached is never a success: every target value that finds no device
 * (unknown id, no such computer name, a tag with no device, a filter that matches nothing) is its own
 * report entry with a non-success status, and counts against the run unless `onUnresolved: warn`.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { machineIdFor } from "../../shared/emulator/index.js";
import { readReport, startRun } from "../../shared/run/index.js";
import { type Rig, rig, runbookFrom, submits, tempDir } from "./helpers.js";
import { validateReport } from "./schema.js";

const D = "corp.contoso.com";
let r: Rig;
const unknownId = "0123456789abcdef0123456789abcdef01234567";

beforeAll(async () => {
  r = await rig({
    scale: 600,
    devices: ["a", "b"].map((n) => ({
      computerDnsName: `${n}.${D}`,
      osPlatform: "Windows11",
      machineTags: ["Known"],
      files: { "C:\\e.txt": `evidence of ${n}` },
    })),
  });
});
afterAll(async () => {
  await r?.close();
});

async function run(targets: string, extra = "") {
  const outDir = tempDir("unresolved");
  const report = await startRun(
    { api: r.client, clock: r.emu.clock },
    {
      runbook: runbookFrom(
        `name: u\ntargets:\n${targets}\ncommands:\n  - getFile: 'C:\\e.txt'\noptions: { pollInterval: 5${extra} }\n`,
      ),
      baseDir: outDir,
      outDir,
    },
  );
  return { report, outDir };
}

describe("unresolved targets", () => {
  it("3 machine ids, one unknown: the run is partial, the unknown id is its own entry naming what was asked", async () => {
    const before = submits(r.emu).length;
    const { report, outDir } = await run(
      `  machineIds: [${machineIdFor(`a.${D}`)}, ${unknownId}, ${machineIdFor(`b.${D}`)}]`,
    );
    expect(report.status).toBe("partial");
    expect(report.counts).toMatchObject({ succeeded: 2, unresolved: 1 });
    const entry = report.machines.find((m) => m.status === "unresolved")!;
    expect(entry).toMatchObject({
      machineId: unknownId,
      target: { selector: "machineIds", value: unknownId },
      actionIds: [],
      error: { code: "Target.NotFound" },
    });
    expect(entry.error!.message).toContain(unknownId);
    expect(entry.commands.map((c) => c.status)).toEqual(["notRun"]);
    expect(submits(r.emu).length - before).toBe(2);
    expect(validateReport(report)).toEqual([]);
    // What was written is what readReport gives back.
    expect(await readReport(outDir)).toEqual(report);
  });

  it("every selector: a name with no match, a tag with no device, a filter that matches nothing", async () => {
    const { report } = await run(
      `  computerNames: [a.${D}, ghost.${D}]\n  tags: [Known, Nobody]\n  filter: "osPlatform eq 'Linux'"`,
    );
    expect(report.status).toBe("partial");
    const entries = report.machines.filter((m) => m.status === "unresolved");
    expect(entries.map((m) => [m.target?.selector, m.target?.value, m.machineId])).toEqual([
      ["tags", "Nobody", null],
      ["filter", "osPlatform eq 'Linux'", null],
      ["computerNames", `ghost.${D}`, null],
    ]);
    expect(entries.every((m) => m.error?.code === "Target.NotFound" && m.error.message.length > 10)).toBe(
      true,
    );
    expect(entries.find((m) => m.target?.selector === "computerNames")?.computerDnsName).toBe(`ghost.${D}`);
    expect(validateReport(report)).toEqual([]);
  });

  it("nothing reachable at all: failed", async () => {
    const { report } = await run(`  machineIds: [${unknownId}]`);
    expect(report.status).toBe("failed");
    expect(report.counts.unresolved).toBe(1);
  });

  it("onUnresolved: warn reports the entry and lets the run succeed", async () => {
    const { report } = await run(
      `  machineIds: [${machineIdFor(`a.${D}`)}, ${unknownId}]`,
      ", onUnresolved: warn",
    );
    expect(report.status).toBe("succeeded");
    expect(report.onUnresolved).toBe("warn");
    expect(report.counts.unresolved).toBe(1);
    expect(report.machines.find((m) => m.status === "unresolved")?.machineId).toBe(unknownId);
  });

  it("duplicate ids (any case) are one device, submitted once", async () => {
    const id = machineIdFor(`a.${D}`);
    const before = submits(r.emu).filter((s) => s.machineId === id).length;
    const { report } = await run(`  machineIds: [${id}, ${id.toUpperCase()}, ${id}]`);
    expect(report.status).toBe("succeeded");
    expect(report.machines).toHaveLength(1);
    expect(submits(r.emu).filter((s) => s.machineId === id).length - before).toBe(1);
  });
});

describe("readReport and version 1 reports", () => {
  it("reads a version 1 report: its unresolved list becomes entries, the status stays as written", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mde-v1-"));
    const v1 = {
      schemaVersion: 1,
      runId: "20261101T000000-abcdef01",
      runbook: "old",
      startedAt: "2026-11-01T00:00:00.000Z",
      finishedAt: "2026-11-01T00:10:00.000Z",
      status: "succeeded",
      counts: { succeeded: 1, failed: 0, timedOut: 0, cancelled: 0, skipped: 0, pending: 0 },
      machines: [
        {
          machineId: machineIdFor(`a.${D}`),
          computerDnsName: `a.${D}`,
          actionIds: ["x"],
          status: "succeeded",
          error: null,
          startedAt: null,
          finishedAt: null,
          commands: [],
        },
      ],
      unresolved: [
        {
          selector: "machineIds",
          value: unknownId,
          error: { code: "Target.NotFound", message: "no device" },
        },
      ],
    };
    writeFileSync(join(dir, "report.json"), JSON.stringify(v1));
    const report = await readReport(dir);
    expect(report.schemaVersion).toBe(3);
    expect(report.custody).toBeNull();
    expect(report.status).toBe("succeeded");
    expect(report.counts).toMatchObject({ succeeded: 1, unresolved: 1 });
    expect(report.machines[1]).toMatchObject({ machineId: unknownId, status: "unresolved" });
    expect(validateReport(report)).toEqual([]);
  });

  it("refuses a report of a version it does not know, naming the versions it reads", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mde-v9-"));
    writeFileSync(join(dir, "report.json"), JSON.stringify({ schemaVersion: 9 }));
    await expect(readReport(dir)).rejects.toThrow(/reads 1, 2 and 3/);
  });
});
