/**
 * startRun end to end: the real client against the emulator over loopback HTTP, on a scaled clock both
 * share. Checks what the service saw (emulator records) as well as what the run wrote.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parseManifest } from "../../shared/results/manifest.js";
import { cancelRun, readReport, resumeRun, startRun } from "../../shared/run/index.js";
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

describe("aroundReport (a process's own hook around the end-of-run writing)", () => {
  it("wraps every report file of a run, of a resume of a finished run and of a cancel, once each; `finished` comes after", async () => {
    r = await rig({
      scale: 300,
      devices: [{ computerDnsName: "hook.corp.contoso.com", files: { "C:\\h.txt": "hook" } }],
    });
    const outDir = tempDir("around-report");
    const files = ["report.json", "summary.md", "report.html", "manifest.sha256", "journal.snapshot.json"];
    const present = () => files.filter((f) => existsSync(join(outDir, f)));
    const calls: { before: string[]; after: string[]; events: string[] }[] = [];
    const events: string[] = [];
    const ctx = {
      api: r.client,
      clock: r.emu.clock,
      onEvent: (e: { type: string }) => {
        events.push(e.type);
        calls.at(-1)?.events.push(e.type);
      },
      aroundReport: <T>(write: () => T): T => {
        const call = { before: present(), after: [] as string[], events: [] as string[] };
        calls.push(call);
        const result = write();
        call.after = present();
        // Anything emitted from here on is after the writing.
        calls.push({ before: [], after: [], events: [] });
        return result;
      },
    };
    const runbook = runbookFrom(`
name: hook
targets: { computerNames: [hook.corp.contoso.com] }
commands:
  - getFile: 'C:\\h.txt'
`);
    const report = await startRun(ctx, { runbook, baseDir: outDir, outDir });
    expect(report.status).toBe("succeeded");
    const writes = () => calls.filter((c) => c.after.length > 0);
    expect(writes()).toHaveLength(1);
    expect(writes()[0]!.before).toEqual([]);
    expect(writes()[0]!.after).toEqual(files);
    expect(writes()[0]!.events).not.toContain("finished");
    expect(events.at(-1)).toBe("finished");

    // A finished run resumed writes its report again, through the hook; so does a cancel.
    expect((await resumeRun(ctx, outDir)).status).toBe("succeeded");
    await cancelRun(ctx, outDir);
    expect(writes()).toHaveLength(3);
  });
});
