/**
 * The `mde-lr` CLI as a process: validate, plan, run (embedded emulator and a separately started one),
 * exit codes, --json, NO_COLOR, Ctrl-C, detach + resume. Emulator records prove what was (not) submitted.
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdtemp, writeFile } from "node:fs/promises";
import { hostname, tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ScaledClock } from "../../shared/clock.js";
import {
  demoEmulatorOptions,
  type EmulatorHandle,
  machineIdFor,
  startEmulator,
} from "../../shared/emulator/index.js";
import { ensureBuilt, ROOT, runCli } from "./helpers.js";

const EXAMPLES = join(ROOT, "examples/runbooks");
const EXAMPLE_FILES = readdirSync(EXAMPLES).filter((f) => f.endsWith(".yaml"));
const SCALE = 60;
// biome-ignore lint/suspicious/noControlCharactersInRegex: looking for ANSI escapes is the point
const ANSI = /\u001b\[/;

let emu: EmulatorHandle;
let env: Record<string, string>;
let tmp: string;

beforeAll(async () => {
  ensureBuilt();
  tmp = await mkdtemp(join(tmpdir(), "mde-lr-cli-"));
  const realOrigin = Date.now();
  emu = await startEmulator({
    ...demoEmulatorOptions(),
    clock: new ScaledClock({ scale: SCALE, realOrigin }),
  });
  const caFile = join(tmp, "ca.pem");
  await writeFile(caFile, emu.caPem);
  env = {
    MDE_API_URL: emu.url,
    MDE_AUTHORITY_HOST: emu.authorityHost,
    MDE_TENANT_ID: emu.demoApp.tenantId,
    MDE_CLIENT_ID: emu.demoApp.clientId,
    MDE_CLIENT_SECRET: emu.demoApp.clientSecret,
    MDE_CA_FILE: caFile,
    MDE_LR_CLOCK_SCALE: String(SCALE),
    MDE_LR_CLOCK_ORIGIN: String(realOrigin),
  };
}, 120_000);

afterAll(async () => {
  await emu?.close();
});

const submits = () => emu.records.filter((r) => r.kind === "submit");
const apiCalls = () => emu.records.filter((r) => r.kind === "call").length;

async function runbookFile(name: string, text: string): Promise<string> {
  const path = join(tmp, name);
  await writeFile(path, text);
  return path;
}

describe("help and usage", () => {
  it.each([
    "(none)",
    "run",
    "plan",
    "validate",
    "resume",
    "cancel",
    "report",
    "library",
    "library sync",
    "emulator",
  ])("mde-lr %s --help exits 0", async (cmd) => {
    const r = await runCli([...cmd.split(" ").filter((w) => w !== "(none)"), "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: mde-lr/);
  });

  it("rejects unknown commands and options with exit 2", async () => {
    expect((await runCli(["explode"])).code).toBe(2);
    const r = await runCli(["validate", "x.yaml", "--frobnicate"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown option '--frobnicate'/);
  });
});

describe("validate", () => {
  it.each(EXAMPLE_FILES)("accepts %s", async (file) => {
    const r = await runCli(["validate", join(EXAMPLES, file)]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/is a valid runbook/);
  });

  it("exits 2 naming the field path, and --json carries the issues", async () => {
    const path = await runbookFile(
      "bad.yaml",
      "name: x\ntargets: {tags: [a]}\ncommands:\n  - getFile: [a, b]\n",
    );
    const r = await runCli(["validate", path]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/commands\[0\]\.getFile: expected a device path, got a list.*line 4, column 14/);
    const j = await runCli(["validate", path, "--json"]);
    expect(j.code).toBe(2);
    const parsed = JSON.parse(j.stdout);
    expect(parsed).toMatchObject({ ok: false, exitCode: 2, error: { code: "ValidationError" } });
    expect(parsed.error.issues[0].path).toBe("commands[0].getFile");
  });

  it("exits 2 for a missing file", async () => {
    const r = await runCli(["validate", join(tmp, "nope.yaml")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/runbook: .*nope\.yaml: file not found/);
  });
});

describe("plan", () => {
  it("shows devices, skips, actions, calls and an ETA, and submits nothing", async () => {
    const path = await runbookFile(
      "plan.yaml",
      [
        "name: plan-cli",
        "targets: {tags: [Kiosk, Finance]}",
        "commands:",
        "  - runScript: collect-triage.ps1",
        "  - getFile: 'C:\\Windows\\Temp\\triage.zip'",
        "  - runScript: collect-triage.ps1",
      ].join("\n"),
    );
    const before = submits().length;
    const r = await runCli(["plan", path], { env });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/fin-ws-0142\.corp\.contoso\.com/);
    expect(r.stdout).toMatch(/kiosk-old-07\.corp\.contoso\.com\s+Preflight\.UnsupportedOs/);
    expect(r.stdout).toMatch(
      /1\. steps 1, 2: RunScript collect-triage\.ps1 → GetFile C:\\Windows\\Temp\\triage\.zip/,
    );
    expect(r.stdout).toMatch(/2\. steps 3: RunScript collect-triage\.ps1/);
    expect(r.stdout).toMatch(/Estimated time: about/);
    const j = await runCli(["plan", path, "--json"], { env });
    expect(j.code).toBe(0);
    const { plan } = JSON.parse(j.stdout);
    expect(plan.devices).toHaveLength(2);
    expect(plan.actions).toBe(4);
    expect(submits().length).toBe(before);
  });
});

describe("run", () => {
  it.each(EXAMPLE_FILES)("run %s --emulator succeeds end to end (exit 0)", async (file) => {
    const out = join(tmp, `emb-${file}`);
    const r = await runCli([
      "run",
      join(EXAMPLES, file),
      "--emulator",
      "--emulator-scale",
      String(SCALE),
      "--out",
      out,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/: succeeded/);
    const report = JSON.parse(readFileSync(join(out, "report.json"), "utf8"));
    expect(report.status).toBe("succeeded");
    expect(report.machines.length).toBeGreaterThan(0);
    for (const f of ["summary.md", "report.html", "timeline.jsonl"])
      expect(existsSync(join(out, f)), f).toBe(true);
  });

  it("--json prints the report; the emulator saw exactly one submission per device", async () => {
    const out = join(tmp, "json-run");
    const before = submits().length;
    const r = await runCli(["run", join(EXAMPLES, "triage.yaml"), "--json", "--out", out], { env });
    expect(r.code, r.stderr).toBe(0);
    const parsed = JSON.parse(r.stdout);
    expect(parsed).toMatchObject({
      ok: true,
      outDir: out,
      report: { status: "succeeded", runbook: "triage-ir-1234" },
    });
    expect(parsed.report.machines).toHaveLength(3);
    expect(submits().length - before).toBe(3);
  });

  it("exits 1 when a device fails, with the failure in the report", async () => {
    const path = await runbookFile(
      "fails.yaml",
      "name: fails\ntargets: {computerNames: [sql-srv-01.corp.contoso.com, dc-01.corp.contoso.com, dc-1.corp.contoso.com]}\ncommands: [{runScript: collect-triage.ps1}]\n",
    );
    const r = await runCli(["run", path, "--out", join(tmp, "fails-run")], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/warning: target computerNames "dc-1.corp.contoso.com": no device named/);
    expect(r.stdout).toMatch(/partial/);
    expect(r.stdout).toMatch(/sql-srv-01\.corp\.contoso\.com\s+failed/);
    expect(r.stdout).toMatch(/dc-01\.corp\.contoso\.com\s+succeeded/);
  });

  it("exits 1 when a requested machine id does not exist: the report lists it as unresolved", async () => {
    const ghost = "0123456789abcdef0123456789abcdef01234567";
    const known = machineIdFor("fin-ws-0142.corp.contoso.com");
    const path = await runbookFile(
      "ids.yaml",
      `name: ids\ntargets: {machineIds: [${known}, ${ghost}]}\ncommands: [{runScript: collect-triage.ps1}]\n`,
    );
    const out = join(tmp, "ids-run");
    const r = await runCli(["run", path, "--out", out], { env });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain(`target machineIds "${ghost}"`);
    expect(r.stdout).toMatch(/partial/);
    expect(r.stdout).toMatch(new RegExp(`${ghost}\\s+unresolved`));
    const report = JSON.parse(readFileSync(join(out, "report.json"), "utf8"));
    expect(report.machines.find((m: { machineId: string }) => m.machineId === ghost)).toMatchObject({
      status: "unresolved",
      error: { code: "Target.NotFound" },
    });
  });

  it("a default never refuses what was given: 60 --machine ids plan over the default device cap of 50", async () => {
    const path = await runbookFile(
      "tags.yaml",
      "name: tags\ntargets: {tags: [Finance]}\ncommands: [{getFile: 'C:\\\\x.txt'}]\noptions: {timeout: 5}\n",
    );
    const ids = Array.from({ length: 60 }, (_, i) => i.toString(16).padStart(2, "0").padEnd(40, "b"));
    const r = await runCli(["plan", path, ...ids.flatMap((id) => ["--machine", id])], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/poll every 1\.25s/);
    expect(r.stdout).toMatch(/Targets that found nothing \(60\)/);
  });

  it("exits 2 for an invalid runbook and never touches the service", async () => {
    const path = await runbookFile("invalid.yaml", "name: x\ntargets: {tags: [Finance]}\ncommands: []\n");
    const calls = apiCalls();
    const r = await runCli(["run", path, "--out", join(tmp, "invalid-run")], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/commands: needs at least 1 item/);
    expect(apiCalls()).toBe(calls);
    expect(existsSync(join(tmp, "invalid-run"))).toBe(false);
  });

  it("exits 2 when a step names a file missing from the library: nothing is submitted", async () => {
    const path = await runbookFile(
      "missing-lib.yaml",
      "name: x\ntargets: {tags: [Finance]}\ncommands: [{putFile: not-in-library.exe}, {getFile: 'C:\\x'}]\n",
    );
    const before = submits().length;
    const r = await runCli(["run", path, "--out", join(tmp, "missing-lib-run")], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /commands\[0\]\.putFile: "not-in-library.exe" is not in the Live Response library/,
    );
    expect(submits().length).toBe(before);
  });

  it("exits 3 for a wrong client secret and keeps the secret out of the output", async () => {
    const wrong = "definitely-not-the-secret-0123456789";
    const r = await runCli(["run", join(EXAMPLES, "triage.yaml"), "--out", join(tmp, "wrong-secret")], {
      env: { ...env, MDE_CLIENT_SECRET: wrong },
    });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/AADSTS7000215|[Ii]nvalid client secret/);
    expect(r.stdout + r.stderr).not.toContain(wrong);
  });

  it("exits 3 for a token without the needed permissions, without leaking the token", async () => {
    const token = emu.issueToken({ roles: [] });
    const { MDE_CLIENT_SECRET: _secret, ...rest } = env;
    const r = await runCli(["plan", join(EXAMPLES, "triage.yaml"), "--json"], {
      env: { ...rest, MDE_ACCESS_TOKEN: token },
    });
    expect(r.code).toBe(3);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, exitCode: 3 });
    expect(r.stdout + r.stderr).not.toContain(token);
  });

  it("exits 2 for contradictory connection flags", async () => {
    const r = await runCli([
      "plan",
      join(EXAMPLES, "triage.yaml"),
      "--emulator",
      "--api-url",
      "https://example.com",
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--emulator: can't be combined with --api-url/);
  });

  it("exits 2 with a hint to pass --emulator when no credentials are configured", async () => {
    const r = await runCli(["run", join(EXAMPLES, "triage.yaml")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no credentials configured.*pass --emulator to try it locally/);
  });

  it("honours NO_COLOR (even over FORCE_COLOR)", async () => {
    const path = join(EXAMPLES, "triage.yaml");
    const colored = await runCli(["validate", path], { env: { FORCE_COLOR: "1" } });
    expect(colored.stdout).toMatch(ANSI);
    const plain = await runCli(["validate", path], { env: { FORCE_COLOR: "1", NO_COLOR: "1" } });
    expect(plain.code).toBe(0);
    expect(plain.stdout).not.toMatch(ANSI);
    const run = await runCli(["run", path, "--out", join(tmp, "nocolor-run")], {
      env: { ...env, NO_COLOR: "1", FORCE_COLOR: "1" },
    });
    expect(run.code).toBe(0);
    expect(run.stdout + run.stderr).not.toMatch(ANSI);
  });
});

describe("interrupts, detach and resume", () => {
  const offline = "eng-lt-0421.corp.contoso.com";
  const offlineRunbook = () =>
    runbookFile(
      "offline.yaml",
      `name: offline\ntargets: {computerNames: [${offline}]}\ncommands: [{getFile: 'C:\\Windows\\Temp\\x'}]\n`,
    );

  it("Ctrl-C cancels this run's unfinished action and writes the report (exit 1)", async () => {
    const path = await offlineRunbook();
    const out = join(tmp, "interrupted");
    let sent = false;
    const r = await runCli(["run", path, "--out", out], {
      env,
      onStderr: (text, child) => {
        if (!sent && /submitted step 1/.test(text)) {
          sent = true;
          child.kill("SIGINT");
        }
      },
    });
    expect(sent).toBe(true);
    expect(r.stderr).toMatch(/SIGINT: cancelling this run's unfinished actions/);
    expect(r.code).toBe(1);
    const report = JSON.parse(readFileSync(join(out, "report.json"), "utf8"));
    expect(report.status).toBe("cancelled");
    const actionId = report.machines[0].actionIds[0];
    expect(emu.records.some((x) => x.kind === "cancel" && x.actionId === actionId)).toBe(true);
  });

  it("cancel <dir> cancels a detached run's queued action and reports it cancelled", async () => {
    const path = await offlineRunbook();
    const out = join(tmp, "to-cancel");
    const r = await runCli(["run", path, "--out", out, "--detach-after", "1m", "--json"], { env });
    expect(r.code, r.stderr).toBe(1);
    const pending = JSON.parse(r.stdout).report;
    expect(pending.status).toBe("pending");
    const actionId = pending.machines[0].actionIds[0];
    const c = await runCli(["cancel", out, "--json"], { env });
    expect(c.code, c.stderr).toBe(1);
    const cancelled = JSON.parse(c.stdout).report;
    expect(cancelled.status).toBe("cancelled");
    expect(emu.records.some((x) => x.kind === "cancel" && x.actionId === actionId)).toBe(true);
    // Custody: both processes are on record, the cancel last.
    expect(cancelled.custody.sessions.map((s: { role: string }) => s.role)).toEqual(["start", "cancel"]);
  });

  it("--detach-after leaves the run pending (exit 1); resume finishes it once the device is back (exit 0)", async () => {
    const path = await offlineRunbook();
    const out = join(tmp, "detached");
    const r = await runCli(["run", path, "--out", out, "--detach-after", "2m"], { env });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/pending/);
    // The device comes online; the queued action runs. It needs the file too.
    emu.configure({
      devices: [
        {
          ...demoEmulatorOptions().devices!.find((d) => d.computerDnsName === offline)!,
          id: machineIdFor(offline),
          offline: false,
          files: { "C:\\Windows\\Temp\\x": "collected" },
        },
      ],
    });
    const resumed = await runCli(["resume", out, "--json"], { env });
    expect(resumed.code, resumed.stderr).toBe(0);
    const report = JSON.parse(resumed.stdout).report;
    expect(report.status).toBe("succeeded");
    // Custody: the OS user and host of each process, the app it signed in as, the runbook file.
    const me = { kind: "cli", user: userInfo().username, host: hostname() };
    const app = { clientId: emu.demoApp.clientId, tenantId: emu.demoApp.tenantId, source: "connection" };
    expect(report.custody.sessions).toEqual([
      { role: "start", at: expect.any(String), initiator: me, app },
      { role: "resume", at: expect.any(String), initiator: me, app },
    ]);
    expect(report.custody.requestors).toEqual([emu.demoApp.clientId]);
    expect(report.custody.runbook).toEqual({
      name: "offline",
      sha256: createHash("sha256").update(readFileSync(path)).digest("hex"),
      hashOf: "file",
      label: null,
      path,
      git: null,
    });
    expect(report.machines[0].commands[0].downloadedAt).toEqual(expect.any(String));
    expect(JSON.parse(readFileSync(join(out, "report.json"), "utf8")).custody).toEqual(report.custody);
    // The CLI's pointer is the run id in the tag: nothing about the laptop goes to the tenant.
    const mine = submits().filter((x) => x.kind === "submit" && x.comment.includes(report.runId));
    expect(mine.map((x) => (x.kind === "submit" ? x.comment : ""))).toEqual([`[mde-lr:${report.runId}/1]`]);
  });
});

describe("library and emulator commands", () => {
  it("library list / sync --dry-run / sync / delete", async () => {
    const list = await runCli(["library", "list", "--json"], { env });
    expect(list.code).toBe(0);
    expect(JSON.parse(list.stdout).files.map((f: { fileName: string }) => f.fileName)).toContain("triage.sh");
    const dry = await runCli(
      ["library", "sync", join(EXAMPLES, "push-tool-run-collect.yaml"), "--dry-run", "--json"],
      { env },
    );
    expect(dry.code).toBe(0);
    const names = emu.state.libraryFileNames();
    const dryResult = JSON.parse(dry.stdout).library;
    expect(dryResult.dryRun).toBe(true);
    expect(emu.state.libraryFileNames()).toEqual(names);
    const sync = await runCli(["library", "sync", join(EXAMPLES, "push-tool-run-collect.yaml")], { env });
    expect(sync.code).toBe(0);
    expect(emu.state.libraryFileNames()).toEqual(
      expect.arrayContaining(["TriageKit.psm1", "run-triagekit.ps1"]),
    );
    const again = await runCli(["library", "sync", join(EXAMPLES, "push-tool-run-collect.yaml"), "--json"], {
      env,
    });
    expect(JSON.parse(again.stdout).library.uploaded).toEqual([]);
    const del = await runCli(["library", "delete", "TriageKit.psm1"], { env });
    expect(del.code).toBe(0);
    expect(emu.state.libraryFileNames()).not.toContain("TriageKit.psm1");
    expect((await runCli(["library", "delete", "../evil"], { env })).code).toBe(2);
  });

  it("mde-lr emulator serves the demo fleet and prints settings without the secret", async () => {
    let settings: Record<string, string> | null = null;
    let stdout = "";
    const { spawn } = await import("node:child_process");
    const child = spawn(
      process.execPath,
      [join(ROOT, "bin/mde-lr.js"), "emulator", "--port", "0", "--json", "--scale", "60"],
      {
        env: { PATH: process.env.PATH ?? "" },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    try {
      settings = await new Promise<Record<string, string>>((resolveSettings, reject) => {
        child.stdout.setEncoding("utf8").on("data", (d: string) => {
          stdout += d;
          if (stdout.includes("\n")) resolveSettings(JSON.parse(stdout.split("\n")[0]!));
        });
        child.on("exit", (code) => reject(new Error(`emulator exited ${code}`)));
      });
      expect(settings.MDE_API_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(stdout).not.toMatch(/MDE_CLIENT_SECRET/);
      const envFile = readFileSync(settings.envFile!, "utf8");
      const fileEnv = Object.fromEntries(
        envFile
          .trim()
          .split("\n")
          .map((l) => l.split(/=(.*)/s).slice(0, 2)),
      );
      expect(fileEnv.MDE_CLIENT_SECRET).toBeTruthy();
      const r = await runCli(
        ["run", join(EXAMPLES, "memory-dump.yaml"), "--out", join(tmp, "sep-emu"), "--json"],
        {
          env: fileEnv,
        },
      );
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout).report.status).toBe("succeeded");
    } finally {
      child.kill("SIGTERM");
      await new Promise((done) => child.once("close", done));
    }
  });
});
