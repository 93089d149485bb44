/**
 * The action's world plus a fake GitHub REST API: the runner environment `@actions/github` reads
 * (GITHUB_API_URL, GITHUB_EVENT_NAME, GITHUB_EVENT_PATH with a real-shaped payload) on top of the MDE
 * emulator and the artifact fakes.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import type { EmulatorOptions } from "../../../shared/emulator/types.js";
import { type FakeGitHub, type FakeGitHubOptions, startFakeGitHub } from "./github-api.js";
import type { FakeRunner } from "./runner.js";
import { startWorld, type World } from "./world.js";

/** Tokens the fake GitHub knows (not secrets anywhere but here; the secret harness still hunts them). */
export const GH_TOKEN = "ghs_FakeInstallationToken000000000000001";
export const GH_TOKEN_READONLY = "ghs_FakeInstallationTokenReadOnly000002";

export interface GitHubWorld extends World {
  gh: FakeGitHub;
  /** A runner whose job was triggered by `event` (name + payload), in workflow run `runId`. */
  ghRunner(options?: {
    event?: { name: string; payload: Record<string, unknown> };
    runId?: string;
    env?: Record<string, string>;
  }): FakeRunner;
}

export async function startGitHubWorld(
  emulator: EmulatorOptions,
  gh: Omit<FakeGitHubOptions, "tokens" | "results"> = {},
): Promise<GitHubWorld> {
  const world = await startWorld(emulator);
  const fake = await startFakeGitHub({
    ...gh,
    results: world.results,
    tokens: {
      [GH_TOKEN]: { issues: "write", actions: "read" },
      [GH_TOKEN_READONLY]: { issues: "read", actions: "none" },
    },
  });
  let n = 0;
  return {
    ...world,
    gh: fake,
    ghRunner(options = {}) {
      const event = options.event ?? { name: "workflow_dispatch", payload: { inputs: {} } };
      const file = path.join(world.dir, `event-${++n}.json`);
      writeFileSync(file, JSON.stringify(event.payload));
      const runId = options.runId ?? "4242";
      return world.runner({
        GITHUB_API_URL: fake.url,
        GITHUB_EVENT_NAME: event.name,
        GITHUB_EVENT_PATH: file,
        GITHUB_WORKFLOW: "Incident response",
        GITHUB_RUN_ID: runId,
        // Each workflow run has its own artifact scope (names are unique per run).
        ACTIONS_RUNTIME_TOKEN: world.results.tokenFor(runId),
        MDE_LR_COMMENT_EDIT_INTERVAL_MS: "1000",
        ...(options.env ?? {}),
      });
    },
    async close() {
      await fake.close();
      await world.close();
    },
  };
}
