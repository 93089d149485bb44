/**
 * Runs the bundled action (dist/main.js, dist/post.js) as a process the way the GitHub runner does:
 * inputs as INPUT_<NAME> (hyphens kept), GITHUB_OUTPUT / GITHUB_STEP_SUMMARY / GITHUB_STATE files, state
 * handed to the post step as STATE_<key>, and the runner's log masking (`::add-mask::` hides a value on
 * every later line) so tests can check that no secret is ever shown.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

export interface WorkflowCommand {
  command: string;
  properties: Record<string, string>;
  message: string;
}

export interface StepResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** Raw stdout (what the process wrote, `::add-mask::` lines included). */
  stdout: string;
  stderr: string;
  /** The log as the runner would show it: mask commands consumed, masked values replaced by ***. */
  log: string;
  masks: string[];
  commands: WorkflowCommand[];
  outputs: Record<string, string>;
  summary: string;
  /** Wall time from spawn to exit. */
  ms: number;
}

export interface RunningStep {
  child: ChildProcess;
  /** Resolves once the process has written `text` to stdout. */
  waitForLog(text: string | RegExp, timeoutMs?: number): Promise<void>;
  result: Promise<StepResult>;
}

/** Parses GITHUB_OUTPUT / GITHUB_STATE: `name=value` lines and `name<<DELIM ... DELIM` heredocs. */
export function parseFileCommands(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? "";
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc?.[1] && heredoc[2]) {
      const end = lines.indexOf(heredoc[2], i + 1);
      out[heredoc[1]] = lines.slice(i + 1, end).join("\n");
      i = end;
    } else if (line.includes("=")) {
      out[line.slice(0, line.indexOf("="))] = line.slice(line.indexOf("=") + 1);
    }
  }
  return out;
}

function unescapeData(s: string): string {
  return s.replace(/%0D/g, "\r").replace(/%0A/g, "\n").replace(/%25/g, "%");
}

function unescapeProperty(s: string): string {
  return unescapeData(s).replace(/%3A/g, ":").replace(/%2C/g, ",");
}

/** Replays stdout through the runner's command processing and masking. */
export function emulateRunnerLog(stdout: string): {
  log: string;
  masks: string[];
  commands: WorkflowCommand[];
} {
  const masks: string[] = [];
  const commands: WorkflowCommand[] = [];
  const shown: string[] = [];
  for (const line of stdout.split("\n")) {
    const m = /^::([a-z-]+)( [^:]*)?::(.*)$/.exec(line);
    if (m?.[1] === "add-mask") {
      masks.push(unescapeData(m[3] ?? ""));
      masks.sort((a, b) => b.length - a.length);
      continue;
    }
    const mask = (text: string) => {
      let out = text;
      for (const secret of masks) if (secret) out = out.split(secret).join("***");
      return out;
    };
    let display = mask(line);
    if (m?.[1]) {
      // The runner processes a command line first and writes (masked) only its unescaped message.
      const properties: Record<string, string> = {};
      for (const kv of (m[2] ?? "").trim().split(",")) {
        const eq = kv.indexOf("=");
        if (eq > 0) properties[kv.slice(0, eq)] = mask(unescapeProperty(kv.slice(eq + 1)));
      }
      const message = mask(unescapeData(m[3] ?? ""));
      commands.push({ command: m[1], properties, message });
      display = `[${m[1]}]${properties["title"] ? ` ${properties["title"]}:` : ""} ${message}`;
    }
    shown.push(display);
  }
  return { log: shown.join("\n"), masks, commands };
}

export interface RunnerOptions {
  /** Folder for the runner's files (RUNNER_TEMP, GITHUB_* files); also the default workspace. */
  dir: string;
  workspace?: string;
  /** Extra environment (ACTIONS_*, NODE_EXTRA_CA_CERTS, MDE_AUTHORITY_HOST, ...). */
  env?: Record<string, string>;
  /** The action's checkout (holds dist/); default the repository. Use a copy without node_modules. */
  actionDir?: string;
}

/** One job: main then post share the state file, as on a runner. */
export class FakeRunner {
  readonly dir: string;
  readonly workspace: string;
  readonly state: Record<string, string> = {};
  private readonly env: Record<string, string>;
  private readonly dist: string;
  private step = 0;

