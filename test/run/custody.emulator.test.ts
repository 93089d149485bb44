/**
 * Chain of custody through the core, against the emulator over loopback: who (initiator, app, the
 * service's requestor), what (the runbook's digests, path and commit), when (each result's submission,
 * completion and download); kept and extended by resume and cancel; old folders and reports still read;
 * manifest.sha256 checked by the real `sha256sum -c`.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { DeviceSpec } from "../../shared/emulator/types.js";
import type { RunReport } from "../../shared/report/types.js";
import { cancelRun, readReport, resumeRun, startRun } from "../../shared/run/index.js";
import { loadRunbook } from "../../shared/runbook/index.js";
import { SecretScanner } from "../chaos/harness/secrets.js";
import { filesUnder } from "../security/helpers.js";
import { type Rig, rig, runbookFrom, submits, tempDir } from "./helpers.js";
import { validateReport } from "./schema.js";

let r: Rig | undefined;
afterEach(async () => {
  await r?.close();
  r = undefined;
});

const lib = [
  { fileName: "a.ps1", content: "Write-Output A" },
  { fileName: "b.ps1", content: "Write-Output B" },
];
function device(name: string, extra: Partial<DeviceSpec> = {}): DeviceSpec {
  return {
    computerDnsName: name,
    osPlatform: "Windows11",
    machineTags: ["T"],
    scripts: { "a.ps1": { exitCode: 0, stdout: `A on ${name}` }, "b.ps1": { exitCode: 0, stdout: "B" } },
    files: { "C:\\x.txt": `x on ${name}`, "C:\\y.txt": `y on ${name}` },
    ...extra,
  };
}
const TWO_ACTIONS = `name: custody
comment: IR-9 custody
targets: { tags: [T] }
commands:
  - runScript: a.ps1
  - getFile: 'C:\\x.txt'
  - runScript: b.ps1
  - getFile: 'C:\\y.txt'
`;

const git = (cwd: string, ...args: string[]) =>
  execFileSync("git", args, {
    cwd,
    encoding: "utf8",
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: "t",
      GIT_AUTHOR_EMAIL: "t@example.com",
      GIT_COMMITTER_NAME: "t",
      GIT_COMMITTER_EMAIL: "t@example.com",
      GIT_CONFIG_GLOBAL: "/dev/null",
      GIT_CONFIG_NOSYSTEM: "1",
    },
  }).trim();

function noSecretsIn(outDir: string): void {
  const scanner = new SecretScanner();
  const findings = filesUnder(outDir).flatMap((f) => scanner.scan(f, readFileSync(f)));
  expect(findings).toEqual([]);
}

describe("custody of a run started from a runbook in a git repository", () => {
  it("records who, what and when; manifest.sha256 passes sha256sum -c; no secret anywhere", async () => {
    r = await rig({ scale: 300, devices: [device("alpha"), device("bravo")], library: lib });
    const repo = tempDir("repo");
    mkdirSync(join(repo, "runbooks"));
    const file = join(repo, "runbooks", "custody.yaml");
    writeFileSync(file, TWO_ACTIONS);
    git(repo, "init", "-q", "-b", "main");
    git(repo, "add", ".");
    git(repo, "commit", "-q", "-m", "runbook");
    const out = tempDir("custody-repo");
    const report = await startRun(
      {
        api: r.client,
        clock: r.emu.clock,
        initiator: { kind: "cli", user: "alice", host: "lab-1" },
        commentPointer: "by alice@lab-1",
      },
      { runbook: await loadRunbook(file), baseDir: repo, outDir: out },
    );
    expect(report.status).toBe("succeeded");
    expect(report.schemaVersion).toBe(3);
    expect(validateReport(report)).toEqual([]);
    const c = report.custody;
    // What: the file's bytes, its place in the repository, the commit.
    expect(c?.runbook).toEqual({
      name: "custody",
      sha256: createHash("sha256").update(readFileSync(file)).digest("hex"),
      hashOf: "file",
      label: null,
      path: "runbooks/custody.yaml",
      git: {
        commit: git(repo, "rev-parse", "HEAD"),
        ref: "refs/heads/main",
        blob: git(repo, "rev-parse", "HEAD:runbooks/custody.yaml"),
      },
    });
    // Who: this process, the app its token claims, the requestor the service recorded on the actions.
    const app = { clientId: r.emu.demoApp.clientId, tenantId: r.emu.demoApp.tenantId };
    expect(c?.sessions).toEqual([
      {
        role: "start",
        at: report.startedAt,
        initiator: { kind: "cli", user: "alice", host: "lab-1" },
        app: {
          clientId: app.clientId.toLowerCase(),
          tenantId: app.tenantId.toLowerCase(),
          source: "token-claims",
        },
      },
    ]);
    expect(c?.requestors).toEqual([app.clientId]);
    expect(c?.omittedSessions).toBe(0);
    // When: each result's submission (the service's creation time), completion and download.
    const actions = new Map<string, string>();
    for (const s of submits(r.emu)) actions.set(s.actionId, new Date(s.at).toISOString());
    for (const m of report.machines) {
      expect(m.commands).toHaveLength(4);
      for (const cmd of m.commands) {
        expect(cmd.submittedAt).toBe(actions.get(cmd.actionId ?? ""));
        expect(Date.parse(cmd.submittedAt ?? "")).toBeLessThanOrEqual(Date.parse(cmd.startedAt ?? ""));
        expect(Date.parse(cmd.finishedAt ?? "")).toBeLessThanOrEqual(Date.parse(cmd.downloadedAt ?? ""));
        expect(cmd.sha256).toMatch(/^[0-9a-f]{64}$/);
        expect(cmd.bytes).toBeGreaterThan(0);
      }
    }
    // Every Comment: the runbook's comment, this process's pointer, the run tag.
    for (const s of submits(r.emu)) {
      expect(s.comment).toMatch(
        new RegExp(`^IR-9 custody \\| by alice@lab-1 \\[mde-lr:${report.runId}/\\d(-\\d)?\\]$`),
      );
    }
    // manifest.sha256 is what coreutils checks, from inside the folder; a changed byte fails it.
    const ok = spawnSync("sha256sum", ["-c", "--strict", "manifest.sha256"], { cwd: out, encoding: "utf8" });
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout.trim().split("\n").length).toBeGreaterThanOrEqual(8);
    expect(ok.stdout).not.toMatch(/FAILED/);
    const f = report.machines[0]?.commands[1]?.file ?? "";
    writeFileSync(join(out, f), "tampered");
    const bad = spawnSync("sha256sum", ["-c", "--quiet", "manifest.sha256"], { cwd: out, encoding: "utf8" });
    expect(bad.status).not.toBe(0);
    expect(bad.stdout).toContain(`${f}: FAILED`);
    noSecretsIn(out);
  });

  it("an inline runbook outside any repository: digest of the text, no path, no git", async () => {
    r = await rig({ scale: 300, devices: [device("alpha")], library: lib });
    const out = tempDir("custody-text");
    const text = TWO_ACTIONS.replace("tags: [T]", "computerNames: [alpha]");
    const report = await startRun(
      { api: r.client, clock: r.emu.clock },
      { runbook: runbookFrom(text), baseDir: out, outDir: out },
    );
    expect(report.custody?.runbook).toEqual({
      name: "custody",
      sha256: createHash("sha256").update(text).digest("hex"),
      hashOf: "text",
      label: null,
      path: null,
      git: null,
    });
    // Code calling the library without saying who it is: recorded as such, nothing invented.
    expect(report.custody?.sessions.map((s) => s.initiator)).toEqual([{ kind: "api" }]);
    // No pointer given: the Comment is the runbook's comment and the tag, as before.
    expect(submits(r.emu)[0]?.comment).toMatch(/^IR-9 custody \[mde-lr:/);
  });
});

describe("custody across processes: resume and cancel keep the original and add themselves", () => {
  it("a resumed run keeps the first session and requestors, adds its own; its submissions carry its pointer", async () => {
    const onlineAt = Date.now() + 20 * 60_000; // service ms (the clocks start at real now)
    r = await rig({
      scale: 300,
      devices: [device("alpha"), device("late", { offline: true, onlineAt })],
      library: lib,
    });
    const out = tempDir("custody-resume");
    const first = await startRun(
      {
        api: r.client,
        clock: r.emu.clock,
        initiator: {
          kind: "github-action",
          user: "responder",
          runId: "4242",
          runUrl: "https://github.com/contoso/ir/actions/runs/4242/attempts/1",
        },
        commentPointer:
          "GitHub Actions by responder: https://github.com/contoso/ir/actions/runs/4242/attempts/1",
      },
      {
        runbook: runbookFrom(`${TWO_ACTIONS}options: { timeout: 2h }\n`),
        baseDir: out,
        outDir: out,
        detachAfterMs: 3 * 60_000,
      },
    );
    expect(first.status).toBe("pending");
    expect(first.custody?.sessions.map((s) => s.role)).toEqual(["start"]);
    const lateSubmits = () =>
      submits(r!.emu).filter(
        (s) => s.machineId === first.machines.find((m) => m.computerDnsName === "late")?.machineId,
      );
    expect(lateSubmits()).toHaveLength(1);

    // Another process (a laptop): its own initiator and pointer.
    const resumed = await resumeRun(
      {
        api: r.client,
        clock: r.emu.clock,
        initiator: { kind: "cli", user: "bob", host: "laptop" },
        commentPointer: "mde-lr by bob@laptop",
      },
      out,
    );
    expect(resumed.status).toBe("succeeded");
    const c = resumed.custody;
    expect(c?.sessions.map((s) => [s.role, s.initiator.kind, s.initiator.user])).toEqual([
      ["start", "github-action", "responder"],
      ["resume", "cli", "bob"],
    ]);
    expect(c?.sessions[0]?.initiator.runUrl).toBe(
      "https://github.com/contoso/ir/actions/runs/4242/attempts/1",
    );
    expect(c?.requestors).toEqual([r.emu.demoApp.clientId]);
    expect(c?.runbook?.hashOf).toBe("text");
    // The late device's first action was sent by the first run, its second by the resume.
    const [sentFirst, sentByResume] = lateSubmits();
    expect(sentFirst?.comment).toContain("actions/runs/4242/attempts/1 [mde-lr:");
    expect(sentByResume?.comment).toMatch(/\| mde-lr by bob@laptop \[mde-lr:.*\/3-4\]$/);
    // The late device's results: submitted before and after the resume, all downloaded.
    const late = resumed.machines.find((m) => m.computerDnsName === "late");
    expect(late?.commands.map((x) => x.submittedAt !== null && x.downloadedAt !== null)).toEqual([
      true,
      true,
      true,
      true,
    ]);
    expect(validateReport(resumed)).toEqual([]);

    // Cancelling the finished run changes nothing but is on record too.
    const cancelled = await cancelRun(
      { api: r.client, clock: r.emu.clock, initiator: { kind: "pulumi", project: "p", stack: "s" } },
      out,
    );
    expect(cancelled.status).toBe("succeeded");
    expect(cancelled.custody?.sessions.map((s) => s.role)).toEqual(["start", "resume", "cancel"]);
    expect((await readReport(out)).custody).toEqual(cancelled.custody);
    noSecretsIn(out);
  });

  it("cancelRun's cancellation Comment carries the cancelling process's pointer", async () => {
    r = await rig({ scale: 100, devices: [device("off", { offline: true })], library: lib });
    const out = tempDir("custody-cancel");
    const first = await startRun(
      { api: r.client, clock: r.emu.clock, commentPointer: "started here" },
      { runbook: runbookFrom(TWO_ACTIONS), baseDir: out, outDir: out, detachAfterMs: 60_000 },
    );
    expect(first.status).toBe("pending");
    const cancelled = await cancelRun(
      { api: r.client, clock: r.emu.clock, commentPointer: "cancelled from the harvest run" },
      out,
    );
    expect(cancelled.status).toBe("cancelled");
    const action = await r.client.getMachineAction(cancelled.machines[0]?.actionIds[0] ?? "");
    expect(action.cancellationComment).toMatch(
      /^mde-lr: run cancelled \| cancelled from the harvest run \[mde-lr:/,
    );
    expect(cancelled.custody?.sessions.map((s) => s.role)).toEqual(["start", "cancel"]);
  });
});

describe("folders and reports of older versions", () => {
  it("a run folder without custody (older journal and plan) resumes: earlier sessions unknown, never invented", async () => {
    r = await rig({ scale: 300, devices: [device("alpha")], library: lib });
    const out = tempDir("custody-old");
    const done = await startRun(
      { api: r.client, clock: r.emu.clock, initiator: { kind: "cli", user: "alice" } },
      { runbook: runbookFrom(TWO_ACTIONS), baseDir: out, outDir: out },
    );
    expect(done.status).toBe("succeeded");
    // Make the folder look like one written before custody: no plan custody, no run custody, no ts/td.
    const plan = JSON.parse(readFileSync(join(out, "run.json"), "utf8")) as Record<string, unknown>;
    delete plan["custody"];
    writeFileSync(join(out, "run.json"), JSON.stringify(plan));
    const snap = JSON.parse(readFileSync(join(out, "journal.snapshot.json"), "utf8")) as {
      run: Record<string, unknown>;
      records: { steps: Record<string, Record<string, unknown>> }[];
    };
    delete snap.run["custody"];
    for (const rec of snap.records)
      for (const step of Object.values(rec.steps)) {
        delete step["ts"];
        delete step["td"];
      }
    writeFileSync(join(out, "journal.snapshot.json"), JSON.stringify(snap));
    expect(readFileSync(join(out, "journal.jsonl"), "utf8")).toBe("");

    const again = await resumeRun(
      { api: r.client, clock: r.emu.clock, initiator: { kind: "cli", user: "bob" } },
      out,
    );
    expect(again.status).toBe("succeeded");
    expect(again.custody?.runbook).toBeNull();
    expect(again.custody?.sessions.map((s) => [s.role, s.initiator.user])).toEqual([["resume", "bob"]]);
    expect(again.custody?.requestors).toEqual([]);
    expect(again.machines[0]?.commands.every((x) => x.submittedAt === null && x.downloadedAt === null)).toBe(
      true,
    );
    expect(again.machines[0]?.commands.every((x) => x.sha256 !== null)).toBe(true);
    expect(validateReport(again)).toEqual([]);
  });

  it("reads a version 2 report: custody and the per-result times are null, the rest as written", async () => {
    r = await rig({ scale: 300, devices: [device("alpha")], library: lib });
    const out = tempDir("custody-v2");
    const v3 = await startRun(
      { api: r.client, clock: r.emu.clock },
      { runbook: runbookFrom(TWO_ACTIONS), baseDir: out, outDir: out },
    );
    const { custody: _dropped, ...rest } = v3;
    const v2 = {
      ...rest,
      schemaVersion: 2,
      machines: v3.machines.map((m) => ({
        ...m,
        commands: m.commands.map(({ submittedAt: _s, downloadedAt: _d, ...cmd }) => cmd),
      })),
    };
    writeFileSync(join(out, "report.json"), JSON.stringify(v2));
    const read: RunReport = await readReport(out);
    expect(read.schemaVersion).toBe(3);
    expect(read.custody).toBeNull();
    expect(read.machines[0]?.commands[0]).toMatchObject({ submittedAt: null, downloadedAt: null });
    expect(read.machines[0]?.commands[0]?.sha256).toBe(v3.machines[0]?.commands[0]?.sha256);
    expect(read.status).toBe(v3.status);
    expect(validateReport(read)).toEqual([]);
  });
});
