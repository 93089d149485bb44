/**
 * startRun end to end: the real client against the emulator over loopback HTTP, on a scaled clock both
 * share. Checks what the service saw (emulator records) as well as what the run wrote.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parseManifest } from "../../shared/results/manifest.js";
import { readReport, startRun } from "../../shared/run/index.js";
import { collectEvents, type Rig, rig, runbookFrom, submits, tempDir } from "./helpers.js";
import { validateReport } from "./schema.js";

let r: Rig | undefined;
afterEach(async () => {
  await r?.close();
  r = undefined;
});

const dumpBytes = Buffer.concat([Buffer.from("MZ"), Buffer.alloc(200_000, 9), Buffer.from("tail")]);

describe("startRun against the emulator", () => {
  it("packs runScript A, getFile X, runScript B, getFile Y into two actions per device, in order, and collects everything", async () => {
    r = await rig({
      scale: 300,
      devices: ["alpha", "bravo", "charlie"].map((n) => ({
        computerDnsName: `${n}.corp.contoso.com`,
        osPlatform: "Windows11",
        files: { "C:\\x.bin": dumpBytes, "C:\\y.txt": `hello from ${n}` },
        scripts: {
          "a.ps1": { exitCode: 0, stdout: `A on ${n}` },
          "b.ps1": { exitCode: 0, stdout: `B on ${n}`, nonStrictTranscript: true },
        },
      })),
      library: [
        { fileName: "a.ps1", content: "Write-Output A" },
        { fileName: "b.ps1", content: "Write-Output B" },
      ],
    });
    const outDir = tempDir("pack");
    const { events, onEvent } = collectEvents();
    const report = await startRun(
      { api: r.client, clock: r.emu.clock, onEvent },
      {
        runbook: runbookFrom(`
name: pack-test
comment: "IR-1 pack"
targets: { computerNames: [alpha.corp.contoso.com, bravo.corp.contoso.com, charlie.corp.contoso.com] }
commands:
  - runScript: a.ps1
  - getFile: 'C:\\x.bin'
  - runScript: b.ps1
  - getFile: 'C:\\y.txt'
`),
        baseDir: outDir,
        outDir,
      },
    );
    expect(report.status).toBe("succeeded");
    expect(report.counts.succeeded).toBe(3);

    // What the service saw: two actions per device, steps 1-2 then 3-4, tagged with the run id.
    const seen = submits(r.emu);
    expect(seen).toHaveLength(6);
    for (const id of r.emu.state.machineIds()) {
      const mine = seen.filter((s) => s.machineId === id);
      expect(mine.map((s) => s.comment)).toEqual([
        `IR-1 pack [mde-lr:${report.runId}/1-2]`,
        `IR-1 pack [mde-lr:${report.runId}/3-4]`,
      ]);
      // The second action was submitted only after the first was final.
      const firstDone = r.emu.records.find(
        (x) => x.kind === "status" && x.actionId === mine[0]!.actionId && x.status === "Succeeded",
      );
      expect(firstDone).toBeDefined();
      expect(mine[1]!.at).toBeGreaterThanOrEqual(firstDone!.at);
    }

    for (const m of report.machines) {
      expect(m.commands.map((c) => [c.step, c.type, c.status])).toEqual([
        [1, "RunScript", "succeeded"],
        [2, "GetFile", "succeeded"],
        [3, "RunScript", "succeeded"],
        [4, "GetFile", "succeeded"],
      ]);
      const host = m.computerDnsName!.split(".")[0];
      expect(m.commands[0]!.stdout).toContain(`A on ${host}`);
      expect(m.commands[0]!.exitCode).toBe(0);
      expect(m.commands[2]!.stdout).toContain(`B on ${host}`);
      const x = m.commands[1]!;
      expect(x.bytes).toBe(dumpBytes.length);
      expect(readFileSync(join(outDir, x.file!))).toEqual(dumpBytes);
      expect(x.sha256).toBe(createHash("sha256").update(dumpBytes).digest("hex"));
      expect(readFileSync(join(outDir, m.commands[3]!.file!), "utf8")).toBe(`hello from ${host}`);
    }

    // Manifest: sha256sum format, every collected file, hashes match the bytes on disk.
    const manifest = parseManifest(readFileSync(join(outDir, "manifest.sha256"), "utf8"));
    const files = report.machines.flatMap((m) =>
      m.commands.flatMap((c) => [c.file, c.stdoutFile, c.stderrFile]),
    );
    expect(new Set(manifest.map((e) => e.file))).toEqual(new Set(files.filter((f): f is string => !!f)));
    for (const e of manifest) {
      expect(
        createHash("sha256")
          .update(readFileSync(join(outDir, e.file)))
          .digest("hex"),
      ).toBe(e.sha256);
    }

    expect(validateReport(report)).toEqual([]);
    expect(await readReport(outDir)).toEqual(report);
    const summary = readFileSync(join(outDir, "summary.md"), "utf8");
    expect(summary).toContain("alpha\\.corp\\.contoso\\.com");
    expect(events.some((e) => e.type === "planned")).toBe(true);
    expect(events.filter((e) => e.type === "submitted")).toHaveLength(6);
    expect(events.at(-1)).toEqual({ type: "finished", status: "succeeded" });
  });
});
