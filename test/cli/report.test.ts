/**
 * `mde-lr report <dir> [--open]` as a process: rewrites report.html for a finished run, for an older
 * folder without timeline.jsonl, for a run that never wrote report.json (from its journal), refuses a
 * folder that holds no run with the fix, and with --open in a session without a display prints the path.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRun } from "../../shared/run/index.js";
import { rig, runbookFrom, tempDir } from "../run/helpers.js";
import { ensureBuilt, runCli } from "./helpers.js";

let tmp: string;
let runDir: string;

/** The page's data, parsed back out of the file. */
function pageData(dir: string): {
  timeline: { recorded: boolean };
  run: { status: string };
  devices: unknown[];
} {
  const html = readFileSync(join(dir, "report.html"), "utf8");
  const m = /<script type="application\/json" id="report-data">(.*?)<\/script>/s.exec(html);
  if (!m) throw new Error("no data element in report.html");
  return JSON.parse(m[1]!);
}

beforeAll(async () => {
  ensureBuilt();
  tmp = tempDir("cli-report");
  const r = await rig({
    scale: 300,
    devices: ["a1", "a2"].map((n) => ({
      computerDnsName: `${n}.corp.contoso.com`,
      osPlatform: "Windows11",
      scripts: { "s.ps1": { exitCode: 0, stdout: `on ${n}` } },
    })),
    library: [{ fileName: "s.ps1", content: "Write-Output x" }],
  });
  try {
    runDir = join(tmp, "run");
    await startRun(
      { api: r.client, clock: r.emu.clock },
      {
        runbook: runbookFrom(
          "name: cli-report\ntargets: { computerNames: [a1.corp.contoso.com, a2.corp.contoso.com] }\ncommands:\n  - runScript: s.ps1\n",
        ),
        baseDir: runDir,
        outDir: runDir,
      },
    );
  } finally {
    await r.close();
  }
}, 60_000);

afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

function copyRun(name: string): string {
  const dir = join(tmp, name);
  cpSync(runDir, dir, { recursive: true });
  return dir;
}

describe("mde-lr report", () => {
  it("rewrites report.html for a finished run and prints its path", async () => {
    const dir = copyRun("again");
    rmSync(join(dir, "report.html"));
    const r = await runCli(["report", dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(join(dir, "report.html"));
    expect(r.stderr).toContain("wrote report.html");
    expect(pageData(dir)).toMatchObject({ timeline: { recorded: true }, run: { status: "succeeded" } });
    expect(pageData(dir).devices).toHaveLength(2);
  });

  it("writes a page for an older run folder without timeline.jsonl", async () => {
    const dir = copyRun("old");
    rmSync(join(dir, "timeline.jsonl"));
    const r = await runCli(["report", dir, "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      ok: true,
      path: join(dir, "report.html"),
      from: "report.json",
      opened: null,
    });
    expect(pageData(dir).timeline.recorded).toBe(false);
  });

  it("builds the page from the journal when the run never wrote report.json, and changes nothing else", async () => {
    const dir = copyRun("crashed");
    rmSync(join(dir, "report.json"));
    const journal = statSync(join(dir, "journal.snapshot.json")).mtimeMs;
    const r = await runCli(["report", dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("from the journal");
    expect(pageData(dir).devices).toHaveLength(2);
    expect(existsSync(join(dir, "report.json"))).toBe(false);
    expect(statSync(join(dir, "journal.snapshot.json")).mtimeMs).toBe(journal);
  });

  it("--open without a display prints the path and says why nothing opened", async () => {
    const dir = copyRun("open");
    const r = await runCli(["report", dir, "--open"], { env: { DISPLAY: "", WAYLAND_DISPLAY: "" } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(join(dir, "report.html"));
    expect(r.stderr).toContain("no display here");
  });

  it("--open with a display hands the page to the desktop's opener (xdg-open)", async () => {
    const dir = copyRun("open-display");
    const bin = join(tmp, "fake-bin");
    mkdirSync(bin, { recursive: true });
    const seen = join(tmp, "opened.txt");
    writeFileSync(join(bin, "xdg-open"), `#!/bin/sh\nprintf '%s' "$1" > '${seen}'\n`, { mode: 0o755 });
    const r = await runCli(["report", dir, "--open"], {
      env: { DISPLAY: ":0", PATH: `${bin}:${process.env.PATH ?? ""}` },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("opened it");
    await expect.poll(() => existsSync(seen) && readFileSync(seen, "utf8")).toBe(join(dir, "report.html"));
  });

  it("refuses a folder that holds no run, and a report it cannot read, naming the fix (exit 2)", async () => {
    const empty = join(tmp, "empty");
    mkdirSync(empty);
    const r = await runCli(["report", empty]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("holds no run");
    expect(r.stderr).toContain("pass a run's output folder");
    expect((await runCli(["report", join(tmp, "missing")])).stderr).toContain("is not a folder");
    const future = copyRun("future");
    writeFileSync(
      join(future, "report.json"),
      JSON.stringify({ schemaVersion: 9, runId: "x", machines: [] }),
    );
    const f = await runCli(["report", future]);
    expect(f.code).toBe(2);
    expect(f.stderr).toContain("schemaVersion 9");
    expect(f.stderr).toContain("reads 1, 2 and 3");
    expect(f.stderr).toContain("update mde-lr");
  });
});
