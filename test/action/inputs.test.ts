import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { defaultArtifactName, type Env, inputKey, readInputs, splitList } from "../../action/inputs.js";
import { ValidationError } from "../../shared/errors.js";

const ws = mkdtempSync(path.join(tmpdir(), "mde-inputs-"));
mkdirSync(path.join(ws, "runbooks"));
writeFileSync(path.join(ws, "runbooks", "triage.yml"), "name: triage\n");

const DEVICE = "a".repeat(40);
const TENANT = "11111111-2222-3333-4444-555555555555";
const CLIENT = "66666666-7777-8888-9999-000000000000";

function env(inputs: Record<string, string>, extra: Env = {}): Env {
  const e: Env = {
    GITHUB_WORKSPACE: ws,
    RUNNER_TEMP: "/runner/temp",
    GITHUB_JOB: "triage",
    GITHUB_RUN_ATTEMPT: "2",
    ...extra,
  };
  for (const [k, v] of Object.entries(inputs)) e[inputKey(k)] = v;
  return e;
}

function issues(e: Env): { path: string; message: string }[] {
  try {
    readInputs(e);
  } catch (error) {
    if (error instanceof ValidationError) return error.issues;
    throw error;
  }
  throw new Error("expected a ValidationError");
}

describe("action inputs", () => {
  it("keeps hyphens in INPUT_ names as the runner does", () => {
    expect(inputKey("client-id")).toBe("INPUT_CLIENT-ID");
    expect(inputKey("machine ids")).toBe("INPUT_MACHINE_IDS");
  });

  it("reads a runbook path with secret auth and applies the documented defaults", () => {
    const i = readInputs(
      env({
        runbook: "runbooks/triage.yml",
        "tenant-id": TENANT,
        "client-id": CLIENT,
        "client-secret": "s3cr3t-value",
      }),
    );
    expect(i.runbook).toEqual({ kind: "path", path: path.join(ws, "runbooks", "triage.yml") });
    expect(i.auth).toBe("secret");
    expect(i.cloud).toBe("public");
    expect(i.audience).toBe("api://AzureADTokenExchange");
    expect(i.retentionDays).toBe(7);
    expect(i.failOn).toBe("any");
    expect(i.uploadArtifact).toBe(true);
    expect(i.dryRun).toBe(false);
    expect(i.artifactName).toMatch(/^mde-lr-triage-attempt2-[0-9a-f]{8}$/);
    expect(i.outputDir).toBe(path.join("/runner/temp", "mde-lr", i.artifactName));
  });

  it("treats a multi-line runbook as inline YAML and keeps its indentation", () => {
    const text = "name: x\ntargets:\n  machineIds: [a]\n";
    const i = readInputs(env({ runbook: text, "access-token": "tok-123456" }));
    expect(i.runbook).toEqual({ kind: "inline", text });
    expect(i.auth).toBe("token");
    const flow = '{name: x, targets: {machineIds: [a]}, commands: [{getFile: "C:/x"}]}';
    expect(readInputs(env({ runbook: flow, "access-token": "tok-123456" })).runbook).toEqual({
      kind: "inline",
      text: flow,
    });
  });

  it("auto picks OIDC with a client id, no secret and an ID-token endpoint; audience follows the cloud", () => {
    const oidcEnv = { ACTIONS_ID_TOKEN_REQUEST_URL: "http://x/?a=1", ACTIONS_ID_TOKEN_REQUEST_TOKEN: "t" };
    const i = readInputs(
      env(
        {
          commands: "- runScript: a.ps1",
          "machine-ids": DEVICE,
          "tenant-id": TENANT,
          "client-id": CLIENT,
          cloud: "GCC-High",
        },
        oidcEnv,
      ),
    );
    expect(i.auth).toBe("oidc");
    expect(i.cloud).toBe("gcc-high");
    expect(i.audience).toBe("api://AzureADTokenExchangeUSGov");
    const custom = readInputs(
      env(
        {
          commands: "- runScript: a.ps1",
          "machine-ids": DEVICE,
          "tenant-id": TENANT,
          "client-id": CLIENT,
          audience: "api://custom",
        },
        oidcEnv,
      ),
    );
    expect(custom.audience).toBe("api://custom");
  });

  it("without id-token: write, auto explains how to grant it", () => {
    const found = issues(
      env({
        commands: "- runScript: a.ps1",
        "machine-ids": DEVICE,
        "tenant-id": TENANT,
        "client-id": CLIENT,
      }),
    );
    expect(found).toEqual([
      expect.objectContaining({ path: "auth", message: expect.stringContaining("id-token: write") }),
    ]);
  });

  it("splits machine ids on newlines and commas, lower-cases and de-duplicates them", () => {
    expect(splitList(" a, b\n\nc ,a \n")).toEqual(["a", "b", "c"]);
    const i = readInputs(
      env({
        commands: "- runScript: a.ps1",
        "machine-ids": `${DEVICE.toUpperCase()},\n${"b".repeat(40)}\n${DEVICE}`,
        "access-token": "tok-123456",
      }),
    );
    expect(i.machineIds).toEqual([DEVICE, "b".repeat(40)]);
  });

  it("reports every problem at once, each naming the input and the fix", () => {
    const found = issues(
      env({
        "machine-ids": "WS-01, 123",
        cloud: "mars",
        region: "moon",
        "api-url": "http://api.example.com",
        auth: "password",
        "upload-artifact": "yes",
        "retention-days": "365",
        "fail-on": "some",
        "dry-run": "1",
        "artifact-name": "results:C:\\x",
        "tenant-id": "not a tenant",
        "client-id": "abc",
      }),
    );
    const paths = found.map((f) => f.path);
    for (const p of [
      "runbook",
      "machine-ids",
      "cloud",
      "api-url",
      "auth",
      "upload-artifact",
      "retention-days",
      "fail-on",
      "dry-run",
      "artifact-name",
      "tenant-id",
      "client-id",
    ]) {
      expect(paths, p).toContain(p);
    }
    expect(found.find((f) => f.path === "machine-ids")?.message).toContain('"WS-01"');
    expect(found.find((f) => f.path === "retention-days")?.message).toContain("1 to 90");
    expect(found.find((f) => f.path === "api-url")?.message).toContain("https");
  });

  it("rejects a runbook path that is not in the workspace, suggesting checkout or a block scalar", () => {
    const found = issues(env({ runbook: "runbooks/missing.yml", "access-token": "tok-123456" }));
    expect(found[0]?.message).toMatch(/actions\/checkout.*runbook: \|/);
  });

  it("needs machine-ids with commands, and not both runbook and commands", () => {
    expect(issues(env({ commands: "- runScript: a.ps1", "access-token": "tok-123456" }))[0]?.path).toBe(
      "machine-ids",
    );
    expect(
      issues(
        env({ runbook: "runbooks/triage.yml", commands: "- runScript: a.ps1", "access-token": "tok-123456" }),
      )[0]?.path,
    ).toBe("runbook");
  });

  it("caps retention at the repository maximum (GITHUB_RETENTION_DAYS)", () => {
    const base = { runbook: "runbooks/triage.yml", "access-token": "tok-123456" };
    expect(readInputs(env(base, { GITHUB_RETENTION_DAYS: "3" })).retentionDays).toBe(3);
    expect(
      issues(env({ ...base, "retention-days": "5" }, { GITHUB_RETENTION_DAYS: "3" }))[0]?.message,
    ).toContain("1 to 3");
    expect(issues(env({ ...base, "retention-days": "0" }))[0]?.path).toBe("retention-days");
  });

  it("names the missing fields of an explicit auth mode", () => {
    const found = issues(env({ runbook: "runbooks/triage.yml", auth: "certificate" }));
    expect(found.map((f) => f.path).sort()).toEqual(["client-certificate", "client-id", "tenant-id"]);
    const noKey = issues(
      env({
        runbook: "runbooks/triage.yml",
        "tenant-id": TENANT,
        "client-id": CLIENT,
        "client-certificate": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
      }),
    );
    expect(noKey[0]?.message).toContain("no private key");
  });

  it("gives matrix legs, steps and re-runs different default artifact names", () => {
    const src = { kind: "commands" as const, text: "- runScript: a.ps1" };
    const a = defaultArtifactName({ GITHUB_JOB: "triage", GITHUB_RUN_ATTEMPT: "1" }, src, [DEVICE]);
    const b = defaultArtifactName({ GITHUB_JOB: "triage", GITHUB_RUN_ATTEMPT: "1" }, src, ["b".repeat(40)]);
    const c = defaultArtifactName({ GITHUB_JOB: "triage", GITHUB_RUN_ATTEMPT: "2" }, src, [DEVICE]);
    const d = defaultArtifactName(
      { GITHUB_JOB: "triage", GITHUB_RUN_ATTEMPT: "1", GITHUB_ACTION: "second" },
      src,
      [DEVICE],
    );
    expect(new Set([a, b, c, d]).size).toBe(4);
    expect(defaultArtifactName({ GITHUB_JOB: "a:b/c" }, src, [])).not.toMatch(/[:/]/);
  });
});

