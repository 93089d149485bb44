/**
 * API bearer tokens (mde-api.md §2, §7.2): the emulator mints v1.0-shaped JWTs signed HS256 with a
 * per-instance key and checks signature, expiry (emulator clock), audience and the role per endpoint.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { decodeJwt, signHs256, verifyHs256 } from "./jwt.js";

export const ALL_ROLES = [
  "Machine.Read.All",
  "Machine.ReadWrite.All",
  "Machine.LiveResponse",
  "Library.Manage",
  "Machine.CollectForensics",
  "Machine.Isolate",
  "Machine.RestrictExecution",
  "Machine.Scan",
  "Machine.Offboard",
  "Machine.StopAndQuarantine",
] as const;

/** The WindowsDefenderATP resource's identifiers (commercial + gov, §2.1–2.2) — what the API accepts. */
export const API_AUDIENCES: ReadonlySet<string> = new Set([
  "https://api.securitycenter.microsoft.com",
  "https://api.securitycenter.windows.com",
  "https://securitycenter.onmicrosoft.com/windowsatpservice",
  "https://securitycenter.onmicrosoft.us/windowsatpservice",
  "https://api-gcc.securitycenter.microsoft.us",
  "https://api-gov.securitycenter.microsoft.us",
  "fc780465-2017-40d4-a0c5-307022471b92",
]);

/** Resources Entra knows; the Defender XDR one is real (tokens are issued) but the MDE API refuses it. */
export const KNOWN_RESOURCES: ReadonlySet<string> = new Set([
  ...API_AUDIENCES,
  "https://api.security.microsoft.com",
  "https://graph.microsoft.com",
]);

export const DEFAULT_API_AUDIENCE = "https://api.securitycenter.microsoft.com";

export type Operation =
  | "machines"
  | "runLiveResponse"
  | "readActions"
  | "cancelAction"
  | "downloadLink"
  | "library";

/**
 * §2.3. The download link takes Machine.ReadWrite.All (current doc) and also Machine.Read.All (older doc,
 * §8.4): accepting both keeps clients written against either revision working.
 */
export const REQUIRED_ROLES: Record<Operation, readonly string[]> = {
  machines: ["Machine.Read.All", "Machine.ReadWrite.All"],
  runLiveResponse: ["Machine.LiveResponse"],
  readActions: ["Machine.Read.All", "Machine.ReadWrite.All"],
  cancelAction: [
    "Machine.CollectForensics",
    "Machine.Isolate",
    "Machine.RestrictExecution",
    "Machine.Scan",
    "Machine.Offboard",
    "Machine.StopAndQuarantine",
    "Machine.LiveResponse",
  ],
  downloadLink: ["Machine.ReadWrite.All", "Machine.Read.All"],
  library: ["Library.Manage"],
};

export interface TokenRequest {
  tenantId: string;
  appId: string;
  appDisplayName?: string;
  roles: readonly string[];
  audience: string;
  issuedAt: number;
  lifetimeMs: number;
}

export interface Caller {
  appId: string;
  tenantId: string;
  roles: readonly string[];
}

export type AuthResult =
  | { ok: true; caller: Caller }
  | { ok: false; status: 401 | 403; message: string; requiredRole?: string };

export class TokenAuthority {
  private readonly key = randomBytes(32);
  /** Tokens whose signature already verified: polling reuses one token for thousands of calls. */
  private readonly verified = new Map<string, Record<string, unknown>>();

  issue(request: TokenRequest): string {
    const iat = Math.floor(request.issuedAt / 1000);
    return signHs256(
      {
        aud: request.audience,
        iss: `https://sts.windows.net/${request.tenantId}/`,
        iat,
        nbf: iat,
        exp: Math.floor((request.issuedAt + request.lifetimeMs) / 1000),
        appid: request.appId,
        app_displayname: request.appDisplayName ?? "mde-lr emulator app",
        oid: randomUUID(),
        tid: request.tenantId,
        roles: [...request.roles],
        ver: "1.0",
      },
      this.key,
      { kid: "mde-emulator" },
    );
  }

  authorize(authorization: string | undefined, operation: Operation, now: number): AuthResult {
    const match = authorization ? /^Bearer\s+(\S+)$/i.exec(authorization) : null;
    if (!match?.[1]) {
      return { ok: false, status: 401, message: "Authorization header with a Bearer token is required" };
    }
    const raw = match[1];
    let claims = this.verified.get(raw);
    if (!claims) {
      const jwt = decodeJwt(raw);
      if (!jwt || !verifyHs256(jwt, this.key)) return { ok: false, status: 401, message: "Invalid token" };
      claims = jwt.claims;
      if (this.verified.size >= 1_024) this.verified.clear();
      this.verified.set(raw, claims);
    }
    const { exp, aud, appid, tid, roles } = claims;
    if (typeof exp !== "number" || exp * 1000 <= now) {
      return { ok: false, status: 401, message: "The access token has expired" };
    }
    if (typeof aud !== "string" || !API_AUDIENCES.has(aud)) {
      return {
        ok: false,
        status: 403,
        message: `The token audience '${String(aud)}' is not valid for this API; request a token for https://api.securitycenter.microsoft.com/.default`,
      };
    }
    const granted = Array.isArray(roles) ? roles.filter((r): r is string => typeof r === "string") : [];
    const required = REQUIRED_ROLES[operation];
    if (!required.some((role) => granted.includes(role))) {
      return {
        ok: false,
        status: 403,
        message: `The application does not have any of the required application permissions (${required.join(", ")}) to access the resource`,
        requiredRole: required[0],
      };
    }
    return { ok: true, caller: { appId: String(appid), tenantId: String(tid), roles: granted } };
  }
}
