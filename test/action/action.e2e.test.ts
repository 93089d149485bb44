/**
 * The bundled action (dist/main.js, dist/post.js) run as processes the way the runner runs them, against
 * the MDE emulator over real HTTP/TLS and a local results service with Azurite blob storage.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DEMO_GITHUB_SUBJECT,
  type GeneratedCertificate,
  generateCertificate,
  machineIdFor,
} from "../../shared/emulator/index.js";
import type { RunReport } from "../../shared/report/types.js";
import { startIdTokenEndpoint } from "./harness/oidc.js";
import { findLeaks, type StepResult } from "./harness/runner.js";
import { secretInputs, secretShapes, startWorld, type World } from "./harness/world.js";
import { readZip } from "./harness/zip.js";

const WS1 = machineIdFor("ws1.contoso.local");
const WS2 = machineIdFor("ws2.contoso.local");
const OFFLINE = machineIdFor("ws3.contoso.local");
const BROKEN = machineIdFor("ws4.contoso.local");
const CERT_APP = {
  tenantId: "0b6c3d2e-4f5a-4b7c-8d9e-0f1a2b3c4d5e",
  clientId: "5e4d3c2b-1a0f-4e9d-8c7b-6a5f4e3d2c1b",
};
const EVIDENCE = "C:\\Windows\\Temp\\evidence.zip";

let world: World;
let cert: GeneratedCertificate;

beforeAll(async () => {
  const device = (name: string, offline = false) => ({
    computerDnsName: name,
    osPlatform: "Windows11",
    offline,
    scripts: {
      "collect.ps1": {
        exitCode: 0,
        stdout: `collected on ${name} <script>alert(1)</script>`,
        creates: { [EVIDENCE]: `EVIDENCE from ${name}` },
      },
    },
  });
  cert = generateCertificate();
  world = await startWorld({
    devices: [
      device("ws1.contoso.local"),
      device("ws2.contoso.local"),
      device("ws3.contoso.local", true),
      {
        computerDnsName: "ws4.contoso.local",
        osPlatform: "Windows11",
        scripts: { "collect.ps1": { exitCode: 1, fail: true, stderr: "Access to the path is denied" } },
      },
    ],
    apps: [
      {
        ...CERT_APP,
        certificatePem: cert.certPem,
        roles: ["Machine.Read.All", "Machine.ReadWrite.All", "Machine.LiveResponse", "Library.Manage"],
      },
    ],
    library: [
      { fileName: "collect.ps1", content: "Get-ChildItem C:\\ | Out-File C:\\Windows\\Temp\\evidence.zip" },
    ],
    defaultCommandDurationMs: 300,
    pickupDelayMs: 200,
  });
}, 60_000);

afterAll(async () => {
  await world?.close();
});

function runbookYaml(ids: string[]): string {
  return [
    "name: triage",
    "targets:",
    `  machineIds: [${ids.join(", ")}]`,
    "commands:",
    "  - runScript: collect.ps1",
    "    args: -Days 7",
    `  - getFile: '${EVIDENCE}'`,
    "options:",
    "  pollInterval: 1",
    "",
  ].join("\n");
}

function submissions(): { actionId: string; machineId: string }[] {
  return world.emu.records.flatMap((r) =>
    r.kind === "submit" ? [{ actionId: r.actionId, machineId: r.machineId }] : [],
  );
}

function errors(step: StepResult): string[] {
  return step.commands
    .filter((c) => c.command === "error")
    .map((c) => `${c.properties["title"] ?? ""}: ${c.message}`);
}

// Generous: each test spawns Node processes, and CI machines can be slow and busy.
describe("action end to end", { timeout: 120_000 }, () => {
  it("runs a runbook from the repository, sets outputs, writes the summary and uploads one artifact", async () => {
    const runner = world.runner();
    mkdirSync(path.join(runner.workspace, "runbooks"), { recursive: true });
    writeFileSync(path.join(runner.workspace, "runbooks", "triage.yml"), runbookYaml([WS1, WS2]));
    const main = await runner.run("main", {
      runbook: "runbooks/triage.yml",
      ...secretInputs(world.emu),
      "retention-days": "2",
    });
    expect(main.exitCode, main.log + main.stderr).toBe(0);

    expect(main.outputs["status"]).toBe("succeeded");
    expect(JSON.parse(main.outputs["summary"] ?? "{}")).toMatchObject({ succeeded: 2, failed: 0 });
    const actionIds = JSON.parse(main.outputs["action-ids"] ?? "{}") as Record<string, string[]>;
    expect(Object.keys(actionIds).sort()).toEqual([WS1, WS2].sort());
    const submitted = submissions().filter((s) => s.machineId === WS1 || s.machineId === WS2);
    for (const s of submitted) expect(actionIds[s.machineId]).toContain(s.actionId);

    const report = JSON.parse(readFileSync(main.outputs["report"] ?? "", "utf8")) as RunReport;
    expect(report.status).toBe("succeeded");

    // Summary: a row per device and step, device text escaped.
    expect(main.summary).toContain("ws1.contoso.local");
    expect(main.summary).toContain("collected on ws2.contoso.local");
    expect(main.summary).not.toContain("<script>");
    expect(main.summary).toContain(main.outputs["artifact-url"]);

    // Artifact: one per run, holding the output folder, device paths already safe.
    const name =
      world.results.artifacts.find((a) => String(a.id) === main.outputs["artifact-id"])?.name ?? "";
    expect(name).toMatch(/^mde-lr-triage-attempt1-[0-9a-f]{8}$/);
    expect(main.outputs["artifact-url"]).toBe(
      `http://github.localhost/contoso/ir-runbooks/actions/runs/4242/artifacts/${main.outputs["artifact-id"]}`,
    );
    const zip = readZip(await world.results.download(name));
    const names = [...zip.keys()];
    for (const f of ["report.json", "summary.md", "manifest.sha256", "report.html", "timeline.jsonl"]) {
      expect(names).toContain(f);
    }
    expect(names.every((n) => !/[":<>|*?\\]/.test(n))).toBe(true);
    for (const m of report.machines) {
      const getFile = m.commands.find((c) => c.type === "GetFile");
      expect(getFile?.file, JSON.stringify(m)).toBeTruthy();
      expect(zip.get(getFile?.file ?? "")?.toString()).toBe(`EVIDENCE from ${m.computerDnsName}`);
    }

    // No secret in clear: the runner log (after masking), summary, outputs, artifact.
    const places = {
      log: main.log,
      stderr: main.stderr,
      summary: main.summary,
      outputs: JSON.stringify(main.outputs),
      ...Object.fromEntries([...zip].map(([k, v]) => [`artifact:${k}`, v.toString("utf8")])),
    };
    expect(findLeaks([world.emu.demoApp.clientSecret], places)).toEqual([]);
    for (const [where, text] of Object.entries(places)) {
      expect(
        secretShapes(text),
        `${where}: ${text
          .split("\n")
          .filter((l) => secretShapes(l).length > 0)
          .join("\n")}`,
      ).toEqual([]);
    }
    expect(main.masks).toContain(world.emu.demoApp.clientSecret);
    // Every download link was masked before it could be printed.
    expect(main.masks.some((m) => /^https?:\/\/.*sig=/.test(m))).toBe(true);

    // The post step of a finished run has nothing to do.
    const post = await runner.run("post", { runbook: "runbooks/triage.yml", ...secretInputs(world.emu) });
    expect(post.exitCode).toBe(0);
    expect(post.log).toContain("nothing to clean up");
  });

  it("an artifact name clash names the artifact and the fix, and keeps the results on disk", async () => {
    const inputs = { runbook: runbookYaml([WS1]), ...secretInputs(world.emu), "artifact-name": "ir-results" };
    const first = await world.runner().run("main", inputs);
    expect(first.exitCode, first.log).toBe(0);
    const second = await world.runner().run("main", inputs);
    expect(second.exitCode).toBe(1);
    const message = errors(second).find((e) => e.startsWith("Results not uploaded")) ?? "";
    expect(message).toContain('An artifact named "ir-results" already exists');
    expect(message).toContain("Set a unique artifact-name");
    expect(second.outputs["status"]).toBe("succeeded");
    expect(second.outputs["artifact-id"]).toBe("");
    const report = JSON.parse(readFileSync(second.outputs["report"] ?? "", "utf8")) as RunReport;
    expect(report.counts.succeeded).toBe(1);
    expect(second.summary).toContain("kept on disk");
  });

  it("rejects bad inputs with errors naming them, before any call to MDE (exit 2)", async () => {
    const before = world.emu.records.length;
    const runner = world.runner();
    const main = await runner.run("main", {
      commands: "- runScript: collect.ps1",
      "machine-ids": "WS-01",
      "api-url": world.emu.url,
      "client-secret": "hunter2-very-secret",
      "retention-days": "400",
    });
    expect(main.exitCode).toBe(2);
    expect(errors(main).join("\n")).toMatch(/machine-ids: .*"WS-01"/);
    expect(errors(main).join("\n")).toContain("retention-days");
    expect(errors(main).join("\n")).toContain("tenant-id");
    expect(world.emu.records.slice(before).filter((r) => r.kind === "call")).toEqual([]);
    expect(findLeaks(["hunter2-very-secret"], { log: main.log })).toEqual([]);
    expect(runner.state).toEqual({});
  });

  it("signs in with GitHub OIDC (ID-token endpoint → msal-node → Entra) for a commands-only run", async () => {
    const idp = await startIdTokenEndpoint((audience) =>
      world.emu.issueGitHubIdToken({ subject: DEMO_GITHUB_SUBJECT, audience }),
    );
    try {
      const runner = world.runner({
        ACTIONS_ID_TOKEN_REQUEST_URL: idp.requestUrl,
        ACTIONS_ID_TOKEN_REQUEST_TOKEN: idp.requestToken,
      });
      const main = await runner.run("main", {
        commands: "- runScript: collect.ps1\n  args: -Quick\n",
        "machine-ids": WS1,
        "api-url": world.emu.url,
        "tenant-id": world.emu.demoApp.tenantId,
        "client-id": world.emu.demoApp.clientId,
        "upload-artifact": "false",
      });
      expect(main.exitCode, main.log).toBe(0);
      expect(main.outputs["status"]).toBe("succeeded");
      expect(idp.issued.length).toBeGreaterThan(0);
      expect(idp.issued.every((i) => i.audience === "api://AzureADTokenExchange")).toBe(true);
      expect(
        findLeaks(
          idp.issued.map((i) => i.token),
          { log: main.log, summary: main.summary },
        ),
      ).toEqual([]);
      expect(main.outputs["artifact-id"]).toBe("");
    } finally {
      await idp.close();
    }
  });

  it("a federated-credential mismatch fails with exit 3 and shows the token's claims, never the token", async () => {
    const idp = await startIdTokenEndpoint((audience) =>
      world.emu.issueGitHubIdToken({ subject: "repo:contoso/ir-runbooks:ref:refs/heads/main", audience }),
    );
    try {
      const runner = world.runner({
        ACTIONS_ID_TOKEN_REQUEST_URL: idp.requestUrl,
        ACTIONS_ID_TOKEN_REQUEST_TOKEN: idp.requestToken,
      });
      const main = await runner.run("main", {
        commands: "- runScript: collect.ps1",
        "machine-ids": WS1,
        "api-url": world.emu.url,
        "tenant-id": world.emu.demoApp.tenantId,
        "client-id": world.emu.demoApp.clientId,
        auth: "oidc",
      });
      expect(main.exitCode).toBe(3);
      const all = errors(main).join("\n");
      expect(all).toContain("AADSTS700213");
      expect(all).toContain('"sub":"repo:contoso/ir-runbooks:ref:refs/heads/main"');
      expect(
        findLeaks(
          idp.issued.map((i) => i.token),
          { log: main.log },
        ),
      ).toEqual([]);
    } finally {
      await idp.close();
    }
  });

  it("on SIGINT main stops within the runner's grace; post cancels this run's pending actions and uploads", async () => {
    const runner = world.runner();
    const inputs = { runbook: runbookYaml([WS1, OFFLINE]), ...secretInputs(world.emu) };
    const main = runner.start("main", inputs);
    // Wait until the online device is done and the offline one has a queued action.
    await main.waitForLog(new RegExp(`Device ${WS1}: succeeded`), 45_000);
    await main.waitForLog(new RegExp(`Submitted step \\d+ to ${OFFLINE}`), 10_000);
    const signalled = Date.now();
    main.child.kill("SIGINT");
    const stopped = await main.result;
    expect(Date.now() - signalled).toBeLessThan(7_500);
    expect(stopped.exitCode).not.toBe(0);
    expect(runner.state["phase"]).toBe("interrupted");

    const pending = submissions().filter((s) => s.machineId === OFFLINE);
    expect(pending.length).toBeGreaterThan(0);

    const post = await runner.run("post", inputs);
    const cancelled = world.emu.records.flatMap((r) => (r.kind === "cancel" ? [r.actionId] : []));
    for (const p of pending) expect(cancelled).toContain(p.actionId);
    // Only this run's actions: the online device's finished action was not touched.
    const ws1Actions = submissions()
      .filter((s) => s.machineId === WS1)
      .map((s) => s.actionId);
    expect(cancelled.filter((id) => ws1Actions.includes(id))).toEqual([]);

    expect(post.summary).toContain("cancelled");
    const artifact = world.results.artifacts.at(-1);
    expect(artifact?.finalized).toBe(true);
    const zip = readZip(await world.results.download(artifact?.name ?? ""));
    const report = JSON.parse(zip.get("report.json")?.toString() ?? "{}") as RunReport;
    expect(report.machines.find((m) => m.machineId === OFFLINE)?.status).toBe("cancelled");
    const ws1 = report.machines.find((m) => m.machineId === WS1);
    expect(ws1?.status).toBe("succeeded");
    const file = ws1?.commands.find((c) => c.type === "GetFile")?.file ?? "";
    expect(zip.get(file)?.toString()).toBe("EVIDENCE from ws1.contoso.local");
  });

  it("after main died mid-run (no chance to record anything), post still cancels from the journal", async () => {
    const runner = world.runner();
    const inputs = {
      runbook: runbookYaml([OFFLINE]),
      ...secretInputs(world.emu),
      "upload-artifact": "false",
    };
    const main = runner.start("main", inputs);
    await main.waitForLog(new RegExp(`Submitted step \\d+ to ${OFFLINE}`), 30_000);
    main.child.kill("SIGKILL");
    await main.result;
    expect(runner.state["phase"]).toBe("running");
    const before = new Set(world.emu.records.flatMap((r) => (r.kind === "cancel" ? [r.actionId] : [])));
    const post = await runner.run("post", inputs);
    const ids = submissions()
      .filter((s) => s.machineId === OFFLINE)
      .map((s) => s.actionId);
    const cancelledNow = world.emu.records.flatMap((r) =>
      r.kind === "cancel" && !before.has(r.actionId) ? [r.actionId] : [],
    );
    expect(cancelledNow.length).toBeGreaterThan(0);
    for (const id of cancelledNow) expect(ids).toContain(id);
    expect(post.summary).toContain("cancelled");
  });

  it("post does nothing when main stopped before the run was planned", async () => {
    const runner = world.runner();
    const empty = path.join(runner.dir, "never-started");
    mkdirSync(empty, { recursive: true });
    Object.assign(runner.state, { phase: "interrupted", outDir: empty });
    const calls = world.emu.records.filter((r) => r.kind === "call").length;
    const post = await runner.run("post", { runbook: runbookYaml([WS1]), ...secretInputs(world.emu) });
    expect(post.exitCode).toBe(0);
    expect(post.log).toContain("before anything was submitted");
    expect(world.emu.records.filter((r) => r.kind === "call").length).toBe(calls);
  });

  it("signs in with a certificate whose key never shows; a failed device fails the step per fail-on, grouped", async () => {
    const pem = `${cert.certPem}${cert.keyPem}`;
    const base = {
      runbook: runbookYaml([WS1, BROKEN]),
      "api-url": world.emu.url,
      "tenant-id": CERT_APP.tenantId,
      "client-id": CERT_APP.clientId,
      "client-certificate": pem,
      "upload-artifact": "false",
    };
    const strict = await world.runner().run("main", base);
    expect(strict.exitCode, strict.log).toBe(1);
    expect(strict.outputs["status"]).toBe("partial");
    const annotations = errors(strict);
    expect(annotations.filter((a) => a.includes("ws4.contoso.local"))).toHaveLength(1);
    expect(annotations.join("\n")).toContain("1 device(s) failed");
    expect(annotations.join("\n")).toContain("1 of 2 device(s) did not succeed");
    const keyLines = cert.keyPem.split("\n").filter((l) => l && !l.startsWith("-----"));
    expect(
      findLeaks(keyLines, {
        log: strict.log,
        summary: strict.summary,
        outputs: JSON.stringify(strict.outputs),
      }),
    ).toEqual([]);
    for (const line of keyLines) expect(strict.masks).toContain(line);

    const lenient = await world.runner().run("main", { ...base, "fail-on": "all" });
    expect(lenient.exitCode, lenient.log).toBe(0);
    expect(lenient.outputs["status"]).toBe("partial");
  });

  it("machine-ids with an id that does not exist fail the step (fail-on: any); the summary and annotations name it", async () => {
    const ghost = "0123456789abcdef0123456789abcdef01234567";
    const before = submissions().length;
    const main = await world.runner().run("main", {
      commands: "- getFile: 'C:\\Windows\\Temp\\none.txt'\n",
      "machine-ids": `${WS1}\n${ghost}`,
      ...secretInputs(world.emu),
      "upload-artifact": "false",
    });
    expect(main.exitCode, main.log).toBe(1);
    expect(main.outputs["status"]).not.toBe("succeeded");
    expect(JSON.parse(main.outputs["summary"] ?? "{}")).toMatchObject({ unresolved: 1 });
    expect(main.summary).toContain(ghost);
    expect(main.summary).toContain("unresolved");
    expect(errors(main).join("\n")).toContain("unresolved");
    expect(submissions().length - before).toBe(1);
  });

  it("a default never refuses what was given: 60 machine ids with `commands` (default device cap 50) plan fine", async () => {
    const ids = Array.from({ length: 60 }, (_, i) => `${i.toString(16).padStart(2, "0")}`.padEnd(40, "a"));
    const main = await world.runner().run("main", {
      commands: "- getFile: 'C:\\x.txt'\n",
      "machine-ids": ids.join(","),
      ...secretInputs(world.emu),
      "dry-run": "true",
    });
    expect(main.exitCode, main.log).toBe(0);
    expect(main.log).not.toMatch(/maxDevices/);
  });

  it("dry-run plans without submitting or uploading", async () => {
    const before = submissions().length;
    const runner = world.runner();
    const main = await runner.run("main", {
      runbook: runbookYaml([WS1, WS2]),
      ...secretInputs(world.emu),
      "dry-run": "true",
    });
    expect(main.exitCode, main.log).toBe(0);
    expect(main.outputs["status"]).toBe("planned");
    expect(main.summary).toContain("Nothing was submitted");
    expect(submissions().length).toBe(before);
  });
});
