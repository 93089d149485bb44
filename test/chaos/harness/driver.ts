/**
 * Runs one chaos scenario end to end: a fresh emulator (in this process) with the scenario's fleet and
 * faults, the run in a child process sharing the emulator's scaled clock, SIGKILLs at the planned
 * moments followed by `resume` until the run ends, then every invariant: the emulator's records and
 * final state against the output folder, the sandbox diff and the secret scan.
 */
import { type ChildProcess, spawn } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import type { MachineAction } from "../../../shared/api/types.js";
import { ScaledClock } from "../../../shared/clock.js";
import { startEmulator } from "../../../shared/emulator/index.js";
import type { DeviceSpec, EmulatorHandle } from "../../../shared/emulator/types.js";
import type { RunReport } from "../../../shared/report/types.js";
import type { FrontEndBundles } from "./build-worker.js";
import { checkInvariants, type InvariantFigures, type Violation } from "./invariants.js";
import type { ChaosScenario } from "./scenario.js";
import { SecretScanner } from "./secrets.js";
import { diffTrees, outputFolderEscapes, snapshotTree } from "./snapshot.js";

export interface DriverOptions {
  /** The bundled front ends (build-worker.ts). */
  bundles: FrontEndBundles;
  /**
   * `cli`: the `mde-lr` CLI (run --out DIR, then resume DIR), like a responder at a terminal.
   * `core`: a thin worker over startRun/resumeRun that also prints every run event (more bytes to scan).
   */
  frontEnd: "cli" | "core";
  /** Service ms per real ms, shared by the emulator and the worker. */
  scale: number;
  /** Parent folder for per-run sandboxes. */
  tmpRoot: string;
  keepSandbox?: "never" | "onViolation" | "always";
  /** A TLS identity reused across runs (key generation costs more than a whole run). */
  tlsCertificate?: { certPem: string; keyPem: string };
  /** Real ms one worker process may take before it counts as hung. */
  workerTimeoutMs?: number;
  maxAttempts?: number;
}

export interface RunFigures extends InvariantFigures {
  faultsByKind: Record<string, number>;
  kills: number;
  resumes: number;
  restarts: number;
  sigterms: number;
  errors: string[];
  finalStatus: string | null;
  realMs: number;
}

export interface RunOutcome {
  seed: number;
  violations: Violation[];
  figures: RunFigures;
  /** Kept for inspection when asked (or on violation). */
  sandbox: string | null;
}

interface WorkerResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  killed: boolean;
  termSent: boolean;
  timedOut: boolean;
  stdout: Buffer;
  stderr: Buffer;
  lines: { type: string; [k: string]: unknown }[];
}

const FOREIGN_APP = "8b2f6f8e-0000-4000-8000-00000000f0e1";

