/**
 * The Entra-like authority against real @azure/msal-node (§2.1, §2.4, §7.2): secret, certificate and
 * federated-assertion sign-in over HTTPS trusting only the emulator's CA, plus the AADSTS error shapes.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { ConfidentialClientApplication, type INetworkModule, type NetworkResponse } from "@azure/msal-node";
import { Agent, fetch as undiciFetch } from "undici";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { DEMO_GITHUB_SUBJECT, generateCertificate, startEmulator } from "../../shared/emulator/index.js";
import type { EmulatorHandle } from "../../shared/emulator/types.js";

const SCOPE = "https://api.securitycenter.microsoft.com/.default";
const execFileAsync = promisify(execFile);
const appCert = generateCertificate({ commonName: "mde-lr test app" });
const certApp = {
  tenantId: "",
  clientId: "6f0e3a1c-9d0b-4c57-b1d5-3a9f1e2d4c01",
  certificatePem: appCert.certPem,
  federated: [
    {
      issuer: "https://token.actions.githubusercontent.com",
      subject: "repo:contoso/ir:ref:refs/heads/main",
      audience: "api://AzureADTokenExchange",
    },
  ],
  roles: ["Machine.Read.All"],
};

/** MSAL network module on undici trusting the emulator CA — the shape the core's client uses. */
function networkClient(caPem: string, seen: string[]): INetworkModule {
  const dispatcher = new Agent({ connect: { ca: caPem } });
  const send = async <T>(
    url: string,
    method: string,
    options?: { headers?: Record<string, string>; body?: string },
  ) => {
    seen.push(`${method} ${new URL(url).pathname}`);
    const res = await undiciFetch(url, {
      method,
      headers: options?.headers,
      body: options?.body,
      dispatcher,
    });
    const headers: Record<string, string> = {};
    res.headers.forEach((v, k) => {
      headers[k] = v;
    });
    return { headers, body: (await res.json()) as T, status: res.status } satisfies NetworkResponse<T>;
  };
  return {
    sendGetRequestAsync: (url, options) => send(url, "GET", options),
    sendPostRequestAsync: (url, options) => send(url, "POST", options),
  };
}

let emu: EmulatorHandle;
const seen: string[] = [];

beforeAll(async () => {
  // The tenant id is generated per instance, so start once to learn it, then register the cert app in it.
  const probe = await startEmulator({ seed: 7 });
  certApp.tenantId = probe.demoApp.tenantId;
  await probe.close();
  emu = await startEmulator({ seed: 7, apps: [certApp] });
  expect(emu.demoApp.tenantId).toBe(certApp.tenantId);
});
afterAll(() => emu.close());

function msal(auth: Record<string, unknown>) {
  const host = new URL(emu.authorityHost).host;
  return new ConfidentialClientApplication({
    auth: {
      clientId: String(auth.clientId ?? emu.demoApp.clientId),
      authority: `${emu.authorityHost}/${emu.demoApp.tenantId}`,
      knownAuthorities: [host],
      ...auth,
    },
    system: { networkClient: networkClient(emu.caPem, seen) },
  });
}

async function callApi(token: string) {
  return fetch(`${emu.url}/api/machines`, { headers: { authorization: `Bearer ${token}` } });
}

