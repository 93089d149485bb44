import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { buildReport, emptyCounts, runStatus } from "../../shared/report/build.js";
import { escapeCell, renderSummary, SUMMARY_MAX_ROWS } from "../../shared/report/summary.js";
import { REPORT_EXCERPT_BYTES } from "../../shared/report/types.js";
import { type DeviceRecord, newDeviceRecord, type RunPlanFile } from "../../shared/state/records.js";
import { tempDir } from "../run/helpers.js";
import { validateReport } from "../run/schema.js";

function plan(devices: number, over: Partial<RunPlanFile> = {}): RunPlanFile {
  return {
    version: 1,
    runId: "20261123T000000-deadbeef",
    runbookName: "unit",
    comment: "IR-9",
    startedAt: "2026-11-23T00:00:00.000Z",
    startedAtMs: Date.parse("2026-11-23T00:00:00.000Z"),
    steps: [
      { type: "RunScript", scriptName: "a.ps1", args: null },
      { type: "GetFile", path: "C:\\x.bin" },
    ],
    options: {
      timeoutMs: 60_000,
      pollIntervalMs: 10_000,
      onActiveSession: "wait",
      maxConcurrentSessions: 25,
      canary: 0,
      submitPerMinute: 10,
      callsPerMinute: 100,
      callsPerHour: 1500,
    },
    devices: Array.from({ length: devices }, (_, i) => ({
      machineId: i.toString(16).padStart(40, "0"),
      computerDnsName: `host-${i}`,
      actions: [
        {
          steps: [1, 2],
          commands: [
            { type: "RunScript", params: [{ key: "ScriptName", value: "a.ps1" }] },
            { type: "GetFile", params: [{ key: "Path", value: "C:\\x.bin" }] },
          ],
        },
      ],
    })),
    skipped: [],
    unresolved: [],
    warnings: [],
    ...over,
  };
}

function done(status: DeviceRecord["status"]): DeviceRecord {
  return {
    ...newDeviceRecord(false),
    phase: "done",
    status,
    actionIds: ["act"],
    firstSubmitAt: 0,
    finishedAt: 65_000,
  };
}

describe("run status rules", () => {
  const c = (o: Partial<ReturnType<typeof emptyCounts>>) => ({ ...emptyCounts(), ...o });
  it.each([
    [c({ succeeded: 3 }), false, "succeeded"],
    [c({ succeeded: 3, skipped: 2 }), false, "succeeded"],
    [c({ succeeded: 1, failed: 1 }), false, "partial"],
    [c({ succeeded: 1, timedOut: 1 }), false, "partial"],
    [c({ failed: 2, cancelled: 1 }), false, "failed"],
    [c({ skipped: 2 }), false, "failed"],
    [c({}), false, "failed"],
    [c({ succeeded: 1, pending: 1 }), false, "pending"],
    [c({ succeeded: 3 }), true, "cancelled"],
  ] as const)("%j cancelled=%s → %s", (counts, cancelled, expected) => {
    expect(runStatus(counts, cancelled)).toBe(expected);
  });
});

describe("buildReport", () => {
  it("caps stdout excerpts, points at the full file, and validates against the schema", () => {
    const out = tempDir("report");
    mkdirSync(path.join(out, "dev0"));
    const long = "x".repeat(REPORT_EXCERPT_BYTES + 500);
    writeFileSync(path.join(out, "dev0/01-a.ps1.stdout.txt"), long);
    writeFileSync(path.join(out, "dev0/01-a.ps1.stderr.txt"), "warn");
    const rec = done("succeeded");
    rec.steps["1"] = {
      st: "succeeded",
      a: "act",
      i: 0,
      ec: 0,
      f: "dev0/01-a.ps1.transcript.json",
      sha: "a".repeat(64),
      b: 10,
      so: "dev0/01-a.ps1.stdout.txt",
      se: "dev0/01-a.ps1.stderr.txt",
      soSha: "b".repeat(64),
      seSha: "c".repeat(64),
      t0: "2026-11-23T00:00:01.12Z",
      t1: "2026-11-23T00:00:02.1234567Z",
      err: [],
    };
    const p = plan(2, {
      skipped: [
        {
          machineId: "f".repeat(40),
          computerDnsName: "old",
          code: "Preflight.Inactive",
          message: "inactive",
          status: "skipped",
        },
      ],
    });
    const report = buildReport({
      plan: p,
      records: [rec, done("failed")],
      outDir: out,
      cancelled: false,
      finishedAt: "2026-11-23T00:05:00.000Z",
      folderOf: (i) => `dev${i}`,
      apiCalls: { submit: 2 },
    });
    expect(report.status).toBe("partial");
    expect(report.counts).toEqual({ ...emptyCounts(), succeeded: 1, failed: 1, skipped: 1 });
    const cmd = report.machines[0]!.commands[0]!;
    expect(cmd.stdout).toHaveLength(REPORT_EXCERPT_BYTES);
    expect(cmd.stdoutTruncated).toBe(true);
    expect(cmd.stderr).toBe("warn");
    expect(cmd.stderrTruncated).toBe(false);
    expect(report.machines[0]!.commands[1]!.status).toBe("notRun");
    expect(report.machines[2]!.status).toBe("skipped");
    expect(report.machines[2]!.error?.code).toBe("Preflight.Inactive");
    expect(validateReport(report)).toEqual([]);
    expect(validateReport({ ...report, status: "great" })).not.toEqual([]);
    expect(
      validateReport({
        ...report,
        machines: [{ ...report.machines[0]!, folder: "../escape" }],
      }),
    ).not.toEqual([]);
  });
});

describe("summary.md", () => {
  it("escapes device-controlled Markdown and HTML", () => {
    expect(escapeCell("<img src=x onerror=alert(1)>")).toBe("&lt;img src=x onerror=alert\\(1\\)&gt;");
    expect(escapeCell("a|b")).toBe("a&#124;b");
    expect(escapeCell("**bold** [link](http://x)")).toBe("\\*\\*bold\\*\\* \\[link\\]\\(http://x\\)");
    expect(escapeCell("line1\nline2\u202E")).toBe("line1 line2");
  });

  it("renders one row per device with per-step results and a problems list, capped", () => {
    const p = plan(SUMMARY_MAX_ROWS + 3);
    p.devices[0]!.computerDnsName = "<script>alert(1)</script>|x";
    const records = p.devices.map(() => done("succeeded"));
    records[1] = { ...done("failed"), error: { code: "CommandFailed", message: "step 1: exit `1` <b>" } };
    const report = buildReport({
      plan: p,
      records,
      outDir: tempDir("summary"),
      cancelled: false,
      finishedAt: null,
      folderOf: (i) => `d${i}`,
    });
    const md = renderSummary(report);
    expect(md).not.toContain("<script>");
    expect(md).not.toContain("<b>");
    expect(md).toContain("&lt;script&gt;");
    expect(md).toContain("| Device | Status | 1. RunScript a\\.ps1 | 2. GetFile C:\\\\x\\.bin | Duration |");
    expect(md).toContain("1m 5s");
    expect(md).toContain("and 3 more devices");
    expect(md).toContain("### Problems");
    const rows = md.split("\n").filter((l) => l.startsWith("| ") && !l.startsWith("| Device"));
    expect(rows).toHaveLength(SUMMARY_MAX_ROWS);
  });
});
