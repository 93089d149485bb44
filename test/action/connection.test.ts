import { describe, expect, it } from "vitest";
import { connectionOptions, decodeClaims, githubOidcAssertion } from "../../action/connection.js";
import { type Env, inputKey, readInputs } from "../../action/inputs.js";
import { AuthenticationError } from "../../shared/errors.js";

function jwt(claims: Record<string, unknown>): string {
  const b = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
  return `${b({ alg: "RS256" })}.${b(claims)}.c2ln`;
}

describe("OIDC assertion", () => {
  it("re-uses a GitHub ID token for four minutes, then fetches a fresh one (runs outlive one token)", async () => {
    let t = 0;
    const asked: string[] = [];
    const assertion = githubOidcAssertion(
      "api://AzureADTokenExchange",
      async (aud) => {
        asked.push(aud);
        return jwt({ sub: `s${asked.length}`, aud });
      },
      () => t,
    );
    const first = await assertion();
    t = 3 * 60_000;
    expect(await assertion()).toBe(first);
    t = 4 * 60_000 + 1;
    const second = await assertion();
    expect(second).not.toBe(first);
    t = 30 * 60_000;
    await assertion();
    expect(asked).toEqual([
      "api://AzureADTokenExchange",
      "api://AzureADTokenExchange",
      "api://AzureADTokenExchange",
    ]);
    expect(assertion.lastClaims()).toEqual({ sub: "s3", aud: "api://AzureADTokenExchange" });
  });

  it("never re-uses a token within a minute of its own exp", async () => {
    let t = 1_000_000;
    let n = 0;
    const assertion = githubOidcAssertion(
      "api://x",
      async () => jwt({ sub: `s${++n}`, exp: Math.floor((t + 90_000) / 1000) }),
      () => t,
    );
    const first = await assertion();
    t += 20_000;
    expect(await assertion()).toBe(first);
    t += 15_000; // 55 s left on the token: too close
    expect(await assertion()).not.toBe(first);
    expect(n).toBe(2);
  });

  it("explains a missing id-token permission", async () => {
    const assertion = githubOidcAssertion("api://x", async () => {
      throw new Error("Unable to get ACTIONS_ID_TOKEN_REQUEST_URL env variable");
    });
    await expect(assertion()).rejects.toThrow(AuthenticationError);
    await expect(assertion()).rejects.toThrow(/id-token: write/);
  });

  it("keeps only the claims Entra matches on", () => {
    expect(decodeClaims(jwt({ iss: "i", sub: "s", aud: "a", secret: "x", job_workflow_ref: "w" }))).toEqual({
      iss: "i",
      sub: "s",
      aud: "a",
      job_workflow_ref: "w",
    });
    expect(decodeClaims("not-a-jwt")).toBeNull();
  });
});

describe("connection options", () => {
  const TENANT = "11111111-2222-3333-4444-555555555555";
  const CLIENT = "66666666-7777-8888-9999-000000000000";
  const base: Env = { GITHUB_WORKSPACE: process.cwd() };
  const withInputs = (inputs: Record<string, string>): Env => {
    const e: Env = { ...base };
    for (const [k, v] of Object.entries(inputs)) e[inputKey(k)] = v;
    return e;
  };

  it("passes exactly the chosen credential to the core", () => {
    const inputs = readInputs(
      withInputs({
        commands: "- runScript: a.ps1",
        "machine-ids": "a".repeat(40),
        auth: "secret",
        "tenant-id": TENANT,
        "client-id": CLIENT,
        "client-secret": "sec-123456",
        "access-token": "tok-123456",
        region: "eu",
      }),
    );
    expect(connectionOptions(inputs, null)).toEqual({
      cloud: "public",
      region: "eu",
      tenantId: TENANT,
      clientId: CLIENT,
      clientSecret: "sec-123456",
    });
  });
});