async function tokenForm(form: Record<string, string>, tenant = emu.demoApp.tenantId) {
  const res = await undiciFetch(`${emu.authorityHost}/${tenant}/oauth2/v2.0/token`, {
    method: "POST",
    body: new URLSearchParams(form),
    dispatcher: new Agent({ connect: { ca: emu.caPem } }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe("§7.2 Entra sign-in with real @azure/msal-node", () => {
  test("§7.2 client secret: MSAL gets a token the API accepts; discovery goes only to the emulator", async () => {
    const result = await msal({ clientSecret: emu.demoApp.clientSecret }).acquireTokenByClientCredential({
      scopes: [SCOPE],
    });
    expect(result?.accessToken).toBeTruthy();
    expect((await callApi(result?.accessToken ?? "")).status).toBe(200);
    expect(seen.some((s) => s.endsWith("/v2.0/.well-known/openid-configuration"))).toBe(true);
    expect(seen.some((s) => s.endsWith("/oauth2/v2.0/token"))).toBe(true);
  });

  test("§7.2 MSAL's own network client in a child process trusting the CA via NODE_EXTRA_CA_CERTS", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "mde-emu-ca-"));
    const caFile = path.join(dir, "ca.pem");
    writeFileSync(caFile, emu.caPem);
    const script = `
      const { ConfidentialClientApplication } = require("@azure/msal-node");
      const app = new ConfidentialClientApplication({ auth: {
        clientId: process.env.CLIENT_ID, clientSecret: process.env.CLIENT_SECRET,
        authority: process.env.AUTHORITY, knownAuthorities: [new URL(process.env.AUTHORITY).host] } });
      app.acquireTokenByClientCredential({ scopes: [process.env.SCOPE] })
        .then((r) => process.stdout.write(r.accessToken), (e) => { process.stderr.write(String(e)); process.exit(1); });`;
    const { stdout } = await execFileAsync(process.execPath, ["-e", script], {
      cwd: process.cwd(),
      env: {
        ...process.env,
        NODE_EXTRA_CA_CERTS: caFile,
        CLIENT_ID: emu.demoApp.clientId,
        CLIENT_SECRET: emu.demoApp.clientSecret,
        AUTHORITY: `${emu.authorityHost}/${emu.demoApp.tenantId}`,
        SCOPE,
      },
    });
    rmSync(dir, { recursive: true, force: true });
    expect((await callApi(stdout)).status).toBe(200);
  });

  test("§7.2 certificate: SHA-256 thumbprint (PS256) and SHA-1 thumbprint (RS256) assertions", async () => {
    for (const clientCertificate of [
      { thumbprintSha256: appCert.thumbprintSha256Hex, privateKey: appCert.keyPem },
      { thumbprint: appCert.thumbprintSha1Hex, privateKey: appCert.keyPem },
    ]) {
      const result = await msal({
        clientId: certApp.clientId,
        clientCertificate,
      }).acquireTokenByClientCredential({
        scopes: [SCOPE],
      });
      expect((await callApi(result?.accessToken ?? "")).status).toBe(200);
    }
  });

  test("§7.2 certificate: a key the app does not have registered is refused (AADSTS700027)", async () => {
    const other = generateCertificate();
    await expect(
      msal({
        clientId: certApp.clientId,
        clientCertificate: { thumbprintSha256: other.thumbprintSha256Hex, privateKey: other.keyPem },
      }).acquireTokenByClientCredential({ scopes: [SCOPE] }),
    ).rejects.toThrow(/AADSTS700027/);
  });

  test("§7.2 federated: an assertion callback returning a GitHub OIDC token signs in", async () => {
    const result = await msal({
      clientAssertion: async () => emu.issueGitHubIdToken({ subject: DEMO_GITHUB_SUBJECT }),
    }).acquireTokenByClientCredential({ scopes: [SCOPE] });
    expect((await callApi(result?.accessToken ?? "")).status).toBe(200);
  });

  test("§7.2 scope for api.security.microsoft.com yields a token the API refuses with 403", async () => {
    const result = await msal({ clientSecret: emu.demoApp.clientSecret }).acquireTokenByClientCredential({
      scopes: ["https://api.security.microsoft.com/.default"],
    });
    const res = await callApi(result?.accessToken ?? "");
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("Forbidden");
  });

  test("§7.2 token roles come from the app registration (cert app lacks Machine.LiveResponse → 403)", async () => {
    const result = await msal({
      clientId: certApp.clientId,
      clientCertificate: { thumbprintSha256: appCert.thumbprintSha256Hex, privateKey: appCert.keyPem },
    }).acquireTokenByClientCredential({ scopes: [SCOPE] });
    const machine = emu.state.machineIds()[0];
    const res = await fetch(`${emu.url}/api/machines/${machine}/runliveresponse`, {
      method: "POST",
      headers: { authorization: `Bearer ${result?.accessToken}`, "content-type": "application/json" },
      body: JSON.stringify({ Commands: [], Comment: "x" }),
    });
    expect(res.status).toBe(403);
  });
});

describe("§7.2 Entra errors carry AADSTS codes", () => {
  const expectAadsts = (
    r: { status: number; body: Record<string, unknown> },
    status: number,
    code: number,
  ) => {
    expect(r.status).toBe(status);
    expect(r.body.error_codes).toEqual([code]);
    expect(String(r.body.error_description)).toMatch(new RegExp(`^AADSTS${code}:`));
    for (const field of ["error", "timestamp", "trace_id", "correlation_id"])
      expect(r.body[field]).toBeTruthy();
  };
  const base = () => ({ grant_type: "client_credentials", client_id: emu.demoApp.clientId, scope: SCOPE });

  test("§7.2 wrong secret → 401 AADSTS7000215", async () => {
    expectAadsts(await tokenForm({ ...base(), client_secret: "nope" }), 401, 7000215);
  });
  test("§7.2 unknown app → 400 AADSTS700016", async () => {
    expectAadsts(
      await tokenForm({ ...base(), client_id: "00000000-0000-0000-0000-000000000001", client_secret: "x" }),
      400,
      700016,
    );
  });
  test("§7.2 unknown tenant → 400 AADSTS90002", async () => {
    expectAadsts(
      await tokenForm(
        { ...base(), client_secret: emu.demoApp.clientSecret },
        "11111111-2222-3333-4444-555555555555",
      ),
      400,
      90002,
    );
  });
  const federated = (assertion: string) => ({
    ...base(),
    client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
    client_assertion: assertion,
  });
  test("§7.2 federated subject mismatch → AADSTS700213", async () => {
    const jwt = emu.issueGitHubIdToken({ subject: "repo:contoso/mde-live-response:pull_request" });
    expectAadsts(await tokenForm(federated(jwt)), 400, 700213);
  });
  test("§7.2 federated audience mismatch → AADSTS700212", async () => {
    const jwt = emu.issueGitHubIdToken({ subject: DEMO_GITHUB_SUBJECT, audience: "api://SomethingElse" });
    expectAadsts(await tokenForm(federated(jwt)), 400, 700212);
  });
  test("§7.2 expired federated assertion → AADSTS700024", async () => {
    const jwt = emu.issueGitHubIdToken({ subject: DEMO_GITHUB_SUBJECT, lifetimeMs: -1_000 });
    expectAadsts(await tokenForm(federated(jwt)), 400, 700024);
  });
  test("§7.2 a forged GitHub token (not signed by the emulator's issuer key) is refused", async () => {
    const jwt = emu.issueGitHubIdToken({ subject: DEMO_GITHUB_SUBJECT });
    const [h, c] = jwt.split(".");
    expectAadsts(
      await tokenForm(federated(`${h}.${c}.${Buffer.from("forged").toString("base64url")}`)),
      400,
      700211,
    );
  });
  test("§7.2 unknown resource in scope → 400 AADSTS500011; scope without /.default → AADSTS1002012", async () => {
    expectAadsts(
      await tokenForm({
        ...base(),
        client_secret: emu.demoApp.clientSecret,
        scope: "https://example.invalid/.default",
      }),
      400,
      500011,
    );
    expectAadsts(
      await tokenForm({ ...base(), client_secret: emu.demoApp.clientSecret, scope: "Machine.Read.All" }),
      400,
      1002012,
    );
  });
  test("§7.2 v1 endpoint with resource= (older docs) issues an API token", async () => {
    const res = await undiciFetch(`${emu.authorityHost}/${emu.demoApp.tenantId}/oauth2/token`, {
      method: "POST",
      body: new URLSearchParams({
        grant_type: "client_credentials",
        client_id: emu.demoApp.clientId,
        client_secret: emu.demoApp.clientSecret,
        resource: "https://api.securitycenter.microsoft.com",
      }),
      dispatcher: new Agent({ connect: { ca: emu.caPem } }),
    });
    const body = (await res.json()) as { access_token: string; resource: string };
    expect(res.status).toBe(200);
    expect(body.resource).toBe("https://api.securitycenter.microsoft.com");
    expect((await callApi(body.access_token)).status).toBe(200);
  });
  test("§7.2 expires_in follows faults.tokenLifetimeMs and the token expires on the emulator clock", async () => {
    const { ManualClock } = await import("../../shared/emulator/index.js");
    const clock = new ManualClock();
    const short = await startEmulator({ clock, faults: { tokenLifetimeMs: 120_000 } });
    try {
      const res = await undiciFetch(`${short.authorityHost}/${short.demoApp.tenantId}/oauth2/v2.0/token`, {
        method: "POST",
        body: new URLSearchParams({
          grant_type: "client_credentials",
          client_id: short.demoApp.clientId,
          client_secret: short.demoApp.clientSecret,
          scope: SCOPE,
        }),
        dispatcher: new Agent({ connect: { ca: short.caPem } }),
      });
      const body = (await res.json()) as { expires_in: number; access_token: string; token_type: string };
      expect(body.token_type).toBe("Bearer");
      expect(body.expires_in).toBe(120);
      const call = () =>
        fetch(`${short.url}/api/machines`, { headers: { authorization: `Bearer ${body.access_token}` } });
      expect((await call()).status).toBe(200);
      clock.advance(121_000);
      expect((await call()).status).toBe(401);
    } finally {
      await short.close();
    }
  });
});
