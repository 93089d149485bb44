/**
 * `npm run chaos -- --runs 1000 --seed 1`: seeded chaos runs against the emulator (see README
 * "Reliability"). Seeds seed..seed+runs-1; every run is reproducible alone with `--runs 1 --seed <s>`.
 * Prints the figures (runs, faults by kind, kills + resumes, results recovered / expected, duplicate
 * submissions, invariant violations, wall time) and exits 1 on any violation.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { buildFrontEnds } from "../test/chaos/harness/build-worker.js";
import { type RunOutcome, runScenario } from "../test/chaos/harness/driver.js";
import { repoRoot } from "../test/chaos/harness/repo-root.js";
import { generateScenario } from "../test/chaos/harness/scenario.js";
import { diffTrees, snapshotTree } from "../test/chaos/harness/snapshot.js";
import { runActionInputsFuzz } from "../test/fuzz/action-inputs.property.js";

interface Args {
  runs: number;
  seed: number;
  concurrency: number;
  scale: number;
  keep: boolean;
  json: string | null;
  maxDevices: number;
  frontEnd: "cli" | "core";
  fuzz: number;
  runsGiven: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = {
    runs: 100,
    seed: 1,
    concurrency: 4,
    // Service ms per real ms. Higher makes runs shorter but turns process start-up and scheduling
    // jitter (~0.5 s real per process) into more service minutes; 400 keeps them at ~3 minutes.
    scale: 400,
    keep: false,
    json: null,
    maxDevices: 8,
    frontEnd: "cli",
    fuzz: 0,
    runsGiven: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = (): string => {
      const value = argv[++i];
      if (value === undefined) throw new Error(`${a} needs a value`);
      return value;
    };
    const num = (name: string, min: number): number => {
      const n = Number(next());
      if (!Number.isFinite(n) || n < min) throw new Error(`${name} must be a number ≥ ${min}`);
      return n;
    };
    if (a === "--runs") {
      args.runs = Math.floor(num("--runs", 1));
      args.runsGiven = true;
    } else if (a === "--seed") args.seed = Math.floor(num("--seed", 0));
    else if (a === "--concurrency") args.concurrency = Math.floor(num("--concurrency", 1));
    else if (a === "--scale") args.scale = num("--scale", 1);
    else if (a === "--max-devices") args.maxDevices = Math.floor(num("--max-devices", 1));
    else if (a === "--keep") args.keep = true;
    else if (a === "--front-end") {
      const v = next();
      if (v !== "cli" && v !== "core") throw new Error("--front-end must be cli or core");
      args.frontEnd = v;
    } else if (a === "--fuzz") args.fuzz = Math.floor(num("--fuzz", 1));
    else if (a === "--json") args.json = next();
    else if (a === "--help" || a === "-h") {
      process.stdout.write(
        "Usage: npm run chaos -- [--runs N] [--seed S] [--concurrency C] [--scale X] [--max-devices N] [--front-end cli|core] [--keep] [--json FILE]\n" +
          "       npm run chaos -- --fuzz N [--seed S]   (action inputs + runbook parser, N generated documents each)\n",
      );
      process.exit(0);
    } else throw new Error(`unknown option ${a} (try --help)`);
  }
  return args;
}

function add(into: Record<string, number>, from: Record<string, number>): void {
  for (const [k, n] of Object.entries(from)) into[k] = (into[k] ?? 0) + n;
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const root = repoRoot();
  const started = Date.now();
  if (args.fuzz > 0) {
    const t = Date.now();
    const counts = await runActionInputsFuzz(args.fuzz, args.seed);
    process.stdout.write(
      `fuzz action inputs: ${counts.cases} generated input sets, ${counts.rejectedInputs} rejected by input validation, ${counts.rejectedRunbook} by runbook validation, ${counts.accepted} accepted; 0 crashes (${((Date.now() - t) / 1000).toFixed(1)} s)\n`,
    );
    // The runbook engineer's long run of the parser properties (test/runbook/fuzz.test.ts).
    const r = spawnSync(
      process.execPath,
      ["scripts/fuzz-runbook.mjs", String(args.fuzz), String(args.seed)],
      {
        cwd: root,
        stdio: "inherit",
      },
    );
    if (r.status !== 0) return 1;
    if (!args.runsGiven) return 0;
  }
  const bundles = await buildFrontEnds();
  // Absolute device paths (e.g. "/../../tmp/escape") would land outside any sandbox: watch those places.
  const canaries = [
    "/tmp/escape",
    "/tmp/$(touch pwned)",
    "/tmp/pwned",
    path.join(root, "escape-posix"),
    path.join(root, "escape.txt"),
  ];
  const canariesBefore = canaries.filter((c) => existsSync(c));
  const repoBefore = snapshotTree(root, (rel) =>
    /^(node_modules|\.git|\.tmp|lib|dist|coverage|bench\/results)(\/|$)/.test(rel),
  );
  const tmpRoot = path.join(os.tmpdir(), `mde-lr-chaos-${process.pid}`);
  mkdirSync(tmpRoot, { recursive: true });
  const seeds = Array.from({ length: args.runs }, (_, i) => args.seed + i);
  const outcomes: RunOutcome[] = [];
  let next = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    while (next < seeds.length) {
      const seed = seeds[next++] as number;
      const scenario = generateScenario(seed, { maxDevices: args.maxDevices });
      let outcome: RunOutcome;
      try {
        outcome = await runScenario(scenario, {
          bundles,
          frontEnd: args.frontEnd,
          scale: args.scale,
          tmpRoot,
          keepSandbox: args.keep ? "always" : "onViolation",
        });
      } catch (error) {
        outcome = {
          seed,
          violations: [
            {
              invariant: "run-finishes",
              detail: `harness error: ${error instanceof Error ? error.stack : String(error)}`,
            },
          ],
          figures: {
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
          },
          sandbox: null,
        };
      }
      outcomes.push(outcome);
      done++;
      if (outcome.violations.length > 0) {
        process.stdout.write(
          `✗ seed ${seed}: ${outcome.violations.length} violation(s)${outcome.sandbox ? ` (sandbox ${outcome.sandbox})` : ""}\n`,
        );
        for (const v of outcome.violations.slice(0, 5))
          process.stdout.write(`    [${v.invariant}] ${v.detail}\n`);
      }
      if (done % 50 === 0 || done === seeds.length) {
        process.stdout.write(
          `… ${done}/${seeds.length} runs, ${((Date.now() - started) / 1000).toFixed(0)} s\n`,
        );
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(args.concurrency, seeds.length) }, worker));

  const faults: Record<string, number> = {};
  const statuses: Record<string, number> = {};
  const byInvariant: Record<string, number> = {};
  let kills = 0;
  let resumes = 0;
  let restarts = 0;
  let sigterms = 0;
  let expected = 0;
  let recovered = 0;
  let duplicates = 0;
  let submissions = 0;
  let violations = 0;
  let errors = 0;
  for (const o of outcomes) {
    add(faults, o.figures.faultsByKind);
    statuses[o.figures.finalStatus ?? "none"] = (statuses[o.figures.finalStatus ?? "none"] ?? 0) + 1;
    kills += o.figures.kills;
    resumes += o.figures.resumes;
    restarts += o.figures.restarts;
    sigterms += o.figures.sigterms;
    expected += o.figures.resultsExpected;
    recovered += o.figures.resultsRecovered;
    duplicates += o.figures.duplicateSubmissions;
    submissions += o.figures.submissions;
    errors += o.figures.errors.length;
    violations += o.violations.length;
    for (const v of o.violations) byInvariant[v.invariant] = (byInvariant[v.invariant] ?? 0) + 1;
  }
  const escaped = canaries.filter((c) => existsSync(c) && !canariesBefore.includes(c));
  // Only new files whose names come from the hostile device paths count: other engineers edit the repo too.
  const repoAdded = diffTrees(
    repoBefore,
    snapshotTree(root, (rel) =>
      /^(node_modules|\.git|\.tmp|lib|dist|coverage|bench\/results)(\/|$)/.test(rel),
    ),
  ).added.filter((rel) => /escape|pwned|passwd|shadow|id_rsa|loot|win\.ini|NTUSER/i.test(rel));
  for (const e of [...escaped, ...repoAdded]) {
    violations++;
    byInvariant["output-confined"] = (byInvariant["output-confined"] ?? 0) + 1;
    process.stdout.write(`✗ written outside every sandbox: ${e}\n`);
  }
  const wallS = (Date.now() - started) / 1000;
  const failedSeeds = outcomes
    .filter((o) => o.violations.length > 0)
    .map((o) => o.seed)
    .sort((a, b) => a - b);
  const summary = {
    runs: outcomes.length,
    seed: args.seed,
    scale: args.scale,
    concurrency: args.concurrency,
    wallSeconds: Number(wallS.toFixed(1)),
    faultsByKind: Object.fromEntries(Object.entries(faults).sort()),
    kills,
    resumes,
    restartsBeforeRunFile: restarts,
    sigterms,
    processErrorsResumed: errors,
    submissions,
    resultsRecovered: recovered,
    resultsExpected: expected,
    duplicateSubmissions: duplicates,
    finalStatuses: statuses,
    violations,
    violationsByInvariant: byInvariant,
    failedSeeds,
  };
  const rows: [string, string][] = [
    ["runs", `${summary.runs} (seeds ${args.seed}..${args.seed + args.runs - 1}, clock ×${args.scale})`],
    [
      "faults injected",
      Object.entries(summary.faultsByKind)
        .map(([k, n]) => `${k} ${n}`)
        .join(", ") || "none",
    ],
    [
      "kills (SIGKILL) + resumes",
      `${kills} + ${resumes} (plus ${restarts} restarts killed before run.json, ${sigterms} SIGTERM)`,
    ],
    ["submissions", String(submissions)],
    ["results recovered / expected", `${recovered} / ${expected}`],
    ["duplicate submissions", String(duplicates)],
    [
      "final statuses",
      Object.entries(statuses)
        .map(([k, n]) => `${k} ${n}`)
        .join(", "),
    ],
    [
      "invariant violations",
      `${violations}${
        violations
          ? ` (${Object.entries(byInvariant)
              .map(([k, n]) => `${k} ${n}`)
              .join(", ")})`
          : ""
      }`,
    ],
    [
      "wall time",
      `${wallS.toFixed(1)} s (mean ${(outcomes.reduce((n, o) => n + o.figures.realMs, 0) / Math.max(1, outcomes.length) / 1000).toFixed(1)} s per run, ${args.concurrency} at a time)`,
    ],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  process.stdout.write("\nchaos figures\n");
  for (const [k, val] of rows) process.stdout.write(`  ${k.padEnd(width)}  ${val}\n`);
  if (args.json) {
    const file = path.resolve(root, args.json);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(
      file,
      `${JSON.stringify({ ...summary, outcomes: outcomes.filter((o) => o.violations.length > 0) }, null, 2)}\n`,
    );
  }
  if (failedSeeds.length > 0) {
    process.stdout.write(
      `\nFAILED: reproduce with  npm run chaos -- --runs 1 --seed <seed> --keep   (seeds: ${failedSeeds.slice(0, 20).join(", ")}${failedSeeds.length > 20 ? ", …" : ""})\n`,
    );
    return 1;
  }
  if (escaped.length + repoAdded.length > 0) return 1;
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`chaos: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 2;
  },
);
