/**
 * Collect later, across workflow runs: a run detaches with devices still queued and uploads its folder
 * as `<name>.<run id>.pending`; find-pending lists it; a later workflow run (another process, another
 * artifact scope) downloads that artifact through the fake GitHub API, resumes without submitting
 * anything twice, collects the late device, cancels the one that timed out, uploads a new artifact and
 * edits the same incident comment. The chain of custody keeps the first workflow run and adds each
 * process that resumed it: another workflow run, or the CLI on a responder's laptop.
 */
import { writeFileSync } from "node:fs";
import { hostname, userInfo } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMdeClient } from "../../shared/api/client.js";
import { machineIdFor } from "../../shared/emulator/index.js";
import type { RunReport } from "../../shared/report/types.js";
import { ensureBuilt, runCli } from "../cli/helpers.js";
import { issuesEvent } from "./harness/github-api.js";
import { GH_TOKEN, type GitHubWorld, startGitHubWorld } from "./harness/github-world.js";
import { secretInputs } from "./harness/world.js";
import { readZip } from "./harness/zip.js";

const WS1 = machineIdFor("ws1.contoso.local");
const LATE = machineIdFor("late.contoso.local");
const NEVER = machineIdFor("never.contoso.local");
const LAPTOP = machineIdFor("laptop-case.contoso.local");
let world: GitHubWorld;

const device = (name: string, extra: Record<string, unknown> = {}) => ({
  computerDnsName: name,
  osPlatform: "Windows11",
  scripts: {
    "collect.ps1": { exitCode: 0, stdout: `ok on ${name}`, creates: { "C:\\Temp\\e.zip": `E ${name}` } },
  },
  ...extra,
});

beforeAll(async () => {
  world = await startGitHubWorld(
    {
      devices: [
        device("ws1.contoso.local"),
        device("late.contoso.local", { offline: true }),
        device("never.contoso.local", { offline: true }),
        device("laptop-case.contoso.local", { offline: true }),
      ],
      library: [{ fileName: "collect.ps1", content: "Get-Process" }],
      defaultCommandDurationMs: 200,
      pickupDelayMs: 100,
    },
    { issues: [7] },
  );
}, 60_000);

afterAll(async () => {
  await world?.close();
});

const RUNBOOK = [
  "name: triage",
  "targets:",
  `  machineIds: [${WS1}, ${LATE}, ${NEVER}]`,
  "commands:",
  "  - runScript: collect.ps1",
  "  - getFile: 'C:\\Temp\\e.zip'",
  "options:",
  "  pollInterval: 1",
  "  timeout: 12s",
  "",
].join("\n");

const submitsFor = (id: string) =>
  world.emu.records.filter((r) => r.kind === "submit" && r.machineId === id).length;