function runWorker(
  workerPath: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  cwd: string,
  plan: {
    killAfterMs?: number;
    termAfterMs?: number;
    timeoutMs: number;
    /** Signal after the service has answered this many more API calls (checked every 5 ms). */
    killAfterCalls?: number;
    termAfterCalls?: number;
    calls?: () => number;
  },
): Promise<WorkerResult> {
  return new Promise((resolve) => {
    const child: ChildProcess = spawn(process.execPath, [workerPath, ...args], {
      cwd,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on("data", (b: Buffer) => out.push(b));
    child.stderr?.on("data", (b: Buffer) => err.push(b));
    let killed = false;
    let termSent = false;
    let timedOut = false;
    const timers: NodeJS.Timeout[] = [];
    if (plan.killAfterMs !== undefined) {
      timers.push(
        setTimeout(() => {
          killed = child.kill("SIGKILL");
        }, plan.killAfterMs),
      );
    }
    if (plan.termAfterMs !== undefined) {
      timers.push(
        setTimeout(() => {
          termSent = child.kill("SIGTERM");
        }, plan.termAfterMs),
      );
    }
    timers.push(
      setTimeout(() => {
        timedOut = true;
        child.kill("SIGKILL");
      }, plan.timeoutMs),
    );
    if (plan.calls && (plan.killAfterCalls !== undefined || plan.termAfterCalls !== undefined)) {
      const calls = plan.calls;
      const base = calls();
      const watch = setInterval(() => {
        const n = calls() - base;
        if (plan.killAfterCalls !== undefined && n >= plan.killAfterCalls && !killed) {
          killed = child.kill("SIGKILL");
        }
        if (plan.termAfterCalls !== undefined && n >= plan.termAfterCalls && !termSent) {
          termSent = child.kill("SIGTERM");
        }
      }, 5);
      timers.push(watch);
    }
    child.on("close", (code, signal) => {
      for (const t of timers) clearTimeout(t);
      const stdout = Buffer.concat(out);
      const lines: WorkerResult["lines"] = [];
      for (const raw of stdout.toString("utf8").split("\n")) {
        if (!raw.startsWith("{")) continue;
        try {
          lines.push(JSON.parse(raw) as WorkerResult["lines"][number]);
        } catch {
          // a line cut by SIGKILL
        }
      }
      resolve({
        code,
        signal,
        killed: killed && signal === "SIGKILL" && !timedOut,
        termSent,
        timedOut,
        stdout,
        stderr: Buffer.concat(err),
        lines,
      });
    });
  });
}

/** Device offsets (onlineAt, busyUntil) in the scenario are relative to the run's start. */
function devicesAt(devices: DeviceSpec[], t0: number): DeviceSpec[] {
  return devices.map((d) => ({
    ...d,
    ...(d.onlineAt !== undefined ? { onlineAt: t0 + d.onlineAt } : {}),
    ...(d.busyUntil !== undefined ? { busyUntil: t0 + d.busyUntil } : {}),
  }));
}

async function startForeignSessions(emu: EmulatorHandle, scenario: ChaosScenario): Promise<Set<string>> {
  const ids = new Set<string>();
  if (scenario.foreign.length === 0) return ids;
  const token = emu.issueToken({ appId: FOREIGN_APP });
  for (const f of scenario.foreign) {
    const res = await fetch(`${emu.url}/api/machines/${f.machineId}/runliveresponse`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({
        Commands: [{ type: "RunScript", params: [{ key: "ScriptName", value: f.scriptName }] }],
        Comment: "someone else's investigation",
      }),
    });
    const body = (await res.json()) as { id?: string };
    if (res.status === 201 && body.id) ids.add(body.id);
  }
  return ids;
}

function readReport(outDir: string): RunReport | null {
  const file = path.join(outDir, "report.json");
  if (!existsSync(file)) return null;
  try {
    return JSON.parse(readFileSync(file, "utf8")) as RunReport;
  } catch {
    return null;
  }
}

function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) out.push(full);
    }
  };
  if (existsSync(dir)) walk(dir);
  return out;
}

/** What one front-end process ended with, in front-end-neutral terms. */
type ProcessEnd =
  | { kind: "result"; status: string }
  | { kind: "error"; errorKind: string; message: string }
  | { kind: "unknown"; detail: string };

function interpretCore(res: WorkerResult): ProcessEnd {
  const result = res.lines.find((l) => l.type === "result");
  if (result) return { kind: "result", status: String(result.status) };
  const error = res.lines.find((l) => l.type === "error");
  if (error) {
    const stack = error.kind === "internal" ? ` ${String(error.stack ?? "").slice(0, 600)}` : "";
    return {
      kind: "error",
      errorKind: String(error.kind),
      message: `${String(error.name)}: ${String(error.message).slice(0, 400)}${stack}`,
    };
  }
  return {
    kind: "unknown",
    detail: `exit ${res.code ?? res.signal}: ${res.stderr.toString("utf8").slice(-800)}`,
  };
}

/**
 * `mde-lr … --json` prints `{ok, outDir, report}` when the run ends (exit 0 or 1); without --json the
 * report is read from the output folder. Errors go to stderr with exit 2 (input), 3 (auth) or 1.
 */
function interpretCli(res: WorkerResult, json: boolean, outDir: string, startedAt: number): ProcessEnd {
  const stderr = res.stderr.toString("utf8");
  if (res.code === 0 || res.code === 1) {
    if (json) {
      const text = res.stdout.toString("utf8");
      const at = text.indexOf("{");
      if (at >= 0) {
        try {
          const parsed = JSON.parse(text.slice(at)) as { report?: { status?: string } };
          if (parsed.report?.status) return { kind: "result", status: parsed.report.status };
        } catch {
          // not the final JSON: fall through to the error path
        }
      }
    } else {
      const file = path.join(outDir, "report.json");
      if (existsSync(file) && statSync(file).mtimeMs >= startedAt - 5) {
        const report = readReport(outDir);
        if (report) return { kind: "result", status: report.status };
      }
    }
  }
  if (res.code === 2) return { kind: "error", errorKind: "input", message: stderr.slice(-600) };
  if (res.code === 3) return { kind: "error", errorKind: "auth", message: stderr.slice(-600) };
  if (res.code === 1) {
    // A crash (unexpected exception) prints a stack; a service/network failure prints one message.
    const internal =
      /\n\s+at .+\(.+:\d+:\d+\)/.test(stderr) || /TypeError|ReferenceError|RangeError/.test(stderr);
    return { kind: "error", errorKind: internal ? "internal" : "service", message: stderr.slice(-800) };
  }
  return { kind: "unknown", detail: `exit ${res.code ?? res.signal}: ${stderr.slice(-800)}` };
}