describe("GitHub-side inputs", () => {
  const base = {
    GITHUB_WORKSPACE: process.cwd(),
    GITHUB_REPOSITORY: "contoso/ir-runbooks",
    [inputKey("access-token")]: "tok-123456",
  };
  const issuesOf = (env: Record<string, string>) => {
    try {
      readInputs(env);
      return [];
    } catch (error) {
      return (error as ValidationError).issues.map((i) => `${i.path}: ${i.message}`);
    }
  };

  it("lists every GitHub-side mistake at once, naming the input", () => {
    const found = issuesOf({
      ...base,
      [inputKey("resume-from")]: "yesterday",
      [inputKey("detach-after")]: "soon",
      [inputKey("job-timeout-minutes")]: "5",
      [inputKey("issue")]: "#abc",
      [inputKey("chatops-permission")]: "triage",
      [inputKey("runbook-dir")]: "../elsewhere",
    });
    for (const name of [
      "resume-from",
      "detach-after",
      "job-timeout-minutes",
      "issue",
      "chatops-permission",
      "runbook-dir",
    ]) {
      expect(
        found.some((f) => f.startsWith(`${name}:`)),
        `${name} in ${found.join("\n")}`,
      ).toBe(true);
    }
  });

  it("resume-from takes no runbook, needs a token, and is no dry run", () => {
    const found = issuesOf({
      ...base,
      [inputKey("resume-from")]: "latest",
      [inputKey("runbook")]: "runbooks/triage.yml",
      [inputKey("dry-run")]: "true",
    });
    expect(found.join("\n")).toContain("runbook: not with `resume-from`");
    expect(found.join("\n")).toContain("github-token: required");
    expect(found.join("\n")).toContain("dry-run: cannot be combined with `resume-from`");
  });

  it("chatops needs an issue_comment event; find-pending needs no Defender credentials", () => {
    expect(
      issuesOf({ ...base, [inputKey("chatops")]: "true", [inputKey("github-token")]: "t" }).join("\n"),
    ).toContain("chatops: needs an `issue_comment` event");
    const { GITHUB_WORKSPACE, GITHUB_REPOSITORY } = base;
    const inputs = readInputs({
      GITHUB_WORKSPACE,
      GITHUB_REPOSITORY,
      [inputKey("find-pending")]: "true",
      [inputKey("github-token")]: "t",
    });
    expect(inputs.github.findPending).toBe(true);
  });
});
