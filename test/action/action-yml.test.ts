/**
 * action.yml and the code agree: every declared input is read, every default the runner passes gives
 * the same result as the code's own default (the runner passes `default:` values as INPUT_*), and the
 * entry points exist.
 */
import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { type Env, inputKey, readInputs } from "../../action/inputs.js";

interface ActionYml {
  runs: { using: string; main: string; post: string };
  branding: { icon: string; color: string };
  inputs: Record<string, { description: string; required?: boolean; default?: string }>;
  outputs: Record<string, { description: string }>;
}

const yml = parse(readFileSync("action.yml", "utf8")) as ActionYml;
const source = readFileSync("action/inputs.ts", "utf8");
const githubSource = ["action/github/inputs.ts", "action/auth-inputs.ts"]
  .map((f) => readFileSync(f, "utf8"))
  .join("\n");

describe("action.yml", () => {
  it("runs on node24 with main and post entries that exist", () => {
    expect(yml.runs.using).toBe("node24");
    expect(existsSync(yml.runs.main)).toBe(true);
    expect(existsSync(yml.runs.post)).toBe(true);
    expect(yml.branding.icon).toBeTruthy();
  });

  it("declares every input the issue lists, each documented and read by the code", () => {
    const expected = [
      "runbook",
      "commands",
      "machine-ids",
      "cloud",
      "region",
      "api-url",
      "auth",
      "tenant-id",
      "client-id",
      "client-secret",
      "client-certificate",
      "access-token",
      "audience",
      "output-dir",
      "upload-artifact",
      "artifact-name",
      "retention-days",
      "fail-on",
      "dry-run",
      "github-token",
      "issue",
      "issue-comment",
      "issue-labels",
      "chatops",
      "chatops-permission",
      "runbook-dir",
      "detach-after",
      "job-timeout-minutes",
      "resume-from",
      "find-pending",
    ];
    expect(Object.keys(yml.inputs).sort()).toEqual([...expected].sort());
    for (const [name, input] of Object.entries(yml.inputs)) {
      expect(input.description.length, name).toBeGreaterThan(20);
      // The runner does not enforce `required: true`; the code validates instead.
      expect(input.required, name).not.toBe(true);
      expect(source + githubSource, name).toContain(`"${name}"`);
    }
    expect(Object.keys(yml.outputs).sort()).toEqual(
      [
        "action-ids",
        "artifact-id",
        "artifact-url",
        "report",
        "status",
        "summary",
        "run-id",
        "issue-comment-url",
        "pending-runs",
      ].sort(),
    );
  });

  it("defaults passed by the runner equal the code's defaults", () => {
    const base: Env = {
      GITHUB_WORKSPACE: process.cwd(),
      RUNNER_TEMP: "/runner/temp",
      [inputKey("commands")]: "- runScript: a.ps1",
      [inputKey("machine-ids")]: "a".repeat(40),
      [inputKey("access-token")]: "tok-123456",
    };
    const withDefaults: Env = { ...base };
    for (const [name, input] of Object.entries(yml.inputs)) {
      // `${{ github.token }}` is an expression the runner evaluates; the code sees a token, not this text.
      if (input.default !== undefined && !input.default.startsWith("${{"))
        withDefaults[inputKey(name)] = input.default;
    }
    expect(Object.keys(withDefaults).length).toBeGreaterThan(Object.keys(base).length + 4);
    expect(readInputs(withDefaults)).toEqual(readInputs(base));
  });
});
