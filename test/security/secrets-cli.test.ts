import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { machineIdFor, startEmulator } from "../../shared/emulator/index.js";
import { buildFrontEnds, type FrontEndBundles } from "../chaos/harness/build-worker.js";
import { runScenario } from "../chaos/harness/driver.js";
import { generateScenario } from "../chaos/harness/scenario.js";
import { SecretScanner } from "../chaos/harness/secrets.js";

import { device, filesUnder, runProcess, scanAll } from "./helpers.js";

describe("mde-lr CLI: stdout, stderr and output folder across chaos runs", () => {
  let bundles: FrontEndBundles;
  const tmpRoot = path.join(os.tmpdir(), `mde-lr-secrets-${process.pid}`);
  beforeAll(async () => {
    bundles = await buildFrontEnds();
  });
  afterAll(() => {
    rmSync(tmpRoot, { recursive: true, force: true });
  });

  it("no secret in any byte of killed, resumed and finished runs (human and --json output, core events)", async () => {
    // Seeds with kills; every run gets short-lived tokens and links so many of each are minted.
    const runs = [
      { seed: 13, frontEnd: "cli" as const, jsonOutput: false },
      { seed: 22, frontEnd: "cli" as const, jsonOutput: true },
      { seed: 36, frontEnd: "core" as const, jsonOutput: true },
    ];
    const outcomes = await Promise.all(
      runs.map(({ seed, frontEnd, jsonOutput }) => {
        const base = generateScenario(seed, { maxDevices: 3, exclude: ["sigterm", "truncatedBodies"] });
        return runScenario(
          {
            ...base,
            jsonOutput,
            linkValidityMs: 3 * 60_000,
            faults: { ...base.faults, tokenLifetimeMs: 6 * 60_000, serverErrorRate: 0.05 },
          },
          { bundles, frontEnd, scale: 400, tmpRoot, keepSandbox: "onViolation" },
        );
      }),
    );
    const secretViolations = outcomes.flatMap((o) => o.violations.filter((v) => v.invariant === "no-secret"));
    expect(secretViolations).toEqual([]);
    expect(outcomes.reduce((n, o) => n + o.figures.resultsRecovered, 0)).toBeGreaterThan(0);
  });

  it("failed sign-in (wrong secret) and a refused bearer token are reported without the credential", async () => {
    const emu = await startEmulator({ devices: [device("ws1.contoso.local")] });
    const dir = mkdtempSync(path.join(os.tmpdir(), "mde-lr-secrets-cli-"));
    try {
      const runbook = path.join(dir, "rb.yaml");
      writeFileSync(
        runbook,
        `name: s\ntargets:\n  machineIds: [${machineIdFor("ws1.contoso.local")}]\ncommands:\n  - runScript: collect.ps1\n`,
      );
      const caFile = path.join(dir, "ca.pem");
      writeFileSync(caFile, emu.caPem);
      const base = {
        PATH: process.env.PATH,
        HOME: dir,
        NO_COLOR: "1",
        MDE_API_URL: emu.url,
        MDE_AUTHORITY_HOST: emu.authorityHost,
        MDE_TENANT_ID: emu.demoApp.tenantId,
        MDE_CLIENT_ID: emu.demoApp.clientId,
        MDE_CA_FILE: caFile,
      };
      const wrongSecret = `${emu.demoApp.clientSecret.slice(0, -6)}WRONG1`;
      const expired = emu.issueToken({ lifetimeMs: 1 });
      const wrongAudience = emu.issueToken({ audience: "https://api.security.microsoft.com" });
      const cases = [
        { env: { ...base, MDE_CLIENT_SECRET: wrongSecret }, secret: wrongSecret },
        { env: { ...base, MDE_ACCESS_TOKEN: expired }, secret: expired },
        { env: { ...base, MDE_ACCESS_TOKEN: wrongAudience }, secret: wrongAudience },
      ];
      for (const [i, c] of cases.entries()) {
        for (const json of i === 0 ? [false, true] : [i === 2]) {
          const out = path.join(dir, `out-${i}-${json}`);
          const r = await runProcess(
            bundles.cli,
            ["run", runbook, "--out", out, ...(json ? ["--json"] : [])],
            c.env,
          );
          expect(r.code, r.stderr).toBe(3);
          const scanner = new SecretScanner({
            credential: c.secret,
            "client secret": emu.demoApp.clientSecret,
          });
          const places: Record<string, string | Uint8Array> = { stdout: r.stdout, stderr: r.stderr };
          for (const f of filesUnder(out)) places[path.relative(dir, f)] = readFileSync(f);
          expect(scanAll(scanner, places)).toEqual([]);
        }
      }
    } finally {
      await emu.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
