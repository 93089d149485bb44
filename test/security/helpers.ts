/** Shared pieces of the secret-harness tests (test/security/*.test.ts). */
import { spawn } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import type { DeviceSpec } from "../../shared/emulator/types.js";
import type { SecretFinding, SecretScanner } from "../chaos/harness/secrets.js";

export function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name));
}

export function scanAll(
  scanner: SecretScanner,
  places: Record<string, string | Uint8Array>,
): SecretFinding[] {
  return Object.entries(places).flatMap(([where, content]) => scanner.scan(where, content));
}

export function runProcess(
  file: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [file, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => {
      stdout += c.toString("utf8");
    });
    child.stderr.on("data", (c: Buffer) => {
      stderr += c.toString("utf8");
    });
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

export const device = (name: string, extra: Partial<DeviceSpec> = {}): DeviceSpec => ({
  computerDnsName: name,
  osPlatform: "Windows11",
  scripts: {
    "collect.ps1": {
      exitCode: 0,
      stdout: `collected on ${name}`,
      creates: { "C:\\Temp\\e.zip": `E ${name}` },
    },
  },
  ...extra,
});
