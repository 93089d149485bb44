/**
 * An Entra ID look-alike on HTTPS (mde-api.md §2.1, §2.4): OpenID discovery, instance discovery and the
 * v2/v1 token endpoints for `client_credentials` with a client secret, a certificate-signed client
 * assertion, or a federated (GitHub-style OIDC) assertion. Errors carry realistic AADSTS codes.
 *
 * Clock choice: tokens and GitHub ID tokens minted here use the emulator clock; certificate assertions
 * are built by the client (MSAL stamps them with its own wall clock), so their `exp`/`nbf` are checked
 * against real time with Entra's 5-minute skew — otherwise a scaled clock would reject every one.
 */
import { generateKeyPairSync, type KeyObject, randomUUID, X509Certificate } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Clock } from "../clock.js";
import { redact } from "../redact.js";
import { KNOWN_RESOURCES, type TokenAuthority } from "./auth.js";
import { type DecodedJwt, decodeJwt, signRs256, verifyAsymmetric } from "./jwt.js";
import { readBody } from "./respond.js";
import { thumbprints } from "./tls.js";
import type { RegisteredApp } from "./types.js";

export const GITHUB_ISSUER = "https://token.actions.githubusercontent.com";
export const GITHUB_AUDIENCE = "api://AzureADTokenExchange";
const JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const SKEW_MS = 5 * 60_000;

class EntraError {
  constructor(
    readonly status: 400 | 401,
    readonly error: string,
    readonly aadsts: number,
    readonly description: string,
  ) {}
}

interface AppKeys {
  app: RegisteredApp;
  cert?: { publicKey: KeyObject; x5t: string; x5tS256: string };
}

export interface EntraDeps {
  clock: Clock;
  tokens: TokenAuthority;
  tokenLifetimeMs(): number;
  authorityHost(): string;
}

export class Entra {
  private readonly apps: AppKeys[] = [];
  private githubKey: { privateKey: KeyObject; publicKey: KeyObject } | undefined;

  constructor(
    private readonly deps: EntraDeps,
    apps: RegisteredApp[],
  ) {
    for (const app of apps) this.register(app);
  }

  register(app: RegisteredApp): void {
    const entry: AppKeys = { app };
    if (app.certificatePem) {
      const t = thumbprints(app.certificatePem);
      entry.cert = {
        publicKey: new X509Certificate(app.certificatePem).publicKey,
        x5t: t.x5t,
        x5tS256: t.x5tS256,
      };
    }
    this.apps.push(entry);
  }

  private tenants(): Set<string> {
    return new Set(this.apps.map((a) => a.app.tenantId.toLowerCase()));
  }

  issueGitHubIdToken(options: {
    subject: string;
    audience?: string;
    lifetimeMs?: number;
    issuer?: string;
  }): string {
    const now = this.deps.clock.now();
    const iat = Math.floor(now / 1000);
    const repo = /^repo:([^:]+):/.exec(options.subject)?.[1] ?? "example/repo";
    return signRs256(
      {
        jti: randomUUID(),
        sub: options.subject,
        aud: options.audience ?? GITHUB_AUDIENCE,
        iss: options.issuer ?? GITHUB_ISSUER,
        iat,
        nbf: iat - 5,
        exp: Math.floor((now + (options.lifetimeMs ?? 300_000)) / 1000),
        repository: repo,
        repository_owner: repo.split("/")[0],
        ref: "refs/heads/main",
        event_name: "workflow_dispatch",
        runner_environment: "github-hosted",
      },
      this.github().privateKey,
      { kid: "mde-emulator-github" },
    );
  }

