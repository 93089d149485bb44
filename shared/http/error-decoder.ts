/**
 * Turns a non-2xx MDE response into the typed error classes of shared/errors.ts (mde-api.md §3.1).
 * Bodies are read with a cap: a proxy's HTML page or garbage must not exhaust memory or crash parsing.
 */
import type { Readable } from "node:stream";
import { ForbiddenError, MdeApiError, NotFoundError, RateLimitError, UnauthorizedError } from "../errors.js";
import { redact } from "../redact.js";
import type { CallKind } from "./events.js";

export const ERROR_BODY_CAP = 64 * 1024;

/** Reads at most `cap` bytes of a body as text, then discards the rest of the stream. */
export async function readCapped(
  body: Readable | AsyncIterable<Uint8Array>,
  cap = ERROR_BODY_CAP,
): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body as AsyncIterable<Uint8Array>) {
      if (size < cap) {
        const buf = Buffer.from(chunk);
        chunks.push(buf.subarray(0, cap - size));
        size += buf.length;
      }
    }
  } catch {
    // A body that breaks mid-way still yields what arrived; the status already tells the story.
  }
  return Buffer.concat(chunks).toString("utf8");
}

export interface DecodedError {
  code: string;
  message: string;
  target: string | undefined;
}

/** Extracts `{"error":{"code","message","target"}}`; falls back to the status for anything else. */
export function decodeErrorBody(text: string, status: number): DecodedError {
  try {
    const parsed: unknown = JSON.parse(text);
    const err = (parsed as { error?: unknown } | null)?.error;
    if (err && typeof err === "object") {
      const e = err as Record<string, unknown>;
      return {
        code: typeof e.code === "string" && e.code ? e.code : "HttpError",
        message: typeof e.message === "string" ? oneLine(e.message) : `HTTP ${status}`,
        target: typeof e.target === "string" ? e.target : undefined,
      };
    }
  } catch {
    // Not JSON: summarise below.
  }
  const snippet = oneLine(text).slice(0, 200);
  return {
    code: "HttpError",
    message: snippet ? `HTTP ${status}: ${snippet}` : `HTTP ${status}`,
    target: undefined,
  };
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, " ").trim();
}

/** Application permission each kind of call needs (mde-api.md §2.3). */
export const REQUIRED_ROLE: Readonly<Record<CallKind, string>> = {
  submit: "Machine.LiveResponse",
  poll: "Machine.Read.All (or Machine.ReadWrite.All)",
  cancel: "Machine.LiveResponse (or another action permission such as Machine.CollectForensics)",
  link: "Machine.ReadWrite.All",
  download: "none (signed URL)",
  machines: "Machine.Read.All (or Machine.ReadWrite.All)",
  library: "Library.Manage",
};

export interface ErrorContext {
  kind: CallKind;
  method: string;
  path: string;
  status: number;
  retryAfterMs?: number | undefined;
}

/** Builds the typed error for a failed response; every message is redacted. */
export function toApiError(ctx: ErrorContext, bodyText: string): MdeApiError {
  const d = decodeErrorBody(bodyText, ctx.status);
  const init = {
    status: ctx.status,
    code: d.code,
    message: redact(d.message),
    target: d.target,
    method: ctx.method,
    path: redact(ctx.path),
  };
  if (ctx.status === 401) {
    return new UnauthorizedError({
      ...init,
      hint: "The token is missing, invalid or expired; check the tenant, client and credential.",
    });
  }
  if (ctx.status === 403) {
    const role = REQUIRED_ROLE[ctx.kind];
    let hint: string;
    if (d.code === "DisallowedOperation") {
      hint =
        "Live response is refused for this device's group: assign an automated remediation level to the device group (Settings → Endpoints → Device groups).";
    } else if (d.code === "DisabledFeature") {
      hint =
        "Enable Live Response (and unsigned script execution if needed) in Settings → Endpoints → Advanced features.";
    } else {
      hint = `Grant the application permission ${role} on WindowsDefenderATP and give admin consent. A 403 Forbidden also means a token for the wrong audience: request https://api.securitycenter.microsoft.com/.default (not api.security.microsoft.com) on the commercial cloud.`;
    }
    return new ForbiddenError({ ...init, hint, requiredRole: role });
  }
  if (ctx.status === 404) return new NotFoundError(init);
  if (ctx.status === 429) {
    return new RateLimitError({
      ...init,
      retryAfterMs: ctx.retryAfterMs,
      hint: "Throttled by the service after all retries; wait and run again, or lower the request rate (limits).",
    });
  }
  if (d.code === "OsPlatformNotSupported") {
    return new MdeApiError({
      ...init,
      hint: "Live response does not support this device's operating system.",
    });
  }
  if (d.code === "ClientVersionNotSupported") {
    return new MdeApiError({ ...init, hint: "Update the device's Defender for Endpoint agent." });
  }
  return new MdeApiError(init);
}
