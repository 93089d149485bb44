import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_GITHUB_SUBJECT, machineIdFor, startEmulator } from "../../shared/emulator/index.js";
import type { EmulatorHandle } from "../../shared/emulator/types.js";
import { issuesEvent } from "../action/harness/github-api.js";
import { GH_TOKEN, type GitHubWorld, startGitHubWorld } from "../action/harness/github-world.js";
import { startIdTokenEndpoint } from "../action/harness/oidc.js";
import { FakeRunner } from "../action/harness/runner.js";
import { readZip } from "../action/harness/zip.js";
import { applyRunnerMasking, SecretScanner } from "../chaos/harness/secrets.js";

import { device, filesUnder, scanAll } from "./helpers.js";

describe("GitHub Action (dist/main.js, dist/post.js) as the runner shows it", () => {
  let emu: EmulatorHandle;
  let dir: string;
  const ids = ["ws1.contoso.local", "ws2.contoso.local"].map(machineIdFor);

  beforeAll(async () => {
    emu = await startEmulator({
      seed: 6,
      devices: [device("ws1.contoso.local"), device("ws2.contoso.local")],
      library: [{ fileName: "collect.ps1", content: "Get-Process" }],
      defaultCommandDurationMs: 300,
      pickupDelayMs: 100,
      // Tokens die every few seconds and links soon after they are handed out: many of both are minted.
      faults: { seed: 6, tokenLifetimeMs: 4_000, serverErrorRate: 0.04, truncatedBodyRate: 0.1 },
      limits: { linkValidityMs: 20_000 },
    });
    dir = mkdtempSync(path.join(os.tmpdir(), "mde-lr-secrets-action-"));
    writeFileSync(path.join(dir, "ca.pem"), emu.caPem);
  });
  afterAll(async () => {
    await emu?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function stepBytes(runnerDir: string, result: Awaited<ReturnType<FakeRunner["run"]>>, masks: string[]) {
    // The runner masks stderr with the same registered values; the log is already masked line by line.
    const places: Record<string, string | Uint8Array> = {
      log: applyRunnerMasking(result.stdout),
      stderr: applyRunnerMasking(result.stderr, masks),
      summary: result.summary,
      outputs: JSON.stringify(result.outputs),
    };
    for (const f of filesUnder(runnerDir)) {
      // GITHUB_STATE files are kept by the runner; GITHUB_OUTPUT values become step outputs.
      places[path.relative(runnerDir, f)] = readFileSync(f);
    }
    return places;
  }

  const inputs = () => ({
    commands: "- runScript: collect.ps1\n- getFile: 'C:\\Temp\\e.zip'\n",
    "machine-ids": ids.join("\n"),
    "api-url": emu.url,
    "tenant-id": emu.demoApp.tenantId,
    "client-id": emu.demoApp.clientId,
    "upload-artifact": "false",
  });

  it("client-secret sign-in: main + post leave no secret in the log, outputs, summary, state or artifact folder", async () => {
    const runnerDir = path.join(dir, "secret");
    const runner = new FakeRunner({
      dir: runnerDir,
      env: { NODE_EXTRA_CA_CERTS: path.join(dir, "ca.pem"), MDE_AUTHORITY_HOST: emu.authorityHost },
    });
    const main = await runner.run("main", { ...inputs(), "client-secret": emu.demoApp.clientSecret });
    expect(main.exitCode, main.log).toBe(0);
    const post = await runner.run("post", { ...inputs(), "client-secret": emu.demoApp.clientSecret });
    const scanner = new SecretScanner({ "client secret": emu.demoApp.clientSecret });
    const findings = [
      ...scanAll(scanner, stepBytes(runnerDir, main, main.masks)),
      ...scanAll(scanner, { postLog: applyRunnerMasking(post.stdout), postStderr: post.stderr }),
    ];
    // Raw stdout may carry secrets only on the ::add-mask:: lines that register them.
    const rawOutsideMasks = main.stdout
      .split("\n")
      .filter((l) => !l.startsWith("::add-mask::"))
      .join("\n");
    findings.push(
      ...scanner.scan("raw stdout outside ::add-mask::", applyRunnerMasking(rawOutsideMasks, main.masks)),
    );
    expect(findings).toEqual([]);
    expect(main.outputs.report).toBeTruthy();
    expect(existsSync(String(main.outputs.report))).toBe(true);
    // report.html sits beside report.json inside the runner folder, so the scan above read it.
    const page = path.join(path.dirname(String(main.outputs.report)), "report.html");
    expect(existsSync(page)).toBe(true);
    expect(path.relative(runnerDir, page).startsWith("..")).toBe(false);
    expect(JSON.parse(String(main.outputs["action-ids"]))).toBeTypeOf("object");
  });

  it("GitHub OIDC sign-in: the ID tokens (client assertions) and access tokens never show", async () => {
    const idp = await startIdTokenEndpoint((audience) =>
      emu.issueGitHubIdToken({ subject: DEMO_GITHUB_SUBJECT, audience }),
    );
    try {
      const runnerDir = path.join(dir, "oidc");
      const runner = new FakeRunner({
        dir: runnerDir,
        env: {
          NODE_EXTRA_CA_CERTS: path.join(dir, "ca.pem"),
          MDE_AUTHORITY_HOST: emu.authorityHost,
          ACTIONS_ID_TOKEN_REQUEST_URL: idp.requestUrl,
          ACTIONS_ID_TOKEN_REQUEST_TOKEN: idp.requestToken,
        },
      });
      const main = await runner.run("main", inputs());
      expect(main.exitCode, main.log).toBe(0);
      expect(idp.issued.length).toBeGreaterThan(0);
      const scanner = new SecretScanner({ "runner request token": idp.requestToken });
      for (const [i, t] of idp.issued.entries()) scanner.addKnown(`GitHub ID token #${i}`, t.token);
      expect(scanAll(scanner, stepBytes(runnerDir, main, main.masks))).toEqual([]);
    } finally {
      await idp.close();
    }
  });
});

describe("GitHub side: incident comments, replies and resumed artifacts carry no secret", () => {
  let world: GitHubWorld;
  const ws1 = machineIdFor("ws1.contoso.local");
  const late = machineIdFor("late.contoso.local");

  beforeAll(async () => {
    world = await startGitHubWorld(
      {
        seed: 7,
        devices: [device("ws1.contoso.local"), device("late.contoso.local", { offline: true })],
        library: [{ fileName: "collect.ps1", content: "Get-Process" }],
        defaultCommandDurationMs: 200,
        pickupDelayMs: 100,
        // Tokens die every few seconds and links soon after they are handed out: many of both are minted.
        faults: { seed: 7, tokenLifetimeMs: 4_000 },
        limits: { linkValidityMs: 20_000 },
      },
      { issues: [7], roles: { responder: "maintain" } },
    );
  }, 60_000);
  afterAll(async () => {
    await world?.close();
  });

  it("detach, resume in another workflow run: comments, GitHub requests, logs and both artifacts are clean", async () => {
    world.emu.configure({
      devices: [device("late.contoso.local", { offline: true, onlineAt: world.emu.clock.now() + 4_000 })],
    });
    const creds = {
      "api-url": world.emu.url,
      "tenant-id": world.emu.demoApp.tenantId,
      "client-id": world.emu.demoApp.clientId,
      "client-secret": world.emu.demoApp.clientSecret,
      "github-token": GH_TOKEN,
    };
    const runbook = `name: triage\ntargets:\n  machineIds: [${ws1}, ${late}]\ncommands:\n  - runScript: collect.ps1\n  - getFile: 'C:\\Temp\\e.zip'\noptions:\n  pollInterval: 1\n`;
    const firstRunner = world.ghRunner({ event: { name: "issues", payload: issuesEvent(7) } });
    const first = await firstRunner.run("main", {
      ...creds,
      runbook,
      "detach-after": "2s",
      "issue-labels": "true",
    });
    expect(first.exitCode, first.log).toBe(0);
    expect(first.outputs["status"]).toBe("pending");
    const runId = first.outputs["run-id"] ?? "";
    const secondRunner = world.ghRunner({ runId: "6001" });
    const second = await secondRunner.run("main", { ...creds, "resume-from": runId });
    expect(second.exitCode, second.log).toBe(0);
    expect(second.outputs["status"]).toBe("succeeded");

    const scanner = new SecretScanner({
      "client secret": world.emu.demoApp.clientSecret,
      "GitHub token": GH_TOKEN,
    });
    for (const a of world.results.artifacts)
      for (const [i, sig] of a.sigs.entries()) scanner.addKnown(`SAS sig ${a.id}/${i}`, sig);
    const places: Record<string, string | Uint8Array> = {};
    for (const [name, step, dir] of [
      ["first", first, firstRunner.dir],
      ["resume", second, secondRunner.dir],
    ] as const) {
      // The log as the runner shows it: workflow commands unescaped first (the artifact client debug-logs
      // its signed upload URL with `%` escaped as `%25`), then masked; masks apply to later lines only.
      places[`${name} log`] = step.log;
      places[`${name} stderr`] = applyRunnerMasking(step.stderr, step.masks);
      places[`${name} summary`] = step.summary;
      places[`${name} outputs`] = JSON.stringify(step.outputs);
      for (const f of filesUnder(dir)) places[`${name}:${path.relative(dir, f)}`] = readFileSync(f);
    }
    // Every comment body GitHub was sent (creates and edits), and every request body and query.
    const bodies = world.gh.allBodies();
    expect(bodies.length).toBeGreaterThanOrEqual(3);
    for (const [i, b] of bodies.entries()) places[`comment body #${i}`] = b;
    for (const [i, r] of world.gh.requests.entries()) {
      places[`GitHub request #${i} ${r.method} ${r.path}`] = JSON.stringify({ body: r.body, query: r.query });
    }
    // Both artifacts: the pending run folder and the resumed one.
    const names = world.results.artifacts.filter((a) => a.name.includes(runId)).map((a) => a.name);
    expect(names.some((n) => n.endsWith(".pending"))).toBe(true);
    expect(names.some((n) => n.endsWith(".succeeded"))).toBe(true);
    for (const name of names) {
      for (const [entry, bytes] of readZip(await world.results.download(name)))
        places[`artifact ${name}:${entry}`] = bytes;
    }
    expect(scanAll(scanner, places)).toEqual([]);
    // The chain of custody is in what was scanned: rendered in the comment, and in both artifacts'
    // report.json (the resumed one with both workflow runs' sessions).
    expect(bodies.some((b) => b.includes("<td>MDE requestor</td>") && b.includes("actions/runs/6001"))).toBe(
      true,
    );
    const resumedName = names.find((n) => n.endsWith(".succeeded")) ?? "";
    const resumedReport = Object.entries(places).find(
      ([k]) => k === `artifact ${resumedName}:report.json`,
    )?.[1];
    const custody = JSON.parse(Buffer.from(resumedReport ?? "").toString("utf8")).custody;
    expect(custody.sessions.map((x: { initiator: { runId?: string } }) => x.initiator.runId)).toEqual([
      "4242",
      "6001",
    ]);
    // The scan would see a token leaked into the custody block (a known one, or any JWT-shaped one).
    const leaked = (value: string) =>
      JSON.stringify({
        custody: { ...custody, sessions: [{ ...custody.sessions[0], initiator: { user: value } }] },
      });
    expect(scanner.scan("custody probe", leaked(GH_TOKEN))).not.toEqual([]);
    expect(scanner.scan("custody probe", leaked(world.emu.issueToken()))).not.toEqual([]);
    expect(scanner.scan("custody as written", JSON.stringify({ custody }))).toEqual([]);
    // The scan would see a token or a signed link in a comment body.
    expect(scanner.scan("probe", `<p>${GH_TOKEN}</p>`)).not.toEqual([]);
    expect(
      scanner.scan("probe", "<a href='https://x.blob.core.windows.net/c/b?sv=1&sig=AbCdEf0123456789%3D'>"),
    ).not.toEqual([]);
  });
});
