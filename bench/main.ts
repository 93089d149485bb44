/**
 * Runs each benchmark in its own process (so one's memory and CPU never colour another's figures),
 * then prints every figure against its goal and writes bench/results/summary.json.
 *
 *   npm run bench                      all benchmarks
 *   npm run bench -- --only=download   a subset (emulator, startup, download, report-page, fleet)
 *   npm run bench -- --quick           smaller fleets, fewer repetitions (a smoke run, not the figures)
 *   npm run bench -- --strict          exit 1 when a goal is missed
 *   npm run bench -- --report-only     run nothing; print the verdicts of the results already in bench/results/
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import {
  type BenchResult,
  environment,
  type Figure,
  figure,
  formatGoal,
  formatNumber,
  table,
  verdict,
  writeResult,
} from "./harness/report.js";

interface BenchSpec {
  name: string;
  timeoutMs: number;
}

// Emulator first: if it cannot serve 2,000 req/s, every other figure is suspect.
const BENCHES: BenchSpec[] = [
  { name: "emulator", timeoutMs: 120_000 },
  { name: "startup", timeoutMs: 120_000 },
  { name: "download", timeoutMs: 240_000 },
  // Before the fleet: it is short (~30 s), and the fleet trims its own configurations to the deadline.
  { name: "report-page", timeoutMs: 150_000 },
  { name: "fleet", timeoutMs: 540_000 },
];
const TOTAL_BUDGET_MS = 600_000;

function parseArgs(argv: string[]) {
  const only = argv.find((a) => a.startsWith("--only="))?.slice("--only=".length);
  const unknown = argv.filter((a) => !/^--(only=.+|quick|strict|report-only)$/.test(a));
  if (unknown.length > 0) {
    throw new Error(
      `unknown option ${unknown.join(" ")}; use --only=<names>, --quick, --strict, --report-only`,
    );
  }
  const names = only ? only.split(",").map((s) => s.trim()) : BENCHES.map((b) => b.name);
  for (const n of names) {
    if (!BENCHES.some((b) => b.name === n)) {
      throw new Error(
        `--only: unknown benchmark "${n}"; choose from ${BENCHES.map((b) => b.name).join(", ")}`,
      );
    }
  }
  return {
    names,
    quick: argv.includes("--quick"),
    strict: argv.includes("--strict"),
    reportOnly: argv.includes("--report-only"),
  };
}

interface RunOutcome {
  /** null when the bundle is missing (does not build). */
  code: number | null;
  ms: number;
  killed: boolean;
}

function runOne(spec: BenchSpec, quick: boolean, deadline: number): Promise<RunOutcome> {
  const script = path.join(path.dirname(process.argv[1]!), `${spec.name}.mjs`);
  const started = Date.now();
  if (!existsSync(script)) return Promise.resolve({ code: null, ms: 0, killed: false });
  // Past the run's deadline a benchmark is stopped; it gets a few seconds to write what it measured.
  const timeoutMs = Math.max(15_000, Math.min(spec.timeoutMs, deadline + 10_000 - started));
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--enable-source-maps", script], {
      stdio: "inherit",
      env: {
        ...process.env,
        BENCH_OUT: path.join("bench", "results", `${spec.name}.json`),
        BENCH_DEADLINE: String(deadline),
        ...(quick ? { BENCH_QUICK: "1" } : {}),
      },
    });
    let killed = false;
    const timer = setTimeout(() => {
      console.error(`\n${spec.name}: still running after ${Math.round(timeoutMs / 1000)} s, stopping it`);
      killed = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, ms: Date.now() - started, killed });
    });
  });
}

function readResult(name: string): BenchResult | null {
  const file = path.join("bench", "results", `${name}.json`);
  if (!existsSync(file)) return null;
  const parsed = JSON.parse(readFileSync(file, "utf8")) as Partial<BenchResult>;
  return Array.isArray(parsed.figures) ? (parsed as BenchResult) : null;
}

async function main(): Promise<number> {
  const { names, quick, strict, reportOnly } = parseArgs(process.argv.slice(2));
  const started = Date.now() - Number(process.env["BENCH_PREPARED_MS"] ?? 0);
  // Leave 15 s for the summary; each benchmark is told the deadline and trims itself to it.
  const deadline = started + TOTAL_BUDGET_MS - 15_000;
  const summary: { bench: string; figure: Figure }[] = [];
  const runs: Record<string, unknown>[] = [];
  let crashed = 0;
  for (const spec of BENCHES.filter((b) => names.includes(b.name))) {
    console.log(`\n=== ${spec.name}`);
    if (!reportOnly) rmSync(path.join("bench", "results", `${spec.name}.json`), { force: true });
    const { code, ms, killed } = reportOnly
      ? { code: 0, ms: 0, killed: false }
      : await runOne(spec, quick, deadline);
    // A benchmark stopped at the deadline may still have written what it measured so far.
    const result = readResult(spec.name);
    runs.push({ bench: spec.name, exitCode: code, durationMs: ms, stoppedAtDeadline: killed });
    if (killed && result)
      console.error(`${spec.name}: stopped at the time budget; reporting what it measured`);
    if (!result) {
      crashed++;
      const why = killed
        ? `stopped after ${Math.round(ms / 1000)} s (time budget) before writing results`
        : code === null
          ? `bench/${spec.name}.ts does not build yet`
          : `exited ${code} without results`;
      console.error(`${spec.name}: ${why}`);
      summary.push({
        bench: spec.name,
        figure: figure(spec.name, "ran", null, "", { op: ">=", target: 1 }, why),
      });
      continue;
    }
    for (const f of result.figures) summary.push({ bench: spec.name, figure: f });
    console.log(`${spec.name}: ${(ms / 1000).toFixed(1)} s`);
  }
  const totalMs = Date.now() - started;
  const total = figure("total", "npm run bench, total time", totalMs / 1000, "s", {
    op: "<=",
    target: TOTAL_BUDGET_MS / 1000,
  });
  if (names.length === BENCHES.length && !quick && !reportOnly) summary.push({ bench: "all", figure: total });

  console.log("\n=== summary (every figure against its goal)");
  console.log(
    table(
      ["bench", "figure", "value", "goal", "verdict"],
      summary.map(({ bench, figure: f }) => [
        bench,
        f.label,
        `${formatNumber(f.value, f.value !== null && Math.abs(f.value) < 10 && f.value % 1 ? 2 : 0)} ${f.unit}`.trim(),
        formatGoal(f.goal, f.unit),
        f.pass === null && f.note ? `not measured: ${f.note}` : verdict(f),
      ]),
    ),
  );
  const missed = summary.filter((s) => s.figure.pass === false).length;
  const unmeasured = summary.filter((s) => s.figure.goal && s.figure.pass === null).length;
  console.log(
    `\n${missed} goal(s) missed, ${unmeasured} not measured, total ${(totalMs / 1000).toFixed(0)} s`,
  );
  writeResult({
    bench: "summary",
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(" ")}` : ""}`,
    startedAt: new Date(started).toISOString(),
    durationMs: totalMs,
    environment: environment(),
    figures: summary.map((s) => ({ ...s.figure, id: `${s.bench}.${s.figure.id}` })),
    rows: runs,
    notes: [],
  });
  if (crashed > 0) return 1;
  return strict && missed > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(2);
  },
);
