/**
 * The seeded chaos subset inside `npm test` (the full suite is `npm run chaos -- --runs 1000`): a few
 * scenarios chosen to cover every fault family, each run through the real `mde-lr` CLI in processes
 * that are SIGKILLed and resumed, checked against the emulator's records (test/chaos/harness).
 * Invariants hold for every interleaving if the code is right, so real-time scheduling cannot make
 * this test flaky; a failure prints the seed and keeps the sandbox + per-process logs.
 */
import os from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { buildFrontEnds, type FrontEndBundles } from "./harness/build-worker.js";
import { type RunOutcome, runScenario } from "./harness/driver.js";
import { generateScenario } from "./harness/scenario.js";

// Seeds picked (from generateScenario with these options) so that together they include SIGKILL at
// several points, 429 storms with and without Retry-After, 5xx, resets before/after processing, slow
// bodies, short-lived links and tokens, busy, offline and failing devices, missing files and hostile paths.
const SEEDS = [6, 13, 16, 22, 29, 31, 36, 47];
const OPTIONS = { maxDevices: 4 };
const SCALE = 400;

let bundles: FrontEndBundles;
const outcomes: RunOutcome[] = [];

beforeAll(async () => {
  bundles = await buildFrontEnds();
  const tmpRoot = path.join(os.tmpdir(), `mde-lr-chaos-test-${process.pid}`);
  const queue = [...SEEDS];
  const worker = async (): Promise<void> => {
    for (let seed = queue.shift(); seed !== undefined; seed = queue.shift()) {
      outcomes.push(
        await runScenario(generateScenario(seed, OPTIONS), {
          bundles,
          frontEnd: "cli",
          scale: SCALE,
          tmpRoot,
          keepSandbox: "onViolation",
        }),
      );
    }
  };
  await Promise.all([worker(), worker(), worker()]);
}, 120_000);

describe("chaos subset (mde-lr CLI, SIGKILL + resume, seeded faults)", () => {
  it("keeps every invariant on every seed", () => {
    const failed = outcomes
      .filter((o) => o.violations.length > 0)
      .map((o) => ({ seed: o.seed, sandbox: o.sandbox, violations: o.violations.slice(0, 8) }));
    expect(failed).toEqual([]);
  });

  it("actually exercised what it claims (kills, resumes, faults, results)", () => {
    const sum = (f: (o: RunOutcome) => number) => outcomes.reduce((n, o) => n + f(o), 0);
    expect(outcomes).toHaveLength(SEEDS.length);
    // Kill points are real-time delays: a fast machine may finish a process first, so only "some".
    expect(sum((o) => o.figures.kills)).toBeGreaterThanOrEqual(1);
    // A kill during start-up (before run.json) means a fresh `run`, later ones a `resume`.
    expect(sum((o) => o.figures.resumes + o.figures.restarts)).toBeGreaterThanOrEqual(1);
    expect(sum((o) => o.figures.resultsExpected)).toBeGreaterThan(10);
    expect(sum((o) => o.figures.submissions)).toBeGreaterThan(10);
    // Per-call faults on dozens of calls per run are certain; timed ones (storms) depend on the machine's
    // speed, so for those the plan is checked, not the hit.
    const injected = new Set(outcomes.flatMap((o) => Object.keys(o.figures.faultsByKind)));
    for (const k of [
      "serverError",
      "resetBefore",
      "resetAfter",
      "slowBody",
      "busyDevice",
      "offlinePastTimeout",
      "failingCommand",
      "hostilePath",
      "tokenExpiry",
    ]) {
      expect(injected, `fault kind ${k} never injected`).toContain(k);
    }
    const planned = new Set(SEEDS.flatMap((seed) => generateScenario(seed, OPTIONS).planned));
    for (const k of [
      "throttleStorm",
      "throttleStormNoRetryAfter",
      "sigkill",
      "sigterm",
      "truncatedBodies",
      "shortLinkValidity",
      "offlineThenOnline",
      "missingFile",
      // Capture-driven service behaviours (shared/real-captures O2, D5, R5, R3).
      "cancelRace",
      "cancelledByOther",
      "sparseMachine",
      "releaseName",
      "serviceSasLinks",
    ]) {
      expect(planned, `fault family ${k} not planned`).toContain(k);
    }
  });
});
