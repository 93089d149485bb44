/**
 * Reads and validates the action's inputs. The runner does not enforce `required: true`
 * (actions/runner#1070), so every rule lives here and every problem is reported at once, each naming
 * the input and the fix, before anything is sent to Defender for Endpoint.
 */
import { createHash } from "node:crypto";
import { existsSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  apiUrlFor,
  type CloudName,
  cloudProfile,
  normaliseServiceUrl,
  parseCloudName,
} from "../shared/config/clouds.js";
import { InputError, ValidationError, type ValidationIssue } from "../shared/errors.js";
import { type AuthMode, readAuth, readCertificate } from "./auth-inputs.js";
import { type GitHubInputs, readGitHubInputs } from "./github/inputs.js";
import {
  ARTIFACT_NAME_FORBIDDEN,
  DOMAIN,
  type Env,
  GUID,
  MACHINE_ID,
  parseBoolean,
  parseChoice,
  raw,
  splitList,
  text,
} from "./input-values.js";

export type { AuthMode } from "./auth-inputs.js";
export { type Env, inputKey, splitList } from "./input-values.js";

export type FailOn = "any" | "all" | "never";

export type RunbookSource =
  | { kind: "path"; path: string }
  | { kind: "inline"; text: string }
  | { kind: "commands"; text: string }
  /** ChatOps (the comment names the runbook), resume-from (the pending run has it), find-pending. */
  | { kind: "none" };

export interface ActionInputs {
  runbook: RunbookSource;
  machineIds: string[];
  cloud: CloudName;
  region: string | null;
  apiUrl: string | null;
  auth: Exclude<AuthMode, "auto">;
  tenantId: string | null;
  clientId: string | null;
  clientSecret: string | null;
  clientCertificate: { pem: string } | { path: string } | null;
  accessToken: string | null;
  audience: string;
  outputDir: string;
  uploadArtifact: boolean;
  artifactName: string;
  retentionDays: number;
  failOn: FailOn;
  dryRun: boolean;
  /** Folder relative runbook paths resolve from. */
  workspace: string;
  github: GitHubInputs;
}

/** Which input, if any, supplies the runbook instead of `runbook` / `commands`. */
function externalSource(gh: GitHubInputs): string | null {
  if (gh.findPending) return "find-pending";
  if (gh.resumeFrom) return "resume-from";
  if (gh.chatops) return "chatops";
  return null;
}

function readRunbookSource(
  env: Env,
  workspace: string,
  external: string | null,
  issues: ValidationIssue[],
): RunbookSource {
  // Block scalars keep their line breaks: do not trim inline YAML (indentation matters).
  const runbook = raw(env, "runbook");
  const commands = raw(env, "commands");
  const hasRunbook = runbook.trim() !== "";
  const hasCommands = commands.trim() !== "";
  if (external !== null) {
    const given = ["runbook", "commands", "machine-ids"].filter((n) => raw(env, n).trim() !== "");
    for (const name of given) {
      issues.push({
        path: name,
        message:
          external === "chatops"
            ? "not with `chatops`: the comment names the runbook (from `runbook-dir`) and the device ids"
            : external === "resume-from"
              ? "not with `resume-from`: the pending run's folder holds its runbook and devices"
              : "not with `find-pending`, which only lists pending runs",
      });
    }
    return { kind: "none" };
  }
  if (hasRunbook && hasCommands) {
    issues.push({
      path: "runbook",
      message:
        "give either `runbook` or `commands`, not both (put the steps under `commands:` in the runbook)",
    });
  }
  if (hasCommands && !hasRunbook) return { kind: "commands", text: commands };
  if (!hasRunbook) {
    issues.push({
      path: "runbook",
      message:
        "required: a runbook path in the repository (e.g. `runbooks/triage.yml`), inline runbook YAML (`runbook: |`), or `commands` with `machine-ids`",
    });
    return { kind: "inline", text: "" };
  }
  // A path is one line; anything with a line break (or a one-line flow mapping) is the runbook itself.
  if (runbook.trim().includes("\n") || runbook.trim().startsWith("{"))
    return { kind: "inline", text: runbook };
  const rel = runbook.trim();
  const abs = path.resolve(workspace, rel);
  if (!existsSync(abs) || !statSync(abs).isFile()) {
    issues.push({
      path: "runbook",
      message: `file "${rel}" not found in the workspace ${workspace}; check the repository out first (actions/checkout), or pass the runbook inline as a block scalar (\`runbook: |\`)`,
    });
  }
  return { kind: "path", path: abs };
}