  private github(): { privateKey: KeyObject; publicKey: KeyObject } {
    this.githubKey ??= generateKeyPairSync("rsa", { modulusLength: 2048 });
    return this.githubKey;
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    this.route(req, res).catch((error: unknown) => {
      if (!res.headersSent)
        sendEntraError(res, new EntraError(400, "server_error", 90100, "Unexpected error"));
      // Same as the API router: a half-sent answer must not leave the client waiting for the rest.
      else res.destroy();
      console.error(
        "mde emulator (entra):",
        redact(error instanceof Error ? (error.stack ?? error.message) : String(error)),
      );
    });
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "https://emulator.invalid");
    const host = this.deps.authorityHost();
    if (req.method === "GET" && /^\/common\/discovery\/instance$/i.test(url.pathname)) {
      const authority = host.replace(/^https:\/\//, "");
      return json(res, 200, {
        tenant_discovery_endpoint: `${host}/common/v2.0/.well-known/openid-configuration`,
        "api-version": "1.1",
        metadata: [{ preferred_network: authority, preferred_cache: authority, aliases: [authority] }],
      });
    }
    const config = /^\/([^/]+)\/v2\.0\/\.well-known\/openid-configuration$/i.exec(url.pathname);
    if (req.method === "GET" && config?.[1]) {
      const tenant = config[1];
      if (!this.knownTenant(tenant)) {
        return sendEntraError(
          res,
          new EntraError(400, "invalid_tenant", 90002, `Tenant '${tenant}' not found.`),
        );
      }
      const base = `${host}/${tenant}`;
      return json(res, 200, {
        token_endpoint: `${base}/oauth2/v2.0/token`,
        token_endpoint_auth_methods_supported: [
          "client_secret_post",
          "private_key_jwt",
          "client_secret_basic",
        ],
        jwks_uri: `${host}/${tenant}/discovery/v2.0/keys`,
        response_modes_supported: ["query", "fragment", "form_post"],
        subject_types_supported: ["pairwise"],
        id_token_signing_alg_values_supported: ["RS256"],
        response_types_supported: ["code", "id_token", "code id_token", "id_token token"],
        scopes_supported: ["openid", "profile", "email", "offline_access"],
        issuer: `${host}/${tenant}/v2.0`,
        request_uri_parameter_supported: false,
        userinfo_endpoint: `${host}/oidc/userinfo`,
        authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
        device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
        http_logout_supported: true,
        frontchannel_logout_supported: true,
        end_session_endpoint: `${base}/oauth2/v2.0/logout`,
        claims_supported: ["sub", "iss", "aud", "exp", "iat", "tid"],
        kerberos_endpoint: `${base}/kerberos`,
        tenant_region_scope: "NA",
        cloud_instance_name: "microsoftonline.com",
        cloud_graph_host_name: "graph.windows.net",
        msgraph_host: "graph.microsoft.com",
        rbac_url: "https://pas.windows.net",
      });
    }
    const token = /^\/([^/]+)\/oauth2\/(v2\.0\/)?token$/i.exec(url.pathname);
    if (req.method === "POST" && token?.[1]) {
      const body = (await readBody(req, 65_536)) ?? Buffer.alloc(0);
      const form = new URLSearchParams(body.toString("utf8"));
      try {
        const endpoint = `${host}${url.pathname}`;
        return json(res, 200, this.token(token[1], form, token[2] !== undefined, endpoint), {
          "Cache-Control": "no-store, no-cache",
          Pragma: "no-cache",
        });
      } catch (error) {
        if (error instanceof EntraError) return sendEntraError(res, error);
        throw error;
      }
    }
    req.resume();
    json(res, 404, { error: "not_found", error_description: `No such endpoint ${url.pathname}` });
  }

  private knownTenant(tenant: string): boolean {
    return this.tenants().has(tenant.toLowerCase());
  }