describe("collect later, across workflow runs", { timeout: 120_000 }, () => {
  it("detaches as pending, is found, resumed in another process without re-submitting, and finishes", async () => {
    // The late device comes online a few seconds after the first run has left.
    world.emu.configure({
      devices: [device("late.contoso.local", { offline: true, onlineAt: world.emu.clock.now() + 6_000 })],
    });
    const first = world.ghRunner({ event: { name: "issues", payload: issuesEvent(7) } });
    const main = await first.run("main", {
      runbook: RUNBOOK,
      ...secretInputs(world.emu),
      "github-token": GH_TOKEN,
      "detach-after": "3s",
    });
    expect(main.exitCode, main.log + main.stderr).toBe(0);
    expect(main.outputs["status"]).toBe("pending");
    const runId = main.outputs["run-id"] ?? "";
    const pendingArtifact = world.results.artifacts.find((a) => a.name.endsWith(`.${runId}.pending`));
    expect(pendingArtifact?.finalized).toBe(true);
    expect(main.log).toContain(`resume-from: ${runId}`);
    const comment = world.gh.comments.find((c) => c.body.includes(`mde-lr:run=${runId}`));
    expect(comment?.body).toContain("⏳ pending");
    expect(comment?.body).toContain(`resume-from: ${runId}`);
    const sentBefore = { ws1: submitsFor(WS1), late: submitsFor(LATE), never: submitsFor(NEVER) };
    expect(sentBefore.late).toBeGreaterThan(0);
    expect(sentBefore.never).toBeGreaterThan(0);

    // The scheduled harvest: list pending runs (GitHub only, no Defender credentials)…
    const find = await world
      .ghRunner({ event: { name: "schedule", payload: { schedule: "*/30 * * * *" } }, runId: "5000" })
      .run("main", {
        "find-pending": "true",
        "github-token": GH_TOKEN,
      });
    expect(find.exitCode, find.log).toBe(0);
    expect(JSON.parse(find.outputs["pending-runs"] ?? "[]")).toEqual([runId]);

    // …and resume each in another workflow run.
    const harvest = world.ghRunner({
      event: { name: "schedule", payload: { schedule: "*/30 * * * *" } },
      runId: "5001",
    });
    const resumed = await harvest.run("main", {
      "resume-from": runId,
      ...secretInputs(world.emu),
      "github-token": GH_TOKEN,
    });
    expect(resumed.exitCode, resumed.log + resumed.stderr).toBe(1); // one device timed out (fail-on: any)
    expect(resumed.outputs["run-id"], resumed.log).toBe(runId);
    expect(resumed.outputs["status"]).toBe("partial");
    // Nothing was submitted twice.
    expect({ ws1: submitsFor(WS1), late: submitsFor(LATE), never: submitsFor(NEVER) }).toEqual(sentBefore);
    // What timed out was cancelled.
    const neverActions = world.emu.records.flatMap((r) =>
      r.kind === "submit" && r.machineId === NEVER ? [r.actionId] : [],
    );
    const cancelled = world.emu.records.flatMap((r) => (r.kind === "cancel" ? [r.actionId] : []));
    for (const id of neverActions) expect(cancelled).toContain(id);

    // A new artifact in the harvest's workflow run holds the whole folder.
    const next = world.results.artifacts.find((a) => a.name.endsWith(`.${runId}.partial`));
    expect(next?.runBackendId).toBe("run-5001");
    const zip = readZip(await world.results.download(next?.name ?? ""));
    const report = JSON.parse(zip.get("report.json")?.toString() ?? "{}") as RunReport;
    const status = Object.fromEntries(report.machines.map((m) => [m.machineId, m.status]));
    expect(status).toEqual({ [WS1]: "succeeded", [LATE]: "succeeded", [NEVER]: "timedOut" });
    const files = [...zip.keys()];
    for (const name of ["ws1", "late"]) {
      const m = report.machines.find((x) => x.computerDnsName === `${name}.contoso.local`);
      const f = m?.commands.find((c) => c.type === "GetFile")?.file ?? "";
      expect(files).toContain(f);
      expect(zip.get(f)?.toString()).toBe(`E ${name}.contoso.local`);
    }

    // The same incident comment, edited: final table and both workflow runs in the custody.
    const edited = world.gh.comments.filter((c) => c.body.includes(`mde-lr:run=${runId}`));
    expect(edited).toHaveLength(1);
    const body = edited[0]?.body ?? "";
    expect(body).toContain("⚠️ partial");
    expect(body).toContain("⏱️ timedOut");
    expect(body).toContain("actions/runs/4242/attempts/1");
    expect(body).toContain("actions/runs/5001/attempts/1");
    expect(body).toMatch(
      /Resumed [^<]*<\/td><td><code>responder, workflow Incident response, on schedule<\/code>/,
    );

    // Custody in report.json: the first workflow run, then the harvest that resumed it.
    const sessions = report.custody?.sessions ?? [];
    expect(sessions.map((x) => [x.role, x.initiator.kind, x.initiator.runId, x.initiator.eventName])).toEqual(
      [
        ["start", "github-action", "4242", "issues"],
        ["resume", "github-action", "5001", "schedule"],
      ],
    );
    expect(sessions[1]?.initiator.runUrl).toBe(
      "http://github.localhost/contoso/ir-runbooks/actions/runs/5001/attempts/1",
    );
    expect(report.custody?.requestors).toEqual([world.emu.demoApp.clientId]);
    expect(report.custody?.runbook).toMatchObject({
      name: "triage",
      hashOf: "text",
      label: "inline `runbook` input",
    });
    // The device that timed out was cancelled by the harvest: its cancellation points at the harvest run.
    const api = createMdeClient({
      apiUrl: world.emu.url,
      accessToken: world.emu.issueToken(),
      caPem: world.emu.caPem,
      env: {},
    });
    try {
      for (const id of neverActions) {
        const a = await api.getMachineAction(id);
        expect(a.requestorComment).toContain("actions/runs/4242/attempts/1 [mde-lr:");
        expect(a.cancellationComment).toMatch(
          /^mde-lr: per-device timeout \| GitHub Actions by responder: http:\/\/github\.localhost\/contoso\/ir-runbooks\/actions\/runs\/5001\/attempts\/1 \[mde-lr:/,
        );
      }
    } finally {
      await api.close();
    }

    // The run is finished: nothing left to harvest, and asking again says so.
    const after = await world
      .ghRunner({ runId: "5002" })
      .run("main", { "find-pending": "true", "github-token": GH_TOKEN });
    expect(JSON.parse(after.outputs["pending-runs"] ?? "")).toEqual([]);
    const again = await world.ghRunner({ runId: "5003" }).run("main", {
      "resume-from": "4242",
      ...secretInputs(world.emu),
      "github-token": GH_TOKEN,
    });
    expect(again.exitCode, again.log).toBe(0);
    expect(again.outputs["status"]).toBe("partial");
    expect(again.log).toContain("already partial");
    const none = await world.ghRunner({ runId: "5004" }).run("main", {
      "resume-from": "latest",
      ...secretInputs(world.emu),
      "github-token": GH_TOKEN,
    });
    expect(none.exitCode).toBe(2);
    expect(none.log).toContain("no pending run in this repository in the last 3 days");
    expect({ ws1: submitsFor(WS1), late: submitsFor(LATE), never: submitsFor(NEVER) }).toEqual(sentBefore);
  });
});

describe("an action-started run resumed by the CLI on a laptop", { timeout: 120_000 }, () => {
  it("keeps the workflow run as the start and adds the laptop's user, host and app (token claims)", async () => {
    ensureBuilt();
    const runner = world.ghRunner({ runId: "7001" });
    const main = await runner.run("main", {
      runbook: RUNBOOK.replace(`[${WS1}, ${LATE}, ${NEVER}]`, `[${LAPTOP}]`).replace(
        "timeout: 12s",
        "timeout: 1h",
      ),
      ...secretInputs(world.emu),
      "detach-after": "2s",
      "upload-artifact": "false",
    });
    expect(main.exitCode, main.log + main.stderr).toBe(0);
    expect(main.outputs["status"]).toBe("pending");
    const outDir = path.dirname(main.outputs["report"] ?? "");
    world.emu.configure({ devices: [device("laptop-case.contoso.local", { offline: false })] });

    // The laptop: the folder (e.g. the downloaded artifact), a bare access token, the emulator's CA.
    const ca = path.join(world.dir, "laptop-ca.pem");
    writeFileSync(ca, world.emu.caPem);
    const token = world.emu.issueToken({ lifetimeMs: 3_600_000 });
    const cli = await runCli(["resume", outDir, "--json"], {
      env: { MDE_API_URL: world.emu.url, MDE_ACCESS_TOKEN: token, MDE_CA_FILE: ca },
    });
    expect(cli.code, cli.stderr).toBe(0);
    const report = JSON.parse(cli.stdout).report as RunReport;
    expect(report.status).toBe("succeeded");
    const [start, resume] = report.custody?.sessions ?? [];
    expect(start?.initiator).toMatchObject({ kind: "github-action", runId: "7001", user: "responder" });
    expect(start?.app).toEqual({
      clientId: world.emu.demoApp.clientId,
      tenantId: world.emu.demoApp.tenantId,
      source: "connection",
    });
    expect(resume).toMatchObject({
      role: "resume",
      initiator: { kind: "cli", user: userInfo().username, host: hostname() },
      app: {
        clientId: world.emu.demoApp.clientId.toLowerCase(),
        tenantId: world.emu.demoApp.tenantId.toLowerCase(),
        source: "token-claims",
      },
    });
    expect(report.custody?.sessions).toHaveLength(2);
    // The laptop's token is nowhere in what it wrote.
    expect(cli.stdout).not.toContain(token);
    expect(JSON.stringify(report)).not.toContain(token.split(".")[1]);
  });
});
