/** Spawning the real `mde-lr` (bin/mde-lr.js → lib/) as a child process, as a user would. */
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { resolve } from "node:path";

export const ROOT = resolve(__dirname, "../..");
const BIN = resolve(ROOT, "bin/mde-lr.js");

let built = false;

/** Compiles shared/ to lib/ once per test file (the CLI runs from lib/, like the published package). */
export function ensureBuilt(): void {
  if (built) return;
  const tsc = resolve(ROOT, "node_modules/.bin/tsc");
  const r = spawnSync(tsc, ["-p", "tsconfig.build.json"], { cwd: ROOT, encoding: "utf8" });
  // Type errors elsewhere in the tree still emit; only a missing entry point is fatal here.
  if (!existsSync(resolve(ROOT, "lib/shared/cli/main.js"))) {
    throw new Error(`build failed: ${r.stdout}\n${r.stderr}`);
  }
  built = true;
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  env?: Record<string, string>;
  cwd?: string;
  /** Called with each stderr chunk and the child, e.g. to send SIGINT once something appears. */
  onStderr?: (text: string, child: ReturnType<typeof spawn>) => void;
  timeoutMs?: number;
}

/**
 * Runs `node bin/mde-lr.js ...args` asynchronously (an emulator in this process must keep serving
 * while the child talks to it). The child gets a clean environment: no MDE_* leaks from the host.
 */
export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: options.cwd ?? ROOT,
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
      options.onStderr?.(stderr, child);
    });
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`mde-lr ${args.join(" ")} timed out\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, options.timeoutMs ?? 60_000);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolveRun({ code, signal, stdout, stderr });
    });
  });
}
