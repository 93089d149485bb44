/** The sign-in inputs: which mode `auto` resolves to, the fields each mode needs, the certificate. */
import { existsSync } from "node:fs";
import path from "node:path";
import type { ValidationIssue } from "../shared/errors.js";
import { type Env, parseChoice } from "./input-values.js";

export type AuthMode = "auto" | "oidc" | "secret" | "certificate" | "token";

/** Auth mode after `auto` is resolved, with the fields each mode needs. */
export function readAuth(
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

export function readCertificate(
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
