import { existsSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { machineIdFor, startEmulator } from "../../shared/emulator/index.js";
import type { EmulatorHandle } from "../../shared/emulator/types.js";
import { SecretScanner } from "../chaos/harness/secrets.js";
import { type Props, ProviderHost } from "../provider/host.js";
import { assertBuilt, makeProgramDir, runProgram } from "../provider/program.js";

import { device, filesUnder, scanAll } from "./helpers.js";

describe("Pulumi provider: host output, returned properties (state) and output folder", () => {
  let emu: EmulatorHandle;
  let host: ProviderHost;
  let dir: string;
  let provider: string;
  const TYPE = "pulumi-nodejs:dynamic/mde:LiveResponseCollection";
  const ids = ["ws1.contoso.local", "ws2.contoso.local"].map(machineIdFor);

  beforeAll(async () => {
    assertBuilt();
    emu = await startEmulator({
      seed: 9,
      devices: [device("ws1.contoso.local"), device("ws2.contoso.local", { offline: true })],
      library: [{ fileName: "collect.ps1", content: "Get-Process" }],
      defaultCommandDurationMs: 300,
      pickupDelayMs: 100,
      faults: { seed: 9, tokenLifetimeMs: 4_000, serverErrorRate: 0.04, truncatedBodyRate: 0.1 },
      limits: { linkValidityMs: 20_000 },
    });
    dir = makeProgramDir();
    const [reg] = runProgram(dir, [
      {
        kind: "LiveResponseCollection",
        name: "p",
        args: { machineIds: [ids[0]], commands: [{ getFile: "C:\\a" }] },
      },
    ]);
    provider = String(reg?.inputs.__provider);
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("MDE_")));
    host = await ProviderHost.start(dir, { env });
  }, 60_000);
  afterAll(async () => {
    await host?.stop();
    await emu?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("a collection (one device done, one still queued), its refresh and delete emit no secret", async () => {
    await host.configure(
      {
        "mde:apiUrl": emu.url,
        "mde:authorityHost": emu.authorityHost,
        "mde:tenantId": emu.demoApp.tenantId,
        "mde:clientId": emu.demoApp.clientId,
        "mde:clientSecret": emu.demoApp.clientSecret,
        "mde:caPem": emu.caPem,
      },
      ["mde:clientSecret"],
    );
    const urn = host.urn(TYPE, "secrets");
    const news: Props = {
      machineIds: ids,
      commands: [{ runScript: "collect.ps1" }, { getFile: "C:\\Temp\\e.zip" }],
      comment: "INC-7",
      pollInterval: 1,
      timeout: "8s",
      __provider: provider,
    };
    const { inputs } = await host.check(urn, {}, news);
    const answers: unknown[] = [];
    let runId = "";
    let props: Props = {};
    try {
      const created = await host.create(urn, inputs);
      runId = created.id;
      props = created.properties;
    } catch (error) {
      // A device that did not succeed is a partial-state error carrying everything collected.
      const failure = (error as { initFailure?: { id: string; properties: Props; message: string } })
        .initFailure;
      expect(failure, String(error)).toBeDefined();
      answers.push(failure?.message);
      runId = failure?.id ?? "";
      props = failure?.properties ?? {};
    }
    answers.push(props);
    const read = await host.read(urn, runId, props, inputs);
    answers.push(read.properties);
    await host.delete(urn, runId, read.properties);

    const scanner = new SecretScanner({ "client secret": emu.demoApp.clientSecret });
    const places: Record<string, string | Uint8Array> = {
      hostOutput: host.output,
      properties: JSON.stringify(answers),
    };
    const outDir = path.join(dir, String(props.outputDir ?? ""));
    // The scan below reads every file of the folder, report.html and timeline.jsonl included.
    for (const f of ["report.json", "report.html", "timeline.jsonl"])
      expect(existsSync(path.join(outDir, f)), f).toBe(true);
    for (const f of filesUnder(outDir)) places[path.relative(dir, f)] = readFileSync(f);
    expect(scanAll(scanner, places)).toEqual([]);
  });

  it("a wrong secret in stack config fails without echoing it", async () => {
    const wrong = `${emu.demoApp.clientSecret.slice(0, -6)}WRONG2`;
    // A provider is configured once per host process (as the engine does): a fresh host for new config.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("MDE_")));
    const other = await ProviderHost.start(dir, { env });
    try {
      await checkWrongSecret(other, wrong);
    } finally {
      await other.stop();
    }
  });

  async function checkWrongSecret(host: ProviderHost, wrong: string): Promise<void> {
    await host.configure(
      {
        "mde:apiUrl": emu.url,
        "mde:authorityHost": emu.authorityHost,
        "mde:tenantId": emu.demoApp.tenantId,
        "mde:clientId": emu.demoApp.clientId,
        "mde:clientSecret": wrong,
        "mde:caPem": emu.caPem,
      },
      ["mde:clientSecret"],
    );
    const urn = host.urn(TYPE, "wrong");
    const { inputs } = await host.check(
      urn,
      {},
      {
        machineIds: [ids[0]],
        commands: [{ runScript: "collect.ps1" }],
        __provider: provider,
      },
    );
    const error = await host.create(urn, inputs).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(Error);
    const scanner = new SecretScanner({ "wrong secret": wrong, "client secret": emu.demoApp.clientSecret });
    expect(scanAll(scanner, { error: String(error), hostOutput: host.output })).toEqual([]);
  }
});
