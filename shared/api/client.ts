/**
 * `createMdeClient`: the typed MDE API over HTTP. Wires the pieces — settings, dispatcher, quota account, retry
 * policy, token provider, transport — and delegates each call to its per-resource module.
 */
import { readFile } from "node:fs/promises";
import { MsalTokenProvider } from "../auth/msal-provider.js";
import { unverifiedTokenIds } from "../auth/token-claims.js";
import { StaticTokenProvider, type TokenProvider } from "../auth/token-provider.js";
import { type Clock, systemClock } from "../clock.js";
import { type ConnectionOptions, type ResolvedConnection, resolveConnection } from "../config/settings.js";
import type { AppIdentity } from "../custody/types.js";
import { type RetryOptions, RetryPolicy } from "../http/backoff.js";
import { HttpDispatchers } from "../http/dispatcher.js";
import { CallCounter, type CallKind, type HttpHooks } from "../http/events.js";
import { type Limits, QuotaAccount } from "../http/quota.js";
import { HttpTransport } from "../http/transport.js";
import * as actions from "./actions.js";
import { downloadTo } from "./downloads.js";
import * as library from "./library.js";
import * as machines from "./machines.js";
import { parseTranscript } from "./transcript.js";
import type { MdeApi } from "./types.js";

export interface MdeClientOptions extends ConnectionOptions {
  clock?: Clock;
  /**
   * Client-side quotas; defaults are the documented 10/min submit, 100/min and 1,500/h other calls. A run
   * replaces them with its runbook's `options.limits` where the runbook states them (`client.quota`).
   */
  limits?: Partial<Limits>;
  retry?: Partial<RetryOptions>;
  hooks?: HttpHooks;
  /** Environment for MDE_* defaults and proxies (default process.env). */
  env?: Record<string, string | undefined>;
  /** Honour HTTP(S)_PROXY / NO_PROXY (default true; loopback is never proxied). */
  useEnvProxy?: boolean;
  /** Refresh tokens this long before expiry (default 5 min, at most a quarter of the lifetime). */
  tokenRefreshMarginMs?: number;
  /** Per-attempt API timeout in real ms (default 120 s). */
  requestTimeoutMs?: number;
  /** Pooled connections per origin (default 64); raise for wide parallel downloads. */
  connections?: number;
  /** Random source for back-off jitter (tests and reproducible benchmarks). */
  random?: () => number;
}

export interface MdeClient extends MdeApi {
  /** The one account every call of this client takes its quota slot from. */
  readonly quota: QuotaAccount;
  readonly identity: AppIdentity;
  readonly connection: Readonly<Omit<ResolvedConnection, "credential">> & { credentialKind: string };
  /** Requests sent per call kind, retries included. */
  callCounts(): Record<CallKind, number>;
  close(): Promise<void>;
}

export function createMdeClient(options: MdeClientOptions = {}): MdeClient {
  const env = options.env ?? process.env;
  const conn = resolveConnection(options, env);
  const clock = options.clock ?? systemClock;
  const dispatchers = new HttpDispatchers({
    caPem: conn.caPem,
    env,
    useEnvProxy: options.useEnvProxy ?? true,
    ...(options.connections !== undefined ? { connections: options.connections } : {}),
  });
  const tokens: TokenProvider =
    conn.credential.kind === "token"
      ? new StaticTokenProvider(conn.credential.accessToken)
      : new MsalTokenProvider({
          tenantId: conn.tenantId as string,
          clientId: conn.clientId as string,
          authorityHost: conn.authorityHost,
          scope: conn.scope,
          oidcAudience: conn.oidcAudience,
          credential: conn.credential,
          dispatchers,
          clock,
          hooks: options.hooks ?? {},
          ...(options.tokenRefreshMarginMs !== undefined
            ? { refreshMarginMs: options.tokenRefreshMarginMs }
            : {}),
        });
  const hooks = options.hooks ?? {};
  const counter = new CallCounter();
  const quota = new QuotaAccount(clock, options.limits);
  const t = new HttpTransport({
    apiUrl: conn.apiUrl,
    clock,
    dispatchers,
    quota,
    retry: new RetryPolicy(options.retry, options.random),
    tokens,
    hooks,
    counter,
    ...(options.requestTimeoutMs !== undefined ? { requestTimeoutMs: options.requestTimeoutMs } : {}),
  });
  const dl = { dispatchers, hooks, counter, clock };
  const { credential, ...publicConn } = conn;

  return {
    quota,
    identity: appIdentity(conn),
    connection: { ...publicConn, credentialKind: credential.kind },
    callCounts: () => counter.snapshot(),
    close: () => dispatchers.close(),

    getMachine: (id, o) => machines.getMachine(t, id, o),
    listMachines: (q, o) => machines.listMachines(t, q, o),
    findMachinesByTag: (tag, sw, o) => machines.findMachinesByTag(t, tag, sw, o),

    runLiveResponse: (id, req, o) => actions.runLiveResponse(t, id, req, o),
    getMachineAction: (id, o) => actions.getMachineAction(t, id, o),
    listMachineActions: (q, o) => actions.listMachineActions(t, q, o),
    cancelMachineAction: (id, c, o) => actions.cancelMachineAction(t, id, c, o),
    getResultDownloadLink: (id, i, o) => actions.getResultDownloadLink(t, id, i, o),

    downloadGetFileResult: (url, dest, o) => downloadTo(dl, url, dest, { gunzip: true, signal: o?.signal }),
    async downloadScriptResult(url, dest, o) {
      const file = await downloadTo(dl, url, dest, { gunzip: false, signal: o?.signal });
      // Transcripts are small text; read back from disk so the raw bytes stay exactly as received.
      const transcript = parseTranscript(await readFile(file.path));
      return { ...file, transcript };
    },

    listLibraryFiles: (o) => library.listLibraryFiles(t, o),
    uploadLibraryFile: (u, o) => library.uploadLibraryFile(t, u, o),
    deleteLibraryFile: (n, o) => library.deleteLibraryFile(t, n, o),
  };
}

/**
 * Who the client signs in as, for the chain of custody: the configured client and tenant id, or with a
 * bare access token the ids its (unverified) claims name. The token itself is not kept.
 */
function appIdentity(conn: ResolvedConnection): AppIdentity {
  if (conn.credential.kind !== "token") {
    return { clientId: conn.clientId ?? null, tenantId: conn.tenantId ?? null, source: "connection" };
  }
  const claims = unverifiedTokenIds(conn.credential.accessToken);
  return claims ? { ...claims, source: "token-claims" } : { clientId: null, tenantId: null, source: null };
}
