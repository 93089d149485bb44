/**
 * Entra (AADSTS) failures → AuthenticationError with the fix spelled out. Messages never contain the
 * secret, assertion or token: the Entra description is redacted before it is quoted.
 */
import { AuthenticationError, CancelledError, MdeLrError } from "../errors.js";
import { redact, redactError } from "../redact.js";

export interface SignInContext {
  tenantId: string;
  clientId: string;
  authorityHost: string;
  scope: string;
  oidcAudience: string;
  credentialKind: "secret" | "certificate" | "assertion";
}

function advice(code: string, ctx: SignInContext): string | undefined {
  switch (code) {
    case "700213":
      return (
        "No federated credential matches the token's subject. The subject must match exactly (case-sensitive, " +
        "no wildcards): e.g. repo:ORG/REPO:environment:NAME for a job with an environment, " +
        "repo:ORG/REPO:ref:refs/heads/BRANCH for a branch, repo:ORG/REPO:pull_request for a pull request " +
        "(or the immutable repo:OWNER@OWNER_ID/REPO@REPO_ID:... form); issuer https://token.actions.githubusercontent.com."
      );
    case "70021":
      return (
        "No federated identity record matches the presented assertion (issuer, subject and audience must match " +
        "exactly). If you just created or changed the federated credential, wait a few minutes for it to propagate and retry."
      );
    case "700024":
      return "The client assertion is outside its validity window (expired GitHub OIDC token); request a fresh one just before signing in and check the runner clock.";
    case "700212":
      return `The assertion's audience does not match the federated credential: for the ${ctx.authorityHost} authority it must be ${ctx.oidcAudience}.`;
    case "7000215":
      return "Invalid client secret: use the secret's Value (not its ID) and check it has not expired.";
    case "7000222":
      return "The client secret has expired; create a new one on the app registration.";
    case "700016":
      return `Application ${ctx.clientId} was not found in tenant ${ctx.tenantId}: check the client ID, that the app is registered (or consented) in this tenant, and the tenant ID.`;
    case "90002":
      return `Tenant ${ctx.tenantId} was not found: check the tenant ID and that the cloud (${ctx.authorityHost}) is right.`;
    case "700027":
      return "The certificate's signature could not be verified: upload this certificate (same thumbprint) to the app registration.";
    case "500011":
      return `Resource for scope ${ctx.scope} not found in the tenant: check the cloud and scope (MDE_SCOPE).`;
    case "7000112":
      return "The application is disabled.";
    case "50034":
    case "50126":
      return "Credentials were rejected.";
    default:
      return undefined;
  }
}

/** Finds the AADSTS number in MSAL's error fields. */
export function aadstsCode(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const fields = error as Error & { errorNo?: unknown; errorMessage?: unknown };
  if (typeof fields.errorNo === "string" && /^\d+$/.test(fields.errorNo)) return fields.errorNo;
  if (typeof fields.errorNo === "number") return String(fields.errorNo);
  const text = `${typeof fields.errorMessage === "string" ? fields.errorMessage : ""} ${error.message}`;
  return /AADSTS(\d+)/.exec(text)?.[1];
}

export function toAuthenticationError(error: unknown, ctx: SignInContext): MdeLrError {
  if (error instanceof MdeLrError) return error;
  if (error instanceof Error && (error.name === "AbortError" || error.name === "TimeoutError")) {
    return new CancelledError("sign-in aborted");
  }
  const code = aadstsCode(error);
  const fields = error as { errorCode?: unknown; errorMessage?: unknown };
  const entraText =
    typeof fields.errorMessage === "string" && fields.errorMessage ? fields.errorMessage : redactError(error);
  // Entra descriptions end with trace/correlation ids and a timestamp; the first line is the useful part.
  const firstLine = redact(entraText.split(/\r?\n/)[0] ?? "").slice(0, 400);
  const errorCode = typeof fields.errorCode === "string" ? `${fields.errorCode}: ` : "";
  const fix = code ? advice(code, ctx) : undefined;
  const where = `sign-in for app ${ctx.clientId} in tenant ${ctx.tenantId} (${ctx.credentialKind}) failed`;
  const message = `${where}: ${errorCode}${firstLine}${fix ? ` — ${fix}` : ""}`;
  return new AuthenticationError(redact(message), code ? `AADSTS${code}` : undefined);
}
