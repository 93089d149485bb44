import { ServerError } from "@azure/msal-node";
import { describe, expect, it } from "vitest";
import { toAuthenticationError } from "../../shared/auth/entra-errors.js";
import { AuthenticationError } from "../../shared/errors.js";

const ctx = {
  tenantId: "11111111-2222-3333-4444-555555555555",
  clientId: "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
  authorityHost: "https://login.microsoftonline.us",
  scope: "https://securitycenter.onmicrosoft.us/windowsatpservice/.default",
  oidcAudience: "api://AzureADTokenExchangeUSGov",
  credentialKind: "assertion" as const,
};

function entra(code: number, text: string): ServerError {
  // The shape MSAL raises for an Entra 400/401: errorNo from error_codes[0], description with AADSTS prefix.
  return new ServerError(
    "invalid_client",
    "corr-id",
    `AADSTS${code}: ${text} Trace ID: x Correlation ID: y`,
    "",
    String(code),
    400,
  );
}

describe("Entra errors → AuthenticationError", () => {
  it.each([
    [
      700213,
      "No matching federated identity record found for presented assertion subject 'repo:a/b:ref:refs/heads/x'.",
      "repo:ORG/REPO:environment:NAME",
    ],
    [70021, "No matching federated identity record found for presented assertion.", "propagate"],
    [700024, "Client assertion is not within its valid time range.", "fresh"],
    [
      700212,
      "No matching federated identity record found for presented assertion audience 'api://AzureADTokenExchange'.",
      "api://AzureADTokenExchangeUSGov",
    ],
    [7000215, "Invalid client secret provided.", "secret's Value"],
    [700016, "Application with identifier 'x' was not found in the directory.", "client ID"],
    [90002, "Tenant 'x' not found.", "tenant ID"],
  ])("AADSTS%i names the fix", (code, text, fix) => {
    const e = toAuthenticationError(entra(code, text), ctx);
    expect(e).toBeInstanceOf(AuthenticationError);
    expect((e as AuthenticationError).aadsts).toBe(`AADSTS${code}`);
    expect(e.message).toContain(fix);
    expect(e.kind).toBe("auth");
  });

  it("redacts secrets that would slip into a description", () => {
    const e = toAuthenticationError(
      new Error(
        "failed with client_secret=abc123secret&client_assertion=eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.sig",
      ),
      ctx,
    );
    expect(e.message).not.toContain("abc123secret");
    expect(e.message).not.toContain("eyJhbGciOiJSUzI1NiJ9");
  });
});
