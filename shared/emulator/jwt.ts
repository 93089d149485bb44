/**
 * Compact JWS sign/verify on node:crypto (HS256 for the emulator's own API tokens, RS256/PS256/ES256 for
 * client assertions and the emulated GitHub OIDC tokens). Only what the emulator needs: no JWE, no JWKS.
 */
import { constants, createHmac, type KeyObject, sign, timingSafeEqual, verify } from "node:crypto";

export type JwtClaims = Record<string, unknown>;
export interface DecodedJwt {
  header: Record<string, unknown>;
  claims: JwtClaims;
  signingInput: string;
  signature: Buffer;
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

export function signHs256(claims: JwtClaims, key: Buffer, header: Record<string, unknown> = {}): string {
  const input = `${b64({ typ: "JWT", alg: "HS256", ...header })}.${b64(claims)}`;
  return `${input}.${createHmac("sha256", key).update(input).digest("base64url")}`;
}

export function signRs256(claims: JwtClaims, key: KeyObject, header: Record<string, unknown> = {}): string {
  const input = `${b64({ typ: "JWT", alg: "RS256", ...header })}.${b64(claims)}`;
  return `${input}.${sign("sha256", Buffer.from(input), key).toString("base64url")}`;
}

/** Parses without verifying; undefined when it is not a three-part JWS with JSON header and claims. */
export function decodeJwt(token: string): DecodedJwt | undefined {
  const parts = token.split(".");
  if (parts.length !== 3) return undefined;
  const [h, c, s] = parts as [string, string, string];
  try {
    const header: unknown = JSON.parse(Buffer.from(h, "base64url").toString("utf8"));
    const claims: unknown = JSON.parse(Buffer.from(c, "base64url").toString("utf8"));
    if (!isRecord(header) || !isRecord(claims)) return undefined;
    return { header, claims, signingInput: `${h}.${c}`, signature: Buffer.from(s, "base64url") };
  } catch {
    return undefined;
  }
}

export function verifyHs256(jwt: DecodedJwt, key: Buffer): boolean {
  if (jwt.header.alg !== "HS256") return false;
  const expected = createHmac("sha256", key).update(jwt.signingInput).digest();
  return expected.length === jwt.signature.length && timingSafeEqual(expected, jwt.signature);
}

/** Verifies an asymmetric signature with the algorithm named in the header (RS256, PS256, ES256). */
export function verifyAsymmetric(jwt: DecodedJwt, key: KeyObject): boolean {
  const data = Buffer.from(jwt.signingInput);
  try {
    switch (jwt.header.alg) {
      case "RS256":
        return verify("sha256", data, key, jwt.signature);
      case "PS256":
        return verify(
          "sha256",
          data,
          { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST },
          jwt.signature,
        );
      case "ES256":
        return verify("sha256", data, { key, dsaEncoding: "ieee-p1363" }, jwt.signature);
      default:
        return false;
    }
  } catch {
    return false;
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