function readMachineIds(env: Env, source: RunbookSource, issues: ValidationIssue[]): string[] {
  if (source.kind === "none") return [];
  const given = splitList(raw(env, "machine-ids"));
  const bad = given.filter((id) => !MACHINE_ID.test(id.toLowerCase()));
  const ids = [...new Set(given.map((id) => id.toLowerCase()))];
  if (bad.length > 0) {
    const shown = bad
      .slice(0, 3)
      .map((b) => `"${b.slice(0, 60)}"`)
      .join(", ");
    issues.push({
      path: "machine-ids",
      message: `${bad.length} value(s) are not device ids (40 hex characters): ${shown}${bad.length > 3 ? ", ..." : ""}. Copy the id from the device page or \`GET /api/machines\`; separate ids with newlines or commas`,
    });
  }
  if (source.kind === "commands" && ids.length === 0) {
    issues.push({
      path: "machine-ids",
      message: "required with `commands`: list the device ids to run on (newline or comma separated)",
    });
  }
  return ids;
}

/** Runs a core validator and turns its InputError into an issue (so all problems are listed at once). */
function collect<T>(issues: ValidationIssue[], fallback: T, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    issues.push({ path: error.field, message: error.message.slice(error.field.length + 2) });
    return fallback;
  }
}

function readRetention(env: Env, issues: ValidationIssue[]): number {
  const max = Number.parseInt(env["GITHUB_RETENTION_DAYS"] ?? "", 10) || 90;
  const v = text(env, "retention-days");
  if (v === null) return Math.min(7, max);
  const n = /^\d+$/.test(v) ? Number.parseInt(v, 10) : Number.NaN;
  if (!(n >= 1 && n <= max)) {
    issues.push({
      path: "retention-days",
      message: `must be a whole number of days from 1 to ${max} (the repository's maximum); got "${v}"`,
    });
    return Math.min(7, max);
  }
  return n;
}

/**
 * Default artifact name: unique across matrix legs (they share GITHUB_JOB, so a hash of what the step
 * runs tells them apart), steps (GITHUB_ACTION) and re-runs (GITHUB_RUN_ATTEMPT), yet stable for one
 * attempt so a retry of the upload hits the same name.
 */
export function defaultArtifactName(
  env: Env,
  source: RunbookSource,
  machineIds: string[],
  extra = "",
): string {
  const job = env["GITHUB_JOB"] || "job";
  const attempt = env["GITHUB_RUN_ATTEMPT"] || "1";
  const basis = JSON.stringify([
    source.kind,
    source.kind === "path" ? source.path : source.kind === "none" ? "" : source.text,
    machineIds,
    env["GITHUB_ACTION"] ?? "",
    ...(extra ? [extra] : []),
  ]);
  const hash = createHash("sha256").update(basis).digest("hex").slice(0, 8);
  return sanitizeArtifactName(`mde-lr-${job}-attempt${attempt}-${hash}`);
}

export function sanitizeArtifactName(name: string): string {
  return name.replace(ARTIFACT_NAME_FORBIDDEN, "-");
}

function readArtifactName(
  env: Env,
  source: RunbookSource,
  machineIds: string[],
  gh: GitHubInputs,
  issues: ValidationIssue[],
): string {
  const v = text(env, "artifact-name");
  if (v === null) {
    // Matrix legs that differ only in the tenant (an MSSP's one runbook for many tenants), legs that
    // resume different runs, and commands from different comments get different names.
    const tenant = ["tenant-id", "client-id", "api-url", "region"].map((n) => text(env, n) ?? "");
    const extra = JSON.stringify([
      ...(tenant.some((t) => t !== "") ? tenant : []),
      gh.resumeFrom ?? "",
      gh.run.comment?.commentId ?? "",
    ]);
    return defaultArtifactName(env, source, machineIds, extra);
  }
  const bad = [...new Set(v.match(ARTIFACT_NAME_FORBIDDEN) ?? [])];
  if (bad.length > 0) {
    issues.push({
      path: "artifact-name",
      message: `contains characters the artifact service rejects (${bad.map((c) => JSON.stringify(c)).join(" ")}); e.g. "${sanitizeArtifactName(v)}"`,
    });
  }
  if (v.length > 200) issues.push({ path: "artifact-name", message: "must be at most 200 characters" });
  return v;
}