  private token(
    tenant: string,
    form: URLSearchParams,
    v2: boolean,
    endpoint: string,
  ): Record<string, unknown> {
    if (!this.knownTenant(tenant)) {
      throw new EntraError(
        400,
        "invalid_tenant",
        90002,
        `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`,
      );
    }
    const grant = form.get("grant_type");
    if (grant !== "client_credentials") {
      throw new EntraError(
        400,
        "unsupported_grant_type",
        70003,
        `The app requested an unsupported grant type '${grant}'.`,
      );
    }
    const clientId = form.get("client_id") ?? "";
    const entry = this.apps.find(
      (a) =>
        a.app.tenantId.toLowerCase() === tenant.toLowerCase() &&
        a.app.clientId.toLowerCase() === clientId.toLowerCase(),
    );
    if (!entry) {
      throw new EntraError(
        400,
        "unauthorized_client",
        700016,
        `Application with identifier '${clientId}' was not found in the directory '${tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.`,
      );
    }
    const resource = this.resource(form, v2);
    this.authenticate(entry, form, endpoint);
    const now = this.deps.clock.now();
    const lifetime = this.deps.tokenLifetimeMs();
    const accessToken = this.deps.tokens.issue({
      tenantId: entry.app.tenantId,
      appId: entry.app.clientId,
      roles: entry.app.roles,
      audience: resource,
      issuedAt: now,
      lifetimeMs: lifetime,
    });
    const expiresIn = Math.max(1, Math.round(lifetime / 1000));
    return {
      token_type: "Bearer",
      expires_in: expiresIn,
      ext_expires_in: expiresIn,
      ...(v2 ? {} : { expires_on: String(Math.floor((now + lifetime) / 1000)), resource }),
      access_token: accessToken,
    };
  }

