/**
 * Every error the toolkit raises, in one place (like @actions/artifact's shared errors module).
 * Front ends map `kind` to exit codes: "input" → 2, "auth" → 3, everything else → 1.
 * Messages must already be redacted; constructors never embed tokens, secrets or signed URLs.
 */

export type ErrorKind = "input" | "auth" | "service" | "network" | "cancelled" | "internal";

export class MdeLrError extends Error {
  readonly kind: ErrorKind;
  constructor(kind: ErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.kind = kind;
  }
}

/** Bad input or configuration; `field` names the parameter, option or runbook path at fault. */
export class InputError extends MdeLrError {
  readonly field: string;
  constructor(field: string, message: string, options?: { cause?: unknown }) {
    super("input", `${field}: ${message}`, options);
    this.field = field;
  }
}

export interface ValidationIssue {
  /** Field path, e.g. `commands[2].getFile`. */
  path: string;
  message: string;
}

/** A document (runbook, action inputs, provider args) failed validation; every issue names its path. */
export class ValidationError extends MdeLrError {
  readonly issues: ValidationIssue[];
  constructor(subject: string, issues: ValidationIssue[]) {
    super("input", `${subject} is invalid:\n${issues.map((i) => `  - ${i.path}: ${i.message}`).join("\n")}`);
    this.issues = issues;
  }
}

/** Sign-in failed (Entra ID). `aadsts` is the AADSTS code when Entra gave one. */
export class AuthenticationError extends MdeLrError {
  readonly aadsts: string | undefined;
  constructor(message: string, aadsts?: string, options?: { cause?: unknown }) {
    super("auth", message, options);
    this.aadsts = aadsts;
  }
}

/** An MDE API error response: `{"error":{"code","message","target"}}` (mde-api.md §3.1). */
export class MdeApiError extends MdeLrError {
  readonly status: number;
  /** MDE error code, e.g. `ActiveRequestAlreadyExists`; `HttpError` when the body had none. */
  readonly code: string;
  /** Correlation GUID from the error body (`target`), for Microsoft support. */
  readonly target: string | undefined;
  readonly method: string;
  readonly path: string;
  constructor(init: {
    status: number;
    code: string;
    message: string;
    target?: string | undefined;
    method: string;
    path: string;
    kind?: ErrorKind;
    hint?: string | undefined;
  }) {
    const where = `${init.method} ${init.path}`;
    const hint = init.hint ? ` ${init.hint}` : "";
    const corr = init.target ? ` (correlation ${init.target})` : "";
    super(
      init.kind ?? "service",
      `${where} failed: ${init.status} ${init.code}: ${init.message}${corr}.${hint}`,
    );
    this.status = init.status;
    this.code = init.code;
    this.target = init.target;
    this.method = init.method;
    this.path = init.path;
  }
}

/** 401: missing, invalid or expired token. */
export class UnauthorizedError extends MdeApiError {
  constructor(init: ConstructorParameters<typeof MdeApiError>[0]) {
    super({ ...init, kind: "auth" });
  }
}

/** 403: valid token without the role (or wrong audience), or a tenant/device-group setting refuses. */
export class ForbiddenError extends MdeApiError {
  /** The application permission that would allow the call (mde-api.md §2.3), when known. */
  readonly requiredRole: string | undefined;
  constructor(init: ConstructorParameters<typeof MdeApiError>[0] & { requiredRole?: string | undefined }) {
    super({
      ...init,
      kind: init.code === "DisallowedOperation" || init.code === "DisabledFeature" ? "service" : "auth",
    });
    this.requiredRole = init.requiredRole;
  }
}

export class NotFoundError extends MdeApiError {}

/** 429 after the retry budget was spent. */
export class RateLimitError extends MdeApiError {
  readonly retryAfterMs: number | undefined;
  constructor(init: ConstructorParameters<typeof MdeApiError>[0] & { retryAfterMs?: number | undefined }) {
    super(init);
    this.retryAfterMs = init.retryAfterMs;
  }
}

/**
 * A `runliveresponse` whose outcome is unknown (connection dropped, 5xx, timeout after sending).
 * The service may have accepted it: never re-send before looking for the action by `commentTag`.
 */
export class AmbiguousSubmissionError extends MdeLrError {
  readonly machineId: string;
  readonly comment: string;
  constructor(machineId: string, comment: string, options?: { cause?: unknown }) {
    super(
      "network",
      `runliveresponse on ${machineId} may or may not have been accepted; look for an action with comment "${comment}" before submitting again`,
      options,
    );
    this.machineId = machineId;
    this.comment = comment;
  }
}

/** Network failure after retries (no HTTP response). */
export class NetworkError extends MdeLrError {
  readonly code: string | undefined;
  constructor(message: string, code?: string, options?: { cause?: unknown }) {
    super("network", message, options);
    this.code = code;
  }
}

/** The signed result link expired (Azure Storage 403 AuthenticationFailed): ask for a fresh link. */
export class DownloadLinkExpiredError extends MdeLrError {
  constructor(message = "result download link expired; request a fresh link") {
    super("service", message);
  }
}

/** Download failed or produced bad bytes (truncated body, bad gzip). Safe to retry with a fresh link. */
export class DownloadError extends MdeLrError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("network", message, options);
  }
}

export class CancelledError extends MdeLrError {
  constructor(message = "cancelled", options?: { cause?: unknown }) {
    super("cancelled", message, options);
  }
}

/** Exit code a CLI or action maps an error to: 2 invalid input, 3 auth/permission, 1 otherwise. */
export function exitCodeFor(error: unknown): 1 | 2 | 3 {
  if (error instanceof MdeLrError) {
    if (error.kind === "input") return 2;
    if (error.kind === "auth") return 3;
  }
  return 1;
}