  constructor(options: RunnerOptions) {
    this.dir = options.dir;
    this.workspace = options.workspace ?? path.join(options.dir, "workspace");
    mkdirSync(this.workspace, { recursive: true });
    mkdirSync(path.join(this.dir, "temp"), { recursive: true });
    this.env = options.env ?? {};
    this.dist = path.join(options.actionDir ?? path.resolve("."), "dist");
  }

  start(entry: "main" | "post", inputs: Record<string, string>): RunningStep {
    this.step++;
    const files = {
      GITHUB_OUTPUT: path.join(this.dir, `output-${this.step}`),
      GITHUB_STEP_SUMMARY: path.join(this.dir, `summary-${this.step}`),
      GITHUB_STATE: path.join(this.dir, `state-${this.step}`),
    };
    for (const f of Object.values(files)) writeFileSync(f, "");
    const env: Record<string, string> = {
      PATH: process.env["PATH"] ?? "",
      HOME: process.env["HOME"] ?? this.dir,
      GITHUB_ACTIONS: "true",
      CI: "true",
      GITHUB_WORKSPACE: this.workspace,
      RUNNER_TEMP: path.join(this.dir, "temp"),
      GITHUB_JOB: "triage",
      GITHUB_RUN_ID: "4242",
      GITHUB_RUN_ATTEMPT: "1",
      GITHUB_REPOSITORY: "contoso/ir-runbooks",
      GITHUB_ACTION: "__mde-live-response",
      GITHUB_ACTOR: "responder",
      // *.localhost passes @actions/artifact's GHES check (127.0.0.1 would not).
      GITHUB_SERVER_URL: "http://github.localhost",
      NO_PROXY: "127.0.0.1,localhost",
      ...files,
      ...this.env,
    };
    for (const [name, value] of Object.entries(inputs)) {
      env[`INPUT_${name.replace(/ /g, "_").toUpperCase()}`] = value;
    }
    for (const [key, value] of Object.entries(this.state)) env[`STATE_${key}`] = value;

    const started = Date.now();
    const child = spawn(process.execPath, [path.join(this.dist, `${entry}.js`)], {
      cwd: this.workspace,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    const waiters: { test: (s: string) => boolean; resolve: () => void }[] = [];
    child.stdout?.on("data", (c: Buffer) => {
      stdout += c.toString("utf8");
      for (const w of [...waiters]) {
        if (w.test(stdout)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve();
        }
      }
    });
    child.stderr?.on("data", (c: Buffer) => {
      stderr += c.toString("utf8");
    });
    const result = new Promise<StepResult>((resolve) => {
      child.on("close", (exitCode, signal) => {
        const stateFile = parseFileCommands(readFileSync(files.GITHUB_STATE, "utf8"));
        Object.assign(this.state, stateFile);
        resolve({
          exitCode,
          signal,
          stdout,
          stderr,
          ...emulateRunnerLog(stdout),
          outputs: parseFileCommands(readFileSync(files.GITHUB_OUTPUT, "utf8")),
          summary: readFileSync(files.GITHUB_STEP_SUMMARY, "utf8"),
          ms: Date.now() - started,
        });
      });
    });
    return {
      child,
      result,
      waitForLog(text, timeoutMs = 30_000) {
        const test = (s: string) => (typeof text === "string" ? s.includes(text) : text.test(s));
        if (test(stdout)) return Promise.resolve();
        return new Promise<void>((resolve, reject) => {
          const timer = setTimeout(
            () => reject(new Error(`timed out waiting for ${text}; log:\n${stdout}`)),
            timeoutMs,
          );
          waiters.push({
            test,
            resolve: () => {
              clearTimeout(timer);
              resolve();
            },
          });
        });
      },
    };
  }

  run(entry: "main" | "post", inputs: Record<string, string>): Promise<StepResult> {
    return this.start(entry, inputs).result;
  }
}

/** Secrets in clear anywhere the runner would show or keep them. */
export function findLeaks(secrets: string[], places: Record<string, string | Buffer>): string[] {
  const leaks: string[] = [];
  for (const secret of secrets.filter((s) => s.length >= 6)) {
    for (const [where, content] of Object.entries(places)) {
      const text = Buffer.isBuffer(content) ? content.toString("latin1") : content;
      if (text.includes(secret) || text.includes(encodeURIComponent(secret))) {
        leaks.push(`${where} contains a secret (${secret.slice(0, 4)}…)`);
      }
    }
  }
  return leaks;
}
