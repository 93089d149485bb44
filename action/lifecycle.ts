/**
 * What both entry points do first (mask every secret before its first use) and last (turn an error
 * into a redacted, actionable failure).
 */
import * as core from "@actions/core";
import { AuthenticationError, MdeLrError, ValidationError } from "../shared/errors.js";
import { onSecretRegistered, redact, redactError, registerSecret } from "../shared/redact.js";
import type { OidcAssertion } from "./connection.js";
import { type Env, inputKey } from "./inputs.js";
import { createMasker } from "./masking.js";

const SECRET_INPUTS = ["client-secret", "client-certificate", "access-token", "github-token"];

/**
 * Masks the secret inputs at once (before validation could quote them) and every secret the core
 * registers later: tokens, assertions, each SAS URL and its `sig`.
 */
export function installMasking(env: Env): void {
  const mask = createMasker(core.setSecret);
  for (const name of SECRET_INPUTS) {
    const value = env[inputKey(name)];
    if (value?.trim()) {
      mask(value);
      registerSecret(value.trim());
    }
  }
  onSecretRegistered(mask);
}

/** AADSTS codes where the federated credential does not match the presented GitHub token. */
const FEDERATION_MISMATCH = new Set(["AADSTS700211", "AADSTS700212", "AADSTS700213", "AADSTS70021"]);

export function reportFailure(error: unknown, assertion: OidcAssertion | null): void {
  if (
    error instanceof AuthenticationError &&
    assertion &&
    error.aadsts &&
    FEDERATION_MISMATCH.has(error.aadsts)
  ) {
    const claims = assertion.lastClaims();
    if (claims) {
      // The federated credential must match these exactly (issuer, subject, audience); the token itself is never shown.
      core.error(`GitHub token claims presented to Entra: ${JSON.stringify(claims)}`, {
        title: "Federated credential mismatch",
      });
    }
  }
  if (error instanceof ValidationError) {
    core.setFailed(redactError(error));
    return;
  }
  if (error instanceof MdeLrError) {
    core.setFailed(`${error.name}: ${redactError(error)}`);
    return;
  }
  core.setFailed(`Unexpected error: ${redactError(error)}`);
  if (error instanceof Error && error.stack) core.debug(redact(error.stack));
}
