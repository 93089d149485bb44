import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  apiUrlFor,
  CLOUDS,
  isLoopbackHost,
  normaliseServiceUrl,
  parseCloudName,
} from "../../shared/config/clouds.js";
import { resolveConnection } from "../../shared/config/settings.js";
import { InputError } from "../../shared/errors.js";

const TENANT = "11111111-2222-3333-4444-555555555555";
const CLIENT = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";

function inputError(fn: () => unknown): InputError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return e as InputError;
  }
  throw new Error("expected an InputError");
}

describe("clouds", () => {
  it("requests the legacy securitycenter audience on commercial whatever host is called (audience trap)", () => {
    expect(CLOUDS.public.scope).toBe("https://api.securitycenter.microsoft.com/.default");
    expect(CLOUDS.public.apiUrl).toBe("https://api.security.microsoft.com");
    const c = resolveConnection(
      { region: "eu", tenantId: TENANT, clientId: CLIENT, clientSecret: "s3cret-value" },
      {},
    );
    expect(c.apiUrl).toBe("https://eu.api.security.microsoft.com");
    expect(c.scope).toBe("https://api.securitycenter.microsoft.com/.default");
  });

  it("maps gov clouds to their hosts, authorities and OIDC audiences", () => {
    expect(CLOUDS.gcc.apiUrl).toBe("https://api-gcc.securitycenter.microsoft.us");
    expect(CLOUDS.gcc.authorityHost).toBe("https://login.microsoftonline.com");
    expect(CLOUDS["gcc-high"].apiUrl).toBe("https://api-gov.securitycenter.microsoft.us");
    expect(CLOUDS.dod.authorityHost).toBe("https://login.microsoftonline.us");
    expect(CLOUDS["gcc-high"].oidcAudience).toBe("api://AzureADTokenExchangeUSGov");
    expect(CLOUDS.dod.oidcAudience).toBe("api://AzureADTokenExchangeUSGov");
    expect(CLOUDS.public.oidcAudience).toBe("api://AzureADTokenExchange");
  });

  it("knows all seven geo hosts and rejects others with the list", () => {
    for (const r of ["us", "eu", "uk", "au", "swa", "ina", "aea"]) {
      expect(apiUrlFor("public", r)).toBe(`https://${r}.api.security.microsoft.com`);
    }
    const e = inputError(() => apiUrlFor("public", "mars"));
    expect(e.message).toContain("us, eu, uk, au, swa, ina, aea");
    expect(inputError(() => apiUrlFor("gcc", "us")).message).toContain("only for the public cloud");
  });

  it("rejects unknown cloud names with the valid ones", () => {
    expect(parseCloudName("GCC-High")).toBe("gcc-high");
    const e = inputError(() => resolveConnection({ cloud: "azure-china", accessToken: "x".repeat(20) }, {}));
    expect(e.field).toContain("cloud");
    expect(e.message).toContain("public, gcc, gcc-high, dod");
  });

  it("allows plain http only on loopback", () => {
    expect(isLoopbackHost("127.0.0.1")).toBe(true);
    expect(isLoopbackHost("127.8.9.10")).toBe(true);
    expect(isLoopbackHost("[::1]")).toBe(true);
    expect(isLoopbackHost("localhost")).toBe(true);
    expect(isLoopbackHost("128.0.0.1")).toBe(false);
    expect(isLoopbackHost("127.0.0.1.evil.com")).toBe(false);
    expect(normaliseServiceUrl("http://127.0.0.1:8080/api/", "apiUrl")).toBe("http://127.0.0.1:8080");
    expect(normaliseServiceUrl("http://[::1]:9/", "apiUrl")).toBe("http://[::1]:9");
    const e = inputError(() =>
      resolveConnection({ accessToken: "tok-123456" }, { MDE_API_URL: "http://mde.example.com" }),
    );
    expect(e.field).toBe("apiUrl (MDE_API_URL)");
    expect(e.message).toContain("https://");
    expect(inputError(() => normaliseServiceUrl("ftp://x", "apiUrl")).message).toContain("scheme");
  });
});