function defaultOutputDir(env: Env, name: string): string {
  return path.join(env["RUNNER_TEMP"] || tmpdir(), "mde-lr", name);
}

/**
 * Reads every input from `INPUT_*` variables (as `@actions/core` does, so it can be tested without a
 * runner) and throws one ValidationError listing every problem.
 */
export function readInputs(env: Env): ActionInputs {
  const issues: ValidationIssue[] = [];
  const workspace = env["GITHUB_WORKSPACE"] || process.cwd();
  const github = readGitHubInputs(
    env,
    {
      text: (name) => text(env, name),
      boolean: (name, fallback) => parseBoolean(env, name, fallback, issues),
    },
    workspace,
    issues,
  );
  const runbook = readRunbookSource(env, workspace, externalSource(github), issues);
  const machineIds = readMachineIds(env, runbook, issues);
  const cloudText = text(env, "cloud");
  const cloud = cloudText === null ? "public" : collect(issues, "public", () => parseCloudName(cloudText));
  const region = text(env, "region")?.toLowerCase() ?? null;
  if (region !== null) collect(issues, "", () => apiUrlFor(cloud, region));
  const apiUrlText = text(env, "api-url");
  const apiUrl =
    apiUrlText === null ? null : collect(issues, null, () => normaliseServiceUrl(apiUrlText, "api-url"));
  const tenantId = text(env, "tenant-id");
  if (tenantId !== null && !GUID.test(tenantId) && !DOMAIN.test(tenantId)) {
    issues.push({
      path: "tenant-id",
      message: "must be the tenant's GUID or primary domain (Entra admin center → Overview → Tenant ID)",
    });
  }
  const clientId = text(env, "client-id");
  if (clientId !== null && !GUID.test(clientId)) {
    issues.push({
      path: "client-id",
      message: "must be the app registration's Application (client) ID, a GUID",
    });
  }
  const clientSecret = text(env, "client-secret");
  const clientCertificate = readCertificate(text(env, "client-certificate"), workspace, issues);
  const accessToken = text(env, "access-token");
  // find-pending only talks to GitHub: no Defender sign-in to check.
  const auth = github.findPending
    ? "token"
    : readAuth(env, { tenantId, clientId, clientSecret, clientCertificate, accessToken }, issues);
  const audience = text(env, "audience") ?? cloudProfile(cloud).oidcAudience;
  const uploadArtifact = parseBoolean(env, "upload-artifact", true, issues);
  const artifactName = readArtifactName(env, runbook, machineIds, github, issues);
  const retentionDays = readRetention(env, issues);
  const failOn = parseChoice(env, "fail-on", ["any", "all", "never"], "any", issues);
  const dryRun = parseBoolean(env, "dry-run", false, issues);
  if (dryRun && github.resumeFrom) {
    issues.push({
      path: "dry-run",
      message: "cannot be combined with `resume-from`: a resumed run was planned already",
    });
  }
  const outDirInput = text(env, "output-dir");
  const outputDir = outDirInput ? path.resolve(workspace, outDirInput) : defaultOutputDir(env, artifactName);

  if (issues.length > 0) throw new ValidationError("action inputs", issues);
  return {
    runbook,
    machineIds,
    cloud,
    region,
    apiUrl,
    auth,
    tenantId,
    clientId,
    clientSecret,
    clientCertificate,
    accessToken,
    audience,
    outputDir,
    uploadArtifact,
    artifactName,
    retentionDays,
    failOn,
    dryRun,
    workspace,
    github,
  };
}
