/**
 * The app and tenant a ready-made access token says it was issued to, for the chain of custody when the
 * connection was given only a token (MDE_ACCESS_TOKEN). The payload is base64url-decoded and read; the
 * signature is NOT verified (only the service can, and does, on every call), so these are the token's
 * claims, not proof. Only the two GUIDs leave this function; the token itself is never kept.
 */

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function guid(value: unknown): string | null {
  return typeof value === "string" && GUID.test(value) ? value.toLowerCase() : null;
}

/** `appid` (v1.0 tokens) or `azp` (v2.0) and `tid`; null when the token is not a readable JWT. */
export function unverifiedTokenIds(
  token: string,
): { clientId: string | null; tenantId: string | null } | null {
  const parts = token.split(".");
  if (parts.length !== 3 || !parts[1] || parts[1].length > 16_384) return null;
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(parts[1], "base64url").toString("utf8"));
  } catch {
    return null;
  }
  if (!claims || typeof claims !== "object") return null;
  const c = claims as Record<string, unknown>;
  const clientId = guid(c["appid"]) ?? guid(c["azp"]);
  const tenantId = guid(c["tid"]);
  return clientId || tenantId ? { clientId, tenantId } : null;
}