export async function runScenario(scenario: ChaosScenario, options: DriverOptions): Promise<RunOutcome> {
  const started = Date.now();
  mkdirSync(options.tmpRoot, { recursive: true });
  const sandbox = mkdtempSync(path.join(options.tmpRoot, `seed-${scenario.seed}-`));
  const dirs = {
    home: path.join(sandbox, "home"),
    tmp: path.join(sandbox, "tmp"),
    cwd: path.join(sandbox, "cwd"),
    runbook: path.join(sandbox, "runbook"),
    out: path.join(sandbox, "out"),
  };
  for (const d of [dirs.home, dirs.tmp, dirs.cwd, path.join(dirs.runbook, "lib")])
    mkdirSync(d, { recursive: true });
  const runbookPath = path.join(dirs.runbook, "runbook.yaml");
  writeFileSync(runbookPath, scenario.runbookYaml);
  for (const l of scenario.runbookLibrary)
    writeFileSync(path.join(dirs.runbook, "lib", l.fileName), l.content);

  const clock = new ScaledClock({ scale: options.scale });
  const t0 = clock.now();
  const emu = await startEmulator({
    clock,
    seed: scenario.seed,
    devices: devicesAt(scenario.devices, t0),
    library: scenario.library,
    limits: { linkValidityMs: scenario.linkValidityMs },
    behaviour: scenario.behaviour,
    recordCalls: false,
    ...(options.tlsCertificate ? { tlsCertificate: options.tlsCertificate } : {}),
  });
  const violations: Violation[] = [];
  const figures: RunFigures = {
    faultsByKind: {},
    kills: 0,
    resumes: 0,
    restarts: 0,
    sigterms: 0,
    errors: [],
    finalStatus: null,
    realMs: 0,
    resultsExpected: 0,
    resultsRecovered: 0,
    duplicateSubmissions: 0,
    submissions: 0,
    actionsCancelled: 0,
  };
  const scanner = new SecretScanner({ "client secret": emu.demoApp.clientSecret });
  const keepLogs = options.keepSandbox !== undefined && options.keepSandbox !== "never";
  try {
    const foreignIds = await startForeignSessions(emu, scenario);
    // The emulator counts storm offsets from its own start; the scenario counts from the first process.
    const sinceStart = clock.now() - t0;
    emu.configure({
      faults: {
        ...scenario.faults,
        ...(scenario.faults.throttleStorms
          ? {
              throttleStorms: scenario.faults.throttleStorms.map((st) => ({
                ...st,
                startMs: st.startMs + sinceStart,
              })),
            }
          : {}),
      },
    });
    const caFile = path.join(sandbox, "ca.pem");
    writeFileSync(caFile, emu.caPem);
    const before = snapshotTree(sandbox, (rel) => rel === "out" || rel.startsWith("out/"));

    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: dirs.home,
      USERPROFILE: dirs.home,
      TMPDIR: dirs.tmp,
      TMP: dirs.tmp,
      TEMP: dirs.tmp,
      XDG_CONFIG_HOME: path.join(dirs.home, ".config"),
      XDG_CACHE_HOME: path.join(dirs.home, ".cache"),
      NO_PROXY: "127.0.0.1,localhost,::1",
      NO_COLOR: "1",
      // The harness's own cache (outside the sandbox): halves the start-up of each resumed process.
      NODE_COMPILE_CACHE: path.join(path.dirname(path.dirname(options.bundles.core)), "compile-cache"),
      MDE_API_URL: emu.url,
      MDE_AUTHORITY_HOST: emu.authorityHost,
      MDE_TENANT_ID: emu.demoApp.tenantId,
      MDE_CLIENT_ID: emu.demoApp.clientId,
      MDE_CLIENT_SECRET: emu.demoApp.clientSecret,
      MDE_CA_FILE: caFile,
      // The CLI's clock contract with a time-scaled emulator (shared/cli/connect.ts).
      MDE_LR_CLOCK_SCALE: String(clock.scale),
      MDE_LR_CLOCK_ORIGIN: String(clock.realOrigin),
      CHAOS_CA_FILE: caFile,
      CHAOS_RUNBOOK: runbookPath,
      CHAOS_OUT: dirs.out,
      CHAOS_CLOCK: JSON.stringify({
        scale: clock.scale,
        realOrigin: clock.realOrigin,
        serviceOrigin: clock.serviceOrigin,
      }),
      ...(process.env.CHAOS_TRACE ? { CHAOS_TRACE: process.env.CHAOS_TRACE } : {}),
    };

    let mode: "start" | "resume" = "start";
    let killIndex = 0;
    let termPending = scenario.sigtermAfterMs !== null;
    let endedBy: "finished" | "sigterm" = "finished";
    let finished = false;
    const maxAttempts = options.maxAttempts ?? 12;
    const timeoutMs = options.workerTimeoutMs ?? 120_000;
    for (let attempt = 0; attempt < maxAttempts && !finished; attempt++) {
      // What counts is how the LAST process ended: a SIGTERM'd process followed by another one (it died
      // before writing run.json, or gave up with an error) no longer says how the run ended.
      endedBy = "finished";
      // Killed before run.json existed: nothing can have been submitted, and `resume` would only say so
      // (the CLI's own tests cover that message), so the responder starts again at once.
      if (mode === "resume" && !existsSync(path.join(dirs.out, "run.json"))) {
        figures.restarts++;
        mode = "start";
      }
      const killAfterMs = scenario.killDelaysMs[killIndex];
      const killAfterCalls = scenario.killAfterCalls[killIndex] ?? undefined;
      const termAfterMs =
        killAfterMs === undefined && termPending ? (scenario.sigtermAfterMs ?? undefined) : undefined;
      const termAfterCalls =
        termAfterMs !== undefined ? (scenario.sigtermAfterCalls ?? undefined) : undefined;
      if (mode === "resume") figures.resumes++;
      const json = options.frontEnd === "core" || scenario.jsonOutput;
      const args =
        options.frontEnd === "core"
          ? []
          : mode === "start"
            ? ["run", runbookPath, "--out", dirs.out, ...(json ? ["--json"] : [])]
            : ["resume", dirs.out, ...(json ? ["--json"] : [])];
      const spawnedAt = Date.now();
      const res = await runWorker(
        options.frontEnd === "core" ? options.bundles.core : options.bundles.cli,
        args,
        { ...env, CHAOS_MODE: mode },
        dirs.cwd,
        {
          ...(killAfterMs !== undefined ? { killAfterMs } : {}),
          ...(termAfterMs !== undefined ? { termAfterMs } : {}),
          ...(killAfterCalls !== undefined ? { killAfterCalls } : {}),
          ...(termAfterCalls !== undefined ? { termAfterCalls } : {}),
          calls: () => Object.values(emu.state.callCounts()).reduce((a, b) => a + b, 0),
          timeoutMs,
        },
      );
      if (keepLogs) {
        // Beside the sandbox, not in it: the sandbox diff must only see what the run wrote.
        const logs = `${sandbox}.logs`;
        mkdirSync(logs, { recursive: true });
        writeFileSync(
          path.join(logs, `${String(attempt).padStart(2, "0")}-${mode}.log`),
          Buffer.concat([
            Buffer.from(
              `# ${options.frontEnd} ${args.join(" ")}: ${Date.now() - spawnedAt} ms real, exit ${res.code} signal ${res.signal} killed ${res.killed} term ${res.termSent} (kill at ${killAfterMs ?? "-"} ms, term at ${termAfterMs ?? "-"} ms)\n`,
            ),
            res.stdout,
            Buffer.from("\n# stderr\n"),
            res.stderr,
          ]),
        );
      }
      for (const f of scanner.scan(
        `${options.frontEnd} ${mode} #${attempt} output`,
        Buffer.concat([res.stdout, res.stderr]),
      )) {
        violations.push({ invariant: "no-secret", detail: `${f.source}: ${f.kind} ${f.excerpt}` });
      }
      if (killAfterMs !== undefined) killIndex++;
      if (res.timedOut) {
        violations.push({
          invariant: "run-finishes",
          detail: `${mode} process still running after ${timeoutMs} ms real`,
        });
        break;
      }
      if (res.killed) {
        figures.kills++;
        mode = "resume";
        continue;
      }
      if (res.termSent && res.signal === "SIGTERM") {
        // The signal arrived before the process had installed its handler (still loading): it died
        // like a kill, with nothing of its own to clean up. Resume as after a crash.
        termPending = false;
        figures.sigterms++;
        mode = "resume";
        continue;
      }
      if (termAfterMs !== undefined && res.termSent) {
        termPending = false;
        figures.sigterms++;
        endedBy = "sigterm";
      }
      const end =
        options.frontEnd === "core" ? interpretCore(res) : interpretCli(res, json, dirs.out, spawnedAt);
      if (end.kind === "result") {
        figures.finalStatus = end.status;
        if (end.status === "pending" && endedBy !== "sigterm") {
          mode = "resume";
          continue;
        }
        finished = true;
        break;
      }
      if (end.kind === "error") {
        figures.errors.push(`${mode}: ${end.message.slice(0, 300)}`);
        // Killed before run.json existed: nothing can have been submitted, so the responder starts again.
        if (mode === "resume" && !existsSync(path.join(dirs.out, "run.json"))) {
          figures.restarts++;
          mode = "start";
          continue;
        }
        if (end.errorKind === "internal") {
          violations.push({ invariant: "run-finishes", detail: `${mode} crashed: ${end.message}` });
          break;
        }
        if (end.errorKind === "input" || end.errorKind === "auth") {
          violations.push({ invariant: "run-finishes", detail: `${mode} refused: ${end.message}` });
          break;
        }
        // A service or network failure the process gave up on: the responder runs `resume`.
        mode = "resume";
        continue;
      }
      violations.push({ invariant: "run-finishes", detail: `${mode} ended without a result: ${end.detail}` });
      break;
    }
    if (!finished && !violations.some((x) => x.invariant === "run-finishes")) {
      violations.push({
        invariant: "run-finishes",
        detail: `no final report after ${maxAttempts} processes`,
      });
    }

    const actions = emu.state.actions() as MachineAction[];
    const records = emu.records;
    for (const r of records) {
      if (r.kind === "fault") figures.faultsByKind[r.fault] = (figures.faultsByKind[r.fault] ?? 0) + 1;
    }
    for (const kind of scenario.planned) {
      if (
        ![
          "sigkill",
          "sigterm",
          "throttleStorm",
          "throttleStormNoRetryAfter",
          "serverErrors",
          "connectionResets",
          "truncatedBodies",
          "slowBodies",
        ].includes(kind)
      ) {
        figures.faultsByKind[kind] = (figures.faultsByKind[kind] ?? 0) + 1;
      }
    }
    // What the capture-driven behaviours produced, beside what was planned (O2, docs #5907).
    const count = (kind: string) => {
      figures.faultsByKind[kind] = (figures.faultsByKind[kind] ?? 0) + 1;
    };
    for (const a of actions) {
      if (foreignIds.has(a.id) || a.status !== "Cancelled") continue;
      // O2 proper: Cancelled although every command Completed.
      if (a.commands.length > 0 && a.commands.every((c) => c.commandStatus === "Completed")) {
        count(a.cancellationRequestor === emu.demoApp.clientId ? "o2OurCancelRaced" : "o2CancelledByOther");
      }
    }
    for (const r of records) if (r.kind === "duplicate") count("duplicateAnsweredExisting");
    const report = readReport(dirs.out);
    const checked = checkInvariants({
      scenario,
      records,
      actions,
      foreignActionIds: foreignIds,
      outDir: dirs.out,
      report,
      endedBy,
      ourAppId: emu.demoApp.clientId,
    });
    violations.push(...checked.violations);
    Object.assign(figures, checked.figures);

    const diff = diffTrees(
      before,
      snapshotTree(sandbox, (rel) => rel === "out" || rel.startsWith("out/")),
    );
    for (const rel of [...diff.added, ...diff.changed, ...diff.removed]) {
      violations.push({ invariant: "output-confined", detail: `written outside the output folder: ${rel}` });
    }
    for (const p of outputFolderEscapes(dirs.out))
      violations.push({ invariant: "output-confined", detail: p });
    for (const file of listFiles(dirs.out)) {
      for (const f of scanner.scan(path.relative(sandbox, file), readFileSync(file))) {
        violations.push({ invariant: "no-secret", detail: `${f.source}: ${f.kind} ${f.excerpt}` });
      }
    }
  } finally {
    await emu.close();
  }
  figures.realMs = Date.now() - started;
  const keep = options.keepSandbox === "always" || (options.keepSandbox !== "never" && violations.length > 0);
  if (!keep) {
    rmSync(sandbox, { recursive: true, force: true });
    rmSync(`${sandbox}.logs`, { recursive: true, force: true });
  }
  return { seed: scenario.seed, violations, figures, sandbox: keep ? sandbox : null };
}
