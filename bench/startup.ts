/**
 * Startup benchmark: process spawn → first MDE API request, for the CLI (`bin/mde-lr.js`, CommonJS lib/)
 * and the action's bundled entry (`dist/main.js`). A loopback recorder stands in for the MDE API and
 * notes when the first request arrives (both clocks are this process's); the child is then killed, so
 * only the path to the first request is timed. `node -e fetch()` gives the floor: Node's own start.
 * Each target runs once to warm the page cache, then RUNS times; the figure is the median.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { environment, figure, figuresTable, table, writeResult } from "./harness/report.js";
import { isQuick, max, median, min } from "./harness/stats.js";

const RUNS = isQuick() ? 3 : 7;
const GOAL_MS = 300;
// Its own folder under the OS temp dir: other tools in this checkout may clean .tmp/ while it runs.
const WORK = mkdtempSync(path.join(os.tmpdir(), "mde-bench-startup-"));
const MACHINE_ID = "0123456789abcdef0123456789abcdef01234567";

interface Target {
  name: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  goal: boolean;
}

/** The API stand-in: answers every request with an empty list and reports the first one. */
class Recorder {
  private server: Server | undefined;
  private waiter: ((req: IncomingMessage) => void) | undefined;
  url = "";

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const w = this.waiter;
      this.waiter = undefined;
      w?.(req);
      res.writeHead(200, { "content-type": "application/json" });
      res.end('{"value":[]}');
    });
    await new Promise<void>((r) => this.server!.listen(0, "127.0.0.1", r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  next(): Promise<{ at: number; method: string; url: string }> {
    return new Promise((resolve) => {
      this.waiter = (req) => resolve({ at: performance.now(), method: req.method ?? "", url: req.url ?? "" });
    });
  }

  close(): Promise<void> {
    this.server?.closeAllConnections();
    return new Promise((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

function fakeToken(): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const now = Math.floor(Date.now() / 1000);
  return `${part({ alg: "none", typ: "JWT" })}.${part({ aud: "https://api.securitycenter.microsoft.com", exp: now + 3600, iat: now, roles: ["Machine.LiveResponse"] })}.sig`;
}

function targets(apiUrl: string): Target[] {
  const token = fakeToken();
  const runbook = path.join(WORK, "runbook.yaml");
  writeFileSync(
    runbook,
    [
      "name: startup-bench",
      "targets:",
      `  machineIds: ["${MACHINE_ID}"]`,
      "commands:",
      "  - getFile: 'C:\\Windows\\Temp\\x.txt'",
      "",
    ].join("\n"),
  );
  // The runner creates its file-command files before a step starts; @actions/core refuses missing ones.
  for (const f of ["github-output", "github-state", "step-summary.md"]) writeFileSync(path.join(WORK, f), "");
  const base = { ...process.env, NO_PROXY: "*", HTTP_PROXY: "", HTTPS_PROXY: "" };
  return [
    {
      name: "node -e fetch() (floor)",
      args: ["-e", `fetch(${JSON.stringify(`${apiUrl}/api/machines`)}).catch(() => {})`],
      env: base,
      goal: false,
    },
    {
      name: "CLI: mde-lr run",
      args: ["bin/mde-lr.js", "run", runbook, "--out", path.join(WORK, "cli-out")],
      env: { ...base, MDE_API_URL: apiUrl, MDE_ACCESS_TOKEN: token },
      goal: true,
    },
    {
      name: "action: dist/main.js",
      args: ["dist/main.js"],
      env: {
        ...base,
        INPUT_COMMANDS: "- getFile: 'C:\\Windows\\Temp\\x.txt'",
        "INPUT_MACHINE-IDS": MACHINE_ID,
        "INPUT_API-URL": apiUrl,
        INPUT_AUTH: "token",
        "INPUT_ACCESS-TOKEN": token,
        "INPUT_UPLOAD-ARTIFACT": "false",
        "INPUT_OUTPUT-DIR": path.join(WORK, "action-out"),
        GITHUB_OUTPUT: path.join(WORK, "github-output"),
        GITHUB_STATE: path.join(WORK, "github-state"),
        GITHUB_STEP_SUMMARY: path.join(WORK, "step-summary.md"),
        GITHUB_WORKSPACE: WORK,
        RUNNER_TEMP: WORK,
      },
      goal: true,
    },
  ];
}

/** ms from spawn to the recorder seeing the first request, or an error when the child exits first. */
async function once(recorder: Recorder, target: Target): Promise<{ ms: number; first: string }> {
  const first = recorder.next();
  const started = performance.now();
  const child: ChildProcess = spawn(process.execPath, target.args, {
    env: target.env,
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<never>((_, reject) =>
    child.on("exit", (code) =>
      reject(
        new Error(
          `exited ${code} before any API request: ${stderr.trim().split("\n").slice(-3).join(" | ")}`,
        ),
      ),
    ),
  );
  const timeout = new Promise<never>((_, reject) =>
    setTimeout(() => reject(new Error("no API request within 10 s")), 10_000).unref(),
  );
  try {
    const r = await Promise.race([first, exited, timeout]);
    return { ms: r.at - started, first: `${r.method} ${r.url.split("?")[0]}` };
  } finally {
    child.kill("SIGKILL");
    await new Promise((r) =>
      child.exitCode === null && child.signalCode === null ? child.once("exit", r) : r(null),
    );
  }
}

async function main(): Promise<void> {
  const startedAt = new Date();
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  const recorder = new Recorder();
  await recorder.start();
  const rows: Record<string, unknown>[] = [];
  const figures = [];
  try {
    for (const target of targets(recorder.url)) {
      const times: number[] = [];
      let first = "";
      let error: string | null = null;
      try {
        await once(recorder, target); // warm-up: page cache, not counted
        for (let i = 0; i < RUNS; i++) {
          const r = await once(recorder, target);
          times.push(r.ms);
          first = r.first;
        }
      } catch (e) {
        error = e instanceof Error ? e.message : String(e);
      }
      const med = times.length === RUNS ? median(times) : null;
      rows.push({
        target: target.name,
        medianMs: med,
        minMs: times.length ? min(times) : null,
        maxMs: times.length ? max(times) : null,
        runs: times,
        firstRequest: first,
        error,
      });
      figures.push(
        figure(
          target.name.split(":")[0]!.replace(/\W+/g, "").toLowerCase(),
          `${target.name}: start → first request (median of ${RUNS})`,
          med,
          "ms",
          target.goal ? { op: "<=", target: GOAL_MS } : null,
          error,
        ),
      );
    }
  } finally {
    await recorder.close();
    rmSync(WORK, { recursive: true, force: true });
  }
  figures.push(...bundleSizes());
  console.log(
    table(
      ["target", "median ms", "min", "max", "first request"],
      rows.map((r) => [
        String(r["target"]),
        r["medianMs"] === null ? "—" : Math.round(r["medianMs"] as number),
        r["minMs"] === null ? "—" : Math.round(r["minMs"] as number),
        r["maxMs"] === null ? "—" : Math.round(r["maxMs"] as number),
        r["error"] ? `error: ${r["error"]}` : String(r["firstRequest"]),
      ]),
    ),
  );
  console.log(`\n${figuresTable(figures)}`);
  const file = writeResult({
    bench: "startup",
    command: "npm run bench -- --only=startup",
    startedAt: startedAt.toISOString(),
    durationMs: Date.now() - startedAt.getTime(),
    environment: environment(),
    figures,
    rows,
    notes: [`median of ${RUNS} runs after one warm-up run; the child is killed at its first API request`],
  });
  console.log(`wrote ${file}`);
}

/** What the action ships (the README's *Size and start-up*): all of dist/, and the entry loaded at start. */
function bundleSizes() {
  const files = (readdirSync("dist", { recursive: true }) as string[]).filter((f) => f.endsWith(".js"));
  const size = (f: string) => statSync(path.join("dist", f)).size;
  const MB = 1_000_000;
  return [
    figure(
      "distBytes",
      `dist/ size (${files.length} .js files, minified)`,
      files.reduce((n, f) => n + size(f), 0) / MB,
      "MB",
    ),
    figure("distMainBytes", "dist/main.js size (the action's entry)", size("main.js") / MB, "MB"),
  ];
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
