/**
 * Benchmarks measure memory in a child process of their own, so the parent's emulator and bookkeeping
 * never count against the figure. The child runs one job, reports through IPC with its own peak RSS
 * (ownPeakRssBytes) and exits.
 */
import { fork } from "node:child_process";
import { readFileSync } from "node:fs";

/**
 * This process's own peak RSS, bytes: Linux's VmHWM (the high-water mark of this process's memory map).
 * Not `process.resourceUsage().maxRSS`: getrusage(2) keeps it across execve(2), so a child starts with
 * its parent's RSS at the moment it was spawned (measured: a child of a 345 MiB parent reported 305 MiB
 * while its own VmHWM was 41), and the emulator's process is the parent of every measured one. Other
 * systems fall back to maxRSS (its figure may then include the parent's).
 */
export function ownPeakRssBytes(): number {
  try {
    const kib = /^VmHWM:\s+(\d+)\s+kB$/m.exec(readFileSync("/proc/self/status", "utf8"))?.[1];
    if (kib) return Number(kib) * 1024;
  } catch {
    // Not Linux.
  }
  return process.resourceUsage().maxRSS * 1024;
}

export interface ChildReport<T> {
  result: T;
  /** Peak resident set size of the child over its whole life, bytes. */
  maxRssBytes: number;
}

type Message<T> =
  | { ok: true; result: T; maxRssBytes: number }
  | { ok: false; error: string }
  | { progress: string };

/**
 * Runs `script` (a bundled .mjs next to the caller) and sends it `input` over IPC, not argv, so
 * tokens in the input never show in the process list.
 */
export function runChild<I, T>(
  script: string,
  input: I,
  options: { timeoutMs: number; execArgv?: string[]; env?: NodeJS.ProcessEnv },
): Promise<ChildReport<T>> {
  return new Promise((resolve, reject) => {
    const child = fork(script, [], {
      execArgv: options.execArgv ?? [],
      env: options.env ?? process.env,
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    let settled = false;
    let progress = "no progress reported";
    const timer = setTimeout(() => {
      fail(
        new Error(
          `${script} did not finish within ${Math.round(options.timeoutMs / 1000)} s (last: ${progress})`,
        ),
      );
      child.kill("SIGKILL");
    }, options.timeoutMs);
    const fail = (e: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(e);
    };
    child.on("message", (m: Message<T>) => {
      if ("progress" in m) {
        progress = m.progress;
        return;
      }
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (m.ok) resolve({ result: m.result, maxRssBytes: m.maxRssBytes });
      else reject(new Error(m.error));
    });
    child.on("error", fail);
    child.send({ input });
    child.on("exit", (code, signal) =>
      fail(new Error(`${script} exited (${code ?? signal}) without a report`)),
    );
  });
}

/** The child side: wait for the input, run `job`, send the report, exit. */
export function childMain<I, T>(job: (input: I) => Promise<T>): void {
  process.once("message", (m: { input: I }) => run(job, m.input));
  // The parent gave up (timeout) or died: nobody will read the result.
  process.once("disconnect", () => process.exit(1));
}

function run<I, T>(job: (input: I) => Promise<T>, input: I): void {
  job(input).then(
    (result) => {
      const message: Message<T> = { ok: true, result, maxRssBytes: ownPeakRssBytes() };
      process.send?.(message, () => process.exit(0));
    },
    (e: unknown) => {
      const message: Message<T> = {
        ok: false,
        error: e instanceof Error ? (e.stack ?? e.message) : String(e),
      };
      process.send?.(message, () => process.exit(1));
    },
  );
}

/** The child side: tell the parent where the job is (shown if it times out). */
export function reportProgress(text: string): void {
  if (process.connected) process.send?.({ progress: text });
}

export const MiB = 2 ** 20;
