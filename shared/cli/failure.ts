/**
 * Errors → what the user sees and the exit code: 2 invalid input or configuration (nothing was
 * submitted), 3 sign-in or permission failure, 1 anything else (`exitCodeFor`). Messages are redacted.
 */
import { exitCodeFor, MdeApiError, MdeLrError, ValidationError } from "../errors.js";
import { serviceFix } from "../plan/explain.js";
import { redact } from "../redact.js";
import { type CliIo, paint } from "./io.js";

const KIND_LABEL: Record<string, string> = {
  input: "invalid input",
  auth: "not signed in or not allowed",
};

export function describeError(err: unknown): { code: string; message: string } {
  if (err instanceof MdeApiError) {
    // Setup errors from the service (DisallowedOperation, DisabledFeature, ...) get their fix; 401/403
    // messages from the client already name the permission or credential to change.
    const fix = serviceFix(err.code);
    return {
      code: err.code,
      message: `${KIND_LABEL[err.kind] ?? err.kind}: ${err.message}${fix ? `\n  fix: ${fix}` : ""}`,
    };
  }
  if (err instanceof MdeLrError) {
    // Our own errors already say what to change (field path and fix).
    return { code: err.name, message: `${KIND_LABEL[err.kind] ?? err.kind}: ${err.message}` };
  }
  if (err instanceof Error)
    return { code: "Internal", message: `unexpected error: ${err.stack ?? err.message}` };
  return { code: "Internal", message: `unexpected error: ${String(err)}` };
}

export function reportFailure(io: CliIo, err: unknown, json: boolean): number {
  const code = exitCodeFor(err);
  const { code: errorCode, message } = describeError(err);
  if (json) {
    const issues = err instanceof ValidationError ? err.issues : undefined;
    io.out(
      `${JSON.stringify({ ok: false, exitCode: code, error: { code: errorCode, message: redact(message), ...(issues ? { issues } : {}) } }, null, 2)}\n`,
    );
  }
  io.err(`${paint(io, "red", "mde-lr:")} ${redact(message)}\n`);
  return code;
}
