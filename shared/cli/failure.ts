/**
 * Errors → what the user sees and the exit code: 2 invalid input or configuration (nothing was
 * submitted), 3 sign-in or permission failure, 1 anything else (`exitCodeFor`). Messages are redacted.
 */
import { exitCodeFor, MdeLrError } from "../errors.js";
import { explainServiceError } from "../plan/explain.js";
import { redact } from "../redact.js";
import { type CliIo, paint } from "./io.js";

export function describeError(err: unknown): { code: string; message: string } {
  if (err instanceof MdeLrError) {
    const explained = explainServiceError(err);
    const kind =
      err.kind === "input"
        ? "invalid input"
        : err.kind === "auth"
          ? "not signed in or not allowed"
          : err.kind;
    // Service setup errors get their fix; everything else keeps its own (already actionable) message.
    const message =
      explained.message !== err.message && explained.code === (err as { code?: unknown }).code
        ? `${err.message}\n  fix: ${explained.message}`
        : err.message;
    return { code: err.name, message: `${kind}: ${message}` };
  }
  if (err instanceof Error)
    return { code: "Internal", message: `unexpected error: ${err.stack ?? err.message}` };
  return { code: "Internal", message: `unexpected error: ${String(err)}` };
}

export function reportFailure(io: CliIo, err: unknown, json: boolean): number {
  const code = exitCodeFor(err);
  const { code: errorCode, message } = describeError(err);
  if (json) {
    const issues =
      err instanceof MdeLrError && "issues" in err ? (err as { issues: unknown }).issues : undefined;
    io.out(
      `${JSON.stringify({ ok: false, exitCode: code, error: { code: errorCode, message: redact(message), ...(issues ? { issues } : {}) } }, null, 2)}\n`,
    );
  }
  io.err(`${paint(io, "red", "mde-lr:")} ${redact(message)}\n`);
  return code;
}
