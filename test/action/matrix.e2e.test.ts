/**
 * Many tenants: one runbook, an Actions matrix with one leg per tenant. Two legs of the bundled action
 * run at once as processes, each signing in with its own OIDC federated credential to its own tenant
 * (emulator), with default artifact names: both succeed and their artifacts do not clash.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_GITHUB_SUBJECT, machineIdFor, startEmulator } from "../../shared/emulator/index.js";
import type { EmulatorHandle } from "../../shared/emulator/types.js";
import type { RunReport } from "../../shared/report/types.js";
import { type FakeIdTokenEndpoint, startIdTokenEndpoint } from "./harness/oidc.js";
import { FakeRunner } from "./harness/runner.js";
import { startWorld, type World } from "./harness/world.js";
import { readZip } from "./harness/zip.js";

// The same device names in both tenants: an MSSP's standard fleet, so the same machine ids too.
const WS1 = machineIdFor("ws1.contoso.local");
let world: World;
let second: EmulatorHandle;
const idps: FakeIdTokenEndpoint[] = [];

const devices = (tenant: string) => [
  {
    computerDnsName: "ws1.contoso.local",
    osPlatform: "Windows11",
    scripts: {
      "collect.ps1": {
        exitCode: 0,
        stdout: `ok in ${tenant}`,
        creates: { "C:\\Temp\\e.zip": `E ${tenant}` },
      },
    },
  },
];

beforeAll(async () => {
  const options = {
    library: [{ fileName: "collect.ps1", content: "Get-Process" }],
    defaultCommandDurationMs: 300,
    pickupDelayMs: 100,
  };
  world = await startWorld({ ...options, devices: devices("tenant-a") });
  second = await startEmulator({ ...options, devices: devices("tenant-b") });
}, 60_000);

afterAll(async () => {
  await Promise.allSettled([world?.close(), second?.close(), ...idps.map((i) => i.close())]);
});

async function leg(emu: EmulatorHandle, name: string) {
  const idp = await startIdTokenEndpoint((audience) =>
    emu.issueGitHubIdToken({ subject: DEMO_GITHUB_SUBJECT, audience }),
  );
  idps.push(idp);
  const dir = path.join(world.dir, name);
  mkdirSync(dir, { recursive: true });
  const ca = path.join(dir, "ca.pem");
  writeFileSync(ca, emu.caPem);
  const runner = new FakeRunner({
    dir,
    env: {
      ...world.env,
      NODE_EXTRA_CA_CERTS: ca,
      MDE_AUTHORITY_HOST: emu.authorityHost,
      ACTIONS_ID_TOKEN_REQUEST_URL: idp.requestUrl,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: idp.requestToken,
    },
  });
  mkdirSync(path.join(runner.workspace, "runbooks"), { recursive: true });
  writeFileSync(
    path.join(runner.workspace, "runbooks", "triage.yml"),
    `name: triage\ntargets:\n  machineIds: [${WS1}]\ncommands:\n  - runScript: collect.ps1\n  - getFile: 'C:\\Temp\\e.zip'\noptions:\n  pollInterval: 1\n`,
  );
  return {
    runner,
    idp,
    inputs: {
      runbook: "runbooks/triage.yml",
      "api-url": emu.url,
      "tenant-id": emu.demoApp.tenantId,
      "client-id": emu.demoApp.clientId,
      auth: "oidc",
    },
  };
}

describe("one runbook across tenants (matrix)", { timeout: 120_000 }, () => {
  it("two legs at once, OIDC per leg, distinct artifacts, both succeed", async () => {
    const a = await leg(world.emu, "leg-a");
    const b = await leg(second, "leg-b");
    const [ra, rb] = await Promise.all([a.runner.run("main", a.inputs), b.runner.run("main", b.inputs)]);
    expect(ra.exitCode, ra.log + ra.stderr).toBe(0);
    expect(rb.exitCode, rb.log + rb.stderr).toBe(0);
    expect(a.idp.issued.length).toBeGreaterThan(0);
    expect(b.idp.issued.length).toBeGreaterThan(0);
    // Each leg's actions went to its own tenant only.
    expect(world.emu.records.some((r) => r.kind === "submit")).toBe(true);
    expect(second.records.some((r) => r.kind === "submit")).toBe(true);

    const ids = [ra.outputs["artifact-id"], rb.outputs["artifact-id"]];
    expect(ids.every(Boolean)).toBe(true);
    expect(new Set(ids).size).toBe(2);
    const names = ids.map((id) => world.results.artifacts.find((x) => String(x.id) === id)?.name ?? "");
    expect(new Set(names).size).toBe(2);
    for (const [name, tenant] of names.map((n, i) => [n, i === 0 ? "tenant-a" : "tenant-b"] as const)) {
      const zip = readZip(await world.results.download(name));
      const report = JSON.parse(zip.get("report.json")?.toString() ?? "{}") as RunReport;
      const file = report.machines[0]?.commands.find((c) => c.type === "GetFile")?.file ?? "";
      expect(zip.get(file)?.toString()).toBe(`E ${tenant}`);
    }
  });
});
