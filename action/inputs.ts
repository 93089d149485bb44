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
import { type GitHubInputs, readGitHubInputs } from "./github/inputs.js";

export type AuthMode = "auto" | "oidc" | "secret" | "certificate" | "token";
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

export type Env = Record<string, string | undefined>;

/** `@actions/core` getInput's key: spaces become `_`, upper-cased, hyphens kept (`INPUT_CLIENT-ID`). */
export function inputKey(name: string): string {
  return `INPUT_${name.replace(/ /g, "_").toUpperCase()}`;
}

function raw(env: Env, name: string): string {
  return env[inputKey(name)] ?? "";
}

function text(env: Env, name: string): string | null {
  const v = raw(env, name).trim();
  return v === "" ? null : v;
}

const MACHINE_ID = /^[0-9a-f]{40}$/;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DOMAIN = /^(?=.{3,253}$)([a-z0-9-]{1,63}\.)+[a-z]{2,63}$/i;
/** Characters the artifact service rejects in names (@actions/artifact path-and-artifact-name-validation). */
const ARTIFACT_NAME_FORBIDDEN = /["':<>|*?\r\n\\/]/g;

/** Splits a newline/comma separated list, dropping blanks and duplicates (order kept). */
export function splitList(value: string): string[] {
  const seen = new Set<string>();
  for (const part of value.split(/[\n,]/)) {
    const v = part.trim();
    if (v !== "") seen.add(v);
  }
  return [...seen];
}

function parseBoolean(env: Env, name: string, fallback: boolean, issues: ValidationIssue[]): boolean {
  const v = text(env, name);
  if (v === null) return fallback;
  if (/^true$/i.test(v)) return true;
  if (/^false$/i.test(v)) return false;
  issues.push({ path: name, message: `must be true or false, got "${v}"` });
  return fallback;
}

function parseChoice<T extends string>(
  env: Env,
  name: string,
  allowed: readonly T[],
  fallback: T,
  issues: ValidationIssue[],
): T {
  const v = text(env, name);
  if (v === null) return fallback;
  const hit = allowed.find((a) => a === v.toLowerCase());
  if (hit) return hit;
  issues.push({ path: name, message: `must be one of ${allowed.join(", ")}; got "${v}"` });
  return fallback;
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

/** Auth mode after `auto` is resolved, with the fields each mode needs. */
function readAuth(
  env: Env,
  values: {
    tenantId: string | null;
    clientId: string | null;
    clientSecret: string | null;
    clientCertificate: unknown;
    accessToken: string | null;
  },
  issues: ValidationIssue[],
): Exclude<AuthMode, "auto"> {
  const requested = parseChoice(
    env,
    "auth",
    ["auto", "oidc", "secret", "certificate", "token"],
    "auto",
    issues,
  );
  const canOidc = Boolean(env["ACTIONS_ID_TOKEN_REQUEST_URL"] && env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"]);
  let mode: Exclude<AuthMode, "auto">;
  if (requested !== "auto") mode = requested;
  else if (values.accessToken) mode = "token";
  else if (values.clientSecret) mode = "secret";
  else if (values.clientCertificate) mode = "certificate";
  else if (values.clientId && canOidc) mode = "oidc";
  else {
    issues.push({
      path: "auth",
      message: canOidc
        ? "no credentials: set `client-id` and `tenant-id` for OIDC (federated credential), or `client-secret`, `client-certificate` or `access-token`"
        : "no credentials: for OIDC grant the job `permissions: id-token: write` and set `client-id` and `tenant-id`; otherwise set `client-secret`, `client-certificate` or `access-token` from secrets",
    });
    return "oidc";
  }
  const need = (field: string, value: string | null, why: string) => {
    if (!value) issues.push({ path: field, message: `required for auth: ${mode} (${why})` });
  };
  if (mode !== "token") {
    need("tenant-id", values.tenantId, "the Entra tenant of the app registration");
    need("client-id", values.clientId, "the app registration's application (client) id");
  }
  if (mode === "secret") need("client-secret", values.clientSecret, "pass it from secrets.*");
  if (mode === "certificate" && !values.clientCertificate) {
    issues.push({
      path: "client-certificate",
      message: "required for auth: certificate (PEM with key, from secrets.*)",
    });
  }
  if (mode === "token") need("access-token", values.accessToken, "a bearer token for the MDE API");
  if (mode === "oidc" && !canOidc) {
    issues.push({
      path: "auth",
      message:
        "oidc needs an ID token but ACTIONS_ID_TOKEN_REQUEST_URL is not set: add `permissions: id-token: write` to the job (pull requests from forks never get one)",
    });
  }
  return mode;
}

function readCertificate(
  value: string | null,
  workspace: string,
  issues: ValidationIssue[],
): { pem: string } | { path: string } | null {
  if (value === null) return null;
  if (value.includes("-----BEGIN")) {
    if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(value)) {
      issues.push({
        path: "client-certificate",
        message: "the PEM has no private key; include both the certificate and its key",
      });
    }
    return { pem: value };
  }
  // Not PEM text: a path to a PEM file (a secret written to disk by an earlier step).
  if (value.includes("\n")) {
    issues.push({ path: "client-certificate", message: "expected PEM text (-----BEGIN ...) or a file path" });
    return null;
  }
  const abs = path.resolve(workspace, value);
  if (!existsSync(abs)) {
    issues.push({
      path: "client-certificate",
      message:
        "neither PEM text nor an existing file; pass the PEM from secrets.* or write it to a file first",
    });
    return null;
  }
  return { path: abs };
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
