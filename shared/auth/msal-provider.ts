/**
 * App-only tokens through MSAL (client credentials: secret, certificate or assertion callback).
 * We keep our own cache on the injected Clock and ask MSAL with `skipCache`, because MSAL's cache runs on
 * the wall clock: under a scaled benchmark clock it would hand out tokens the (scaled) service already
 * considers expired. Tokens are refreshed a margin before expiry so a many-hour run never sends a stale one.
 */
import type { ConfidentialClientApplication, Configuration } from "@azure/msal-node";
import type { Clock } from "../clock.js";
import type { Credential } from "../config/settings.js";
import type { HttpDispatchers } from "../http/dispatcher.js";
import { emit, type HttpHooks, type TokenEvent } from "../http/events.js";
import { registerSecret } from "../redact.js";
import { memoiseAssertion } from "./assertion.js";
import { parseCertificatePem } from "./certificate.js";
import { type SignInContext, toAuthenticationError } from "./entra-errors.js";
import { UndiciNetworkClient } from "./network-client.js";
import type { TokenProvider } from "./token-provider.js";

export const DEFAULT_REFRESH_MARGIN_MS = 5 * 60_000;

export interface MsalProviderOptions {
  tenantId: string;
  clientId: string;
  authorityHost: string;
  scope: string;
  oidcAudience: string;
  credential: Exclude<Credential, { kind: "token" }>;
  dispatchers: HttpDispatchers;
  clock: Clock;
  refreshMarginMs?: number;
  hooks?: HttpHooks;
}

/** Hosts MSAL knows as Microsoft authorities; anything else (the emulator) must be declared trusted. */
const MICROSOFT_AUTHORITY_HOSTS = new Set([
  "login.microsoftonline.com",
  "login.microsoftonline.us",
  "login.microsoft.com",
  "login.windows.net",
  "login.chinacloudapi.cn",
]);

export class MsalTokenProvider implements TokenProvider {
  readonly canRefresh = true;
  private readonly auth: Configuration["auth"];
  // Created on the first sign-in: loading msal-node costs start-up time a bearer-token run never needs.
  private app: Promise<ConfidentialClientApplication> | undefined;
  private readonly ctx: SignInContext;
  private readonly network: UndiciNetworkClient;
  private cached: { token: string; refreshAt: number; expiresAt: number } | undefined;
  private inflight: Promise<string> | undefined;

  constructor(private readonly options: MsalProviderOptions) {
    const cred = options.credential;
    this.ctx = {
      tenantId: options.tenantId,
      clientId: options.clientId,
      authorityHost: options.authorityHost,
      scope: options.scope,
      oidcAudience: options.oidcAudience,
      credentialKind: cred.kind,
    };
    const host = new URL(options.authorityHost).host;
    const auth: Configuration["auth"] = {
      clientId: options.clientId,
      authority: `${options.authorityHost}/${options.tenantId}`,
      ...(MICROSOFT_AUTHORITY_HOSTS.has(host) ? {} : { knownAuthorities: [host] }),
    };
    if (cred.kind === "secret") {
      auth.clientSecret = cred.clientSecret;
    } else if (cred.kind === "certificate") {
      const c = parseCertificatePem(cred.pem, "clientCertificate");
      auth.clientCertificate = { privateKey: c.privateKey, thumbprintSha256: c.thumbprintSha256, x5c: c.x5c };
    } else {
      const memo = memoiseAssertion(cred.getAssertion, undefined, options.clock);
      auth.clientAssertion = () => memo.get();
    }
    this.auth = auth;
    this.network = new UndiciNetworkClient(options.dispatchers);
  }

  private msalApp(): Promise<ConfidentialClientApplication> {
    this.app ??= import("@azure/msal-node").then(
      ({ ConfidentialClientApplication, LogLevel }) =>
        new ConfidentialClientApplication({
          auth: this.auth,
          system: {
            networkClient: this.network,
            // MSAL logs can contain request details; keep them off.
            loggerOptions: { logLevel: LogLevel.Error, piiLoggingEnabled: false, loggerCallback: () => {} },
          },
        }),
    );
    return this.app;
  }

  getToken(options: { forceRefresh?: boolean; signal?: AbortSignal } = {}): Promise<string> {
    options.signal?.throwIfAborted();
    const now = this.options.clock.now();
    if (!options.forceRefresh && this.cached && now < this.cached.refreshAt)
      return Promise.resolve(this.cached.token);
    const reason: TokenEvent["reason"] = options.forceRefresh
      ? "forced"
      : this.cached
        ? "expiring"
        : "initial";
    if (options.forceRefresh) this.cached = undefined;
    this.inflight ??= this.acquire(reason).finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async acquire(reason: TokenEvent["reason"]): Promise<string> {
    let result: Awaited<ReturnType<ConfidentialClientApplication["acquireTokenByClientCredential"]>>;
    this.network.lastExpiresInSec = undefined;
    // Lifetime counts from before the request: conservative by the sign-in latency.
    const requestedAt = this.options.clock.now();
    try {
      const app = await this.msalApp();
      result = await app.acquireTokenByClientCredential({
        scopes: [this.options.scope],
        skipCache: true,
      });
    } catch (error) {
      throw toAuthenticationError(error, this.ctx);
    }
    if (!result?.accessToken) {
      throw toAuthenticationError(new Error("Entra returned no access token"), this.ctx);
    }
    registerSecret(result.accessToken);
    // `expires_in` is a duration in service time: measure it on our Clock. MSAL's expiresOn (wall clock,
    // whole seconds) is only the fallback. Acquisition is single-flight, so the last response is ours.
    const expiresInSec = this.network.lastExpiresInSec;
    const lifetimeMs =
      expiresInSec !== undefined
        ? expiresInSec * 1000
        : result.expiresOn
          ? Math.max(0, result.expiresOn.getTime() - Date.now())
          : 3_600_000;
    const margin = Math.min(this.options.refreshMarginMs ?? DEFAULT_REFRESH_MARGIN_MS, lifetimeMs / 4);
    this.cached = {
      token: result.accessToken,
      refreshAt: requestedAt + lifetimeMs - margin,
      expiresAt: requestedAt + lifetimeMs,
    };
    emit(this.options.hooks?.onToken, { lifetimeMs, refreshAt: this.cached.refreshAt, reason });
    return result.accessToken;
  }
}
