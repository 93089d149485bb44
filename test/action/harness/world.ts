/**
 * Everything an end-to-end action test needs around the bundled action: the MDE emulator (API +
 * Entra-like authority over TLS), the results service with Azurite, and a fake runner whose environment
 * points at both. The emulator's CA reaches the action the way a self-hosted runner's corporate CA
 * would: NODE_EXTRA_CA_CERTS, read by Node when the process starts.
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { startEmulator } from "../../../shared/emulator/index.js";
import type { EmulatorHandle, EmulatorOptions } from "../../../shared/emulator/types.js";
import { type ResultsService, startResultsService } from "./results-service.js";
import { FakeRunner } from "./runner.js";

export interface World {
  emu: EmulatorHandle;
  results: ResultsService;
  dir: string;
  /** Environment every step gets (results service, emulator authority, CA). */
  env: Record<string, string>;
  runner(extraEnv?: Record<string, string>): FakeRunner;
  close(): Promise<void>;
}

export async function startWorld(options: EmulatorOptions): Promise<World> {
  const dir = mkdtempSync(path.join(tmpdir(), "mde-action-"));
  // The runner downloads the action's repository, not its node_modules: run the committed bundle from a
  // copy outside this checkout so a dependency left out of the bundle fails here too.
  const actionDir = path.join(dir, "action-checkout");
  cpSync("dist", path.join(actionDir, "dist"), { recursive: true });
  cpSync("action.yml", path.join(actionDir, "action.yml"));
  const emu = await startEmulator(options);
  const results = await startResultsService();
  const caFile = path.join(dir, "emulator-ca.pem");
  writeFileSync(caFile, emu.caPem);
  const env = {
    ACTIONS_RUNTIME_TOKEN: results.runtimeToken,
    ACTIONS_RESULTS_URL: results.url,
    NODE_EXTRA_CA_CERTS: caFile,
    MDE_AUTHORITY_HOST: emu.authorityHost,
  };
  let n = 0;
  return {
    emu,
    results,
    dir,
    env,
    runner: (extraEnv = {}) =>
      new FakeRunner({ dir: path.join(dir, `job-${++n}`), env: { ...env, ...extraEnv } }),
    async close() {
      await Promise.allSettled([emu.close(), results.close()]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Inputs that sign in to the emulator with the demo app's client secret. */
export function secretInputs(emu: EmulatorHandle): Record<string, string> {
  return {
    "api-url": emu.url,
    "tenant-id": emu.demoApp.tenantId,
    "client-id": emu.demoApp.clientId,
    "client-secret": emu.demoApp.clientSecret,
  };
}

/** Where a secret-shaped value shows in clear: a SAS signature or a JWT. */
export function secretShapes(text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(/\bsig(?:=|%3D)([^&\s"'<>]+)/gi))
    if (!m[1]?.startsWith("***")) found.push(m[0]);
  for (const m of text.matchAll(/\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g))
    found.push(m[0].slice(0, 12));
  return found;
}
