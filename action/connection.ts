/**
 * Inputs → ConnectionOptions for the core client. OIDC goes through msal-node's assertion callback:
 * MSAL asks for an assertion on every token request (even cache hits), and a GitHub ID token lives about
 * five minutes, so the token is fetched lazily and re-used for at most four minutes and never within a
 * minute of its own `exp`; a run of any length keeps signing in with fresh tokens. (The core's MSAL
 * provider memoises assertions for four minutes too; this one also honours `exp`, should a runner ever
 * hand out shorter-lived tokens.)
 */
import * as core from "@actions/core";
import type { ConnectionOptions } from "../shared/config/settings.js";
import { AuthenticationError } from "../shared/errors.js";
import { registerSecret } from "../shared/redact.js";
import type { ActionInputs } from "./inputs.js";

/** A GitHub ID token lives 300 s; re-fetch well before that so MSAL never presents an expired one. */
const ID_TOKEN_REUSE_MS = 4 * 60_000;
/** Never present a token this close to its own `exp` (clock skew, the exchange's round trip). */
const ID_TOKEN_EXPIRY_MARGIN_MS = 60_000;

export interface OidcAssertion {
  (): Promise<string>;
  /** Claims of the last token (for AADSTS700213 "subject mismatch" diagnostics); never the token. */
  lastClaims(): Record<string, unknown> | null;
}

export function githubOidcAssertion(
  audience: string,
  getIdToken: (aud: string) => Promise<string> = core.getIDToken,
  now: () => number = Date.now,
): OidcAssertion {
  let cached: { token: string; reuseUntil: number } | null = null;
  const fn = async () => {
    if (cached && now() < cached.reuseUntil) return cached.token;
    let token: string;
    try {
      token = await getIdToken(audience);
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      throw new AuthenticationError(
        `could not get a GitHub OIDC token for audience ${audience} (${why}); the job needs \`permissions: id-token: write\``,
        undefined,
        { cause: error },
      );
    }
    registerSecret(token);
    // Trust the token's own `exp` over the documented lifetime: re-use it only while it stays valid.
    const exp = decodeClaims(token, ["exp"])?.["exp"];
    const expiresAt = typeof exp === "number" ? exp * 1000 : Number.POSITIVE_INFINITY;
    cached = {
      token,
      reuseUntil: Math.min(now() + ID_TOKEN_REUSE_MS, expiresAt - ID_TOKEN_EXPIRY_MARGIN_MS),
    };
    return token;
  };
  return Object.assign(fn, {
    lastClaims: () => (cached ? decodeClaims(cached.token) : null),
  });
}

/** The claims Entra matches against a federated credential: safe to print, unlike the token. */
const PRINTABLE_CLAIMS = ["iss", "sub", "aud", "job_workflow_ref", "environment", "ref"];

export function decodeClaims(jwt: string, keep: string[] = PRINTABLE_CLAIMS): Record<string, unknown> | null {
  const payload = jwt.split(".")[1];
  if (!payload) return null;
  try {
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as Record<string, unknown>;
    return Object.fromEntries(Object.entries(claims).filter(([k]) => keep.includes(k)));
  } catch {
    return null;
  }
}

export function connectionOptions(inputs: ActionInputs, assertion: OidcAssertion | null): ConnectionOptions {
  const options: ConnectionOptions = { cloud: inputs.cloud };
  if (inputs.region) options.region = inputs.region;
  if (inputs.apiUrl) options.apiUrl = inputs.apiUrl;
  if (inputs.auth !== "token") {
    options.tenantId = inputs.tenantId ?? undefined;
    options.clientId = inputs.clientId ?? undefined;
  }
  switch (inputs.auth) {
    case "token":
      options.accessToken = inputs.accessToken ?? undefined;
      break;
    case "secret":
      options.clientSecret = inputs.clientSecret ?? undefined;
      break;
    case "certificate":
      if (inputs.clientCertificate && "pem" in inputs.clientCertificate) {
        options.clientCertificatePem = inputs.clientCertificate.pem;
      } else if (inputs.clientCertificate) {
        options.clientCertificatePath = inputs.clientCertificate.path;
      }
      break;
    case "oidc":
      if (assertion) options.clientAssertion = assertion;
      break;
  }
  return options;
}