describe("resolveConnection", () => {
  it("takes MDE_* environment defaults", () => {
    const c = resolveConnection(
      {},
      {
        MDE_TENANT_ID: TENANT,
        MDE_CLIENT_ID: CLIENT,
        MDE_CLIENT_SECRET: "env-secret-value",
        MDE_CLOUD: "gcc-high",
        MDE_AUTHORITY_HOST: "https://127.0.0.1:4443",
        MDE_SCOPE: "https://api-gov.securitycenter.microsoft.us/.default",
      },
    );
    expect(c.cloud).toBe("gcc-high");
    expect(c.apiUrl).toBe("https://api-gov.securitycenter.microsoft.us");
    expect(c.authority).toBe(`https://127.0.0.1:4443/${TENANT}`);
    expect(c.scope).toBe("https://api-gov.securitycenter.microsoft.us/.default");
    expect(c.credential).toEqual({ kind: "secret", clientSecret: "env-secret-value" });
  });

  it("lets options override the environment, including the whole credential", () => {
    const c = resolveConnection(
      { accessToken: "opt-token-value" },
      { MDE_CLIENT_SECRET: "env-secret-value", MDE_API_URL: "https://us.api.security.microsoft.com/" },
    );
    expect(c.credential.kind).toBe("token");
    expect(c.apiUrl).toBe("https://us.api.security.microsoft.com");
    expect(c.tenantId).toBeUndefined();
  });

  it("names malformed tenant and client ids", () => {
    expect(
      inputError(() =>
        resolveConnection({ tenantId: "not-a-guid", clientId: CLIENT, clientSecret: "abcdefgh" }, {}),
      ).field,
    ).toBe("tenantId (MDE_TENANT_ID)");
    expect(
      inputError(() =>
        resolveConnection({ tenantId: TENANT, clientId: "1234", clientSecret: "abcdefgh" }, {}),
      ).field,
    ).toBe("clientId (MDE_CLIENT_ID)");
    expect(
      inputError(() => resolveConnection({ clientId: CLIENT, clientSecret: "abcdefgh" }, {})).field,
    ).toBe("tenantId (MDE_TENANT_ID)");
    // A verified domain is a valid tenant.
    expect(
      resolveConnection(
        { tenantId: "contoso.onmicrosoft.com", clientId: CLIENT, clientSecret: "abcdefgh" },
        {},
      ).tenantId,
    ).toBe("contoso.onmicrosoft.com");
  });

  it("wants exactly one credential kind, and never echoes the secret", () => {
    const none = inputError(() => resolveConnection({ tenantId: TENANT, clientId: CLIENT }, {}));
    expect(none.message).toContain("no credential");
    const secret = "Very-Secret-Value-42";
    const dir = mkdtempSync(join(tmpdir(), "mde-core-"));
    const pem = join(dir, "c.pem");
    writeFileSync(
      pem,
      "-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----\n-----BEGIN CERTIFICATE-----\ny\n-----END CERTIFICATE-----\n",
    );
    const both = inputError(() =>
      resolveConnection(
        { tenantId: TENANT, clientId: CLIENT, clientSecret: secret, clientCertificatePath: pem },
        {},
      ),
    );
    expect(both.field).toBe("clientCertificatePath (MDE_CLIENT_CERTIFICATE)");
    expect(both.message).toContain("exactly one");
    expect(both.message).not.toContain(secret);
    const envBoth = inputError(() =>
      resolveConnection(
        {},
        {
          MDE_TENANT_ID: TENANT,
          MDE_CLIENT_ID: CLIENT,
          MDE_CLIENT_SECRET: secret,
          MDE_ACCESS_TOKEN: "tok-abcdef",
        },
      ),
    );
    expect(envBoth.message).toContain("clientSecret (MDE_CLIENT_SECRET) and accessToken (MDE_ACCESS_TOKEN)");
  });

  it("checks the certificate file", () => {
    const missing = inputError(() =>
      resolveConnection(
        { tenantId: TENANT, clientId: CLIENT, clientCertificatePath: "/nonexistent/c.pem" },
        {},
      ),
    );
    expect(missing.field).toBe("clientCertificatePath (MDE_CLIENT_CERTIFICATE)");
    expect(missing.message).toContain("ENOENT");
    const dir = mkdtempSync(join(tmpdir(), "mde-core-"));
    const certOnly = join(dir, "c.pem");
    writeFileSync(certOnly, "-----BEGIN CERTIFICATE-----\ny\n-----END CERTIFICATE-----\n");
    expect(
      inputError(() =>
        resolveConnection({ tenantId: TENANT, clientId: CLIENT }, { MDE_CLIENT_CERTIFICATE: certOnly }),
      ).message,
    ).toContain("both the private key and the certificate");
  });

  it("checks the CA file (MDE_CA_FILE) and reads it into caPem", () => {
    const base = { tenantId: TENANT, clientId: CLIENT, accessToken: "token-abcdefgh" };
    const missing = inputError(() => resolveConnection(base, { MDE_CA_FILE: "/nonexistent/ca.pem" }));
    expect(missing.field).toBe("caPem (MDE_CA_FILE)");
    expect(missing.message).toContain("cannot read CA file");
    expect(missing.message).toContain("ENOENT");
    const dir = mkdtempSync(join(tmpdir(), "mde-core-"));
    const notPem = join(dir, "ca.txt");
    writeFileSync(notPem, "not a certificate\n");
    const bad = inputError(() => resolveConnection(base, { MDE_CA_FILE: notPem }));
    expect(bad.field).toBe("caPem (MDE_CA_FILE)");
    expect(bad.message).toContain("holds no PEM certificate");
    const ca = join(dir, "ca.pem");
    const pem = "-----BEGIN CERTIFICATE-----\ny\n-----END CERTIFICATE-----\n";
    writeFileSync(ca, pem);
    expect(resolveConnection(base, { MDE_CA_FILE: ca }).caPem).toBe(pem);
  });

  it("refuses an http sign-in authority", () => {
    const e = inputError(() =>
      resolveConnection(
        { tenantId: TENANT, clientId: CLIENT, clientSecret: "abcdefgh", authorityHost: "http://127.0.0.1:1" },
        {},
      ),
    );
    expect(e.field).toBe("authorityHost (MDE_AUTHORITY_HOST)");
  });
});
