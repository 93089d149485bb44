/**
 * One pooled undici dispatcher per client. HTTP(S)_PROXY / NO_PROXY are honoured through
 * EnvHttpProxyAgent, but loopback (the emulator) always goes direct: NO_PROXY cannot express 127.0.0.0/8.
 * `caPem` adds trust (the emulator's self-signed CA) on top of Node's roots, without NODE_EXTRA_CA_CERTS.
 */
import { rootCertificates } from "node:tls";
import { Agent, type Dispatcher, EnvHttpProxyAgent } from "undici";
import { isLoopbackHost } from "../config/clouds.js";

export interface DispatcherOptions {
  caPem?: string | undefined;
  /** Use HTTP(S)_PROXY / NO_PROXY from the environment (default true). */
  useEnvProxy?: boolean;
  env?: Record<string, string | undefined>;
  connections?: number;
}

export class HttpDispatchers {
  private readonly direct: Agent;
  private readonly proxied: Dispatcher | undefined;

  constructor(options: DispatcherOptions = {}) {
    const env = options.env ?? process.env;
    const tls = options.caPem ? { ca: [...rootCertificates, options.caPem] } : undefined;
    const common = {
      connections: options.connections ?? 64,
      keepAliveTimeout: 30_000,
      ...(tls ? { connect: tls } : {}),
    };
    this.direct = new Agent(common);
    const httpsProxy = env.HTTPS_PROXY ?? env.https_proxy;
    const httpProxy = env.HTTP_PROXY ?? env.http_proxy;
    const noProxy = env.NO_PROXY ?? env.no_proxy;
    // Pass the values explicitly: EnvHttpProxyAgent would otherwise read process.env, not our `env`.
    this.proxied =
      options.useEnvProxy !== false && (httpsProxy || httpProxy)
        ? new EnvHttpProxyAgent({
            ...common,
            ...(tls ? { requestTls: tls } : {}),
            httpProxy: httpProxy ?? "",
            httpsProxy: httpsProxy ?? "",
            noProxy: noProxy ?? "",
          })
        : undefined;
  }

  /** The dispatcher for a URL: direct for loopback or when no proxy is configured. */
  for(url: URL | string): Dispatcher {
    if (!this.proxied) return this.direct;
    const host = typeof url === "string" ? new URL(url).hostname : url.hostname;
    return isLoopbackHost(host) ? this.direct : this.proxied;
  }

  async close(): Promise<void> {
    await Promise.all([this.direct.close(), this.proxied?.close()]);
  }
}