  private resource(form: URLSearchParams, v2: boolean): string {
    if (!v2) {
      const resource = form.get("resource") ?? "";
      if (!KNOWN_RESOURCES.has(resource.replace(/\/$/, ""))) throw unknownResource(resource);
      return resource.replace(/\/$/, "");
    }
    const scopes = (form.get("scope") ?? "").split(/\s+/).filter(Boolean);
    const scope = scopes.find((s) => s.endsWith("/.default"));
    if (!scope) {
      throw new EntraError(
        400,
        "invalid_scope",
        1002012,
        `The provided value for scope '${form.get("scope") ?? ""}' is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
      );
    }
    const resource = scope.slice(0, -"/.default".length);
    if (!KNOWN_RESOURCES.has(resource)) throw unknownResource(resource);
    return resource;
  }

  private authenticate(entry: AppKeys, form: URLSearchParams, endpoint: string): void {
    const secret = form.get("client_secret");
    const assertion = form.get("client_assertion");
    const app = entry.app;
    if (secret !== null) {
      if (!app.clientSecret || secret !== app.clientSecret) {
        throw new EntraError(
          401,
          "invalid_client",
          7000215,
          "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '" +
            app.clientId +
            "'.",
        );
      }
      return;
    }
    if (assertion === null) {
      throw new EntraError(
        400,
        "invalid_client",
        7000218,
        "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
      );
    }
    if (form.get("client_assertion_type") !== JWT_BEARER) {
      throw new EntraError(400, "invalid_request", 50027, `client_assertion_type must be '${JWT_BEARER}'.`);
    }
    const jwt = decodeJwt(assertion);
    if (!jwt)
      throw new EntraError(400, "invalid_client", 50027, "Invalid JWT token. The token is malformed.");
    if (typeof jwt.header.x5t === "string" || typeof jwt.header["x5t#S256"] === "string") {
      this.certificateAssertion(entry, jwt, endpoint);
    } else {
      this.federatedAssertion(entry, jwt);
    }
  }

  private certificateAssertion(entry: AppKeys, jwt: DecodedJwt, endpoint: string): void {
    const app = entry.app;
    const cert = entry.cert;
    const matches =
      cert !== undefined && (jwt.header["x5t#S256"] === cert.x5tS256 || jwt.header.x5t === cert.x5t);
    if (!cert || !matches) {
      throw new EntraError(
        401,
        "invalid_client",
        700027,
        `The certificate with identifier used to sign the client assertion is not registered on application '${app.clientId}'.`,
      );
    }
    if (!verifyAsymmetric(jwt, cert.publicKey)) {
      throw new EntraError(401, "invalid_client", 700027, "Client assertion failed signature validation.");
    }
    const { aud, exp, nbf, iss, sub } = jwt.claims;
    if (iss !== app.clientId || sub !== app.clientId) {
      throw new EntraError(
        401,
        "invalid_client",
        700023,
        "Client assertion 'iss' and 'sub' must be the client id.",
      );
    }
    const audiences = Array.isArray(aud) ? aud : [aud];
    if (!audiences.some((a) => typeof a === "string" && a.toLowerCase() === endpoint.toLowerCase())) {
      throw new EntraError(
        401,
        "invalid_client",
        700212,
        `The audience '${String(aud)}' of the client assertion does not match the token endpoint '${endpoint}'.`,
      );
    }
    const now = Date.now();
    if (
      typeof exp !== "number" ||
      exp * 1000 + SKEW_MS < now ||
      (typeof nbf === "number" && nbf * 1000 - SKEW_MS > now)
    ) {
      throw new EntraError(
        401,
        "invalid_client",
        700024,
        "Client assertion is not within its valid time range.",
      );
    }
  }

  private federatedAssertion(entry: AppKeys, jwt: DecodedJwt): void {
    const { iss, sub, aud, exp, nbf } = jwt.claims;
    const credentials = entry.app.federated ?? [];
    const byIssuer = credentials.filter((c) => c.issuer === iss);
    // The emulator plays GitHub's OIDC issuer: only tokens signed with its key are genuine.
    if (byIssuer.length === 0 || !verifyAsymmetric(jwt, this.github().publicKey)) {
      throw new EntraError(
        400,
        "invalid_client",
        700211,
        `No matching federated identity record found for presented assertion issuer '${String(iss)}'.`,
      );
    }
    const now = this.deps.clock.now();
    if (
      typeof exp !== "number" ||
      exp * 1000 <= now ||
      (typeof nbf === "number" && nbf * 1000 - SKEW_MS > now)
    ) {
      throw new EntraError(
        400,
        "invalid_client",
        700024,
        "Client assertion is not within its valid time range. Ensure that the token is fresh (GitHub ID tokens live about 5 minutes).",
      );
    }
    const bySubject = byIssuer.filter((c) => c.subject === sub);
    if (bySubject.length === 0) {
      throw new EntraError(
        400,
        "invalid_client",
        700213,
        `No matching federated identity record found for presented assertion subject '${String(sub)}'. Please note that the matching is done using a case-sensitive comparison. Check your federated identity credential Subject, Audience and Issuer against the presented assertion.`,
      );
    }
    const audiences = Array.isArray(aud) ? aud : [aud];
    if (!bySubject.some((c) => audiences.includes(c.audience))) {
      throw new EntraError(
        400,
        "invalid_client",
        700212,
        `No matching federated identity record found for presented assertion audience '${String(aud)}'.`,
      );
    }
  }
}

function unknownResource(resource: string): EntraError {
  return new EntraError(
    400,
    "invalid_resource",
    500011,
    `The resource principal named ${resource} was not found in the tenant. This can happen if the application has not been installed by the administrator of the tenant.`,
  );
}

function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

function sendEntraError(res: ServerResponse, e: EntraError): void {
  const traceId = randomUUID();
  const correlationId = randomUUID();
  const timestamp = new Date()
    .toISOString()
    .replace("T", " ")
    .replace(/\.\d+Z$/, "Z");
  json(res, e.status, {
    error: e.error,
    error_description: `AADSTS${e.aadsts}: ${e.description} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
    error_codes: [e.aadsts],
    timestamp,
    trace_id: traceId,
    correlation_id: correlationId,
    error_uri: `https://login.microsoftonline.com/error?code=${e.aadsts}`,
  });
}
