/**
 * MSAL's `system.networkClient` on our undici dispatcher, so sign-in uses the same TLS trust (`caPem`,
 * the emulator's self-signed CA) and proxy settings as the API calls. MSAL's default client uses the global
 * fetch, which would ignore both.
 */
import type { INetworkModule, NetworkRequestOptions, NetworkResponse } from "@azure/msal-node";
import { request } from "undici";
import type { HttpDispatchers } from "../http/dispatcher.js";
import { readCapped } from "../http/error-decoder.js";

/** Token responses are small; anything bigger is not an Entra answer. */
const BODY_CAP = 1024 * 1024;

export class UndiciNetworkClient implements INetworkModule {
  /**
   * `expires_in` (seconds) of the last token response seen. MSAL turns it into a wall-clock `expiresOn`
   * rounded to whole seconds; the raw value lets the token cache measure the lifetime on the service Clock.
   */
  lastExpiresInSec: number | undefined;

  constructor(private readonly dispatchers: HttpDispatchers) {}

  sendGetRequestAsync<T>(
    url: string,
    options?: NetworkRequestOptions,
    timeout?: number,
  ): Promise<NetworkResponse<T>> {
    return this.send<T>("GET", url, options, timeout);
  }

  sendPostRequestAsync<T>(url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
    return this.send<T>("POST", url, options);
  }

  private async send<T>(
    method: "GET" | "POST",
    url: string,
    options: NetworkRequestOptions | undefined,
    timeout?: number,
  ): Promise<NetworkResponse<T>> {
    const res = await request(url, {
      method,
      dispatcher: this.dispatchers.for(url),
      headers: options?.headers ?? {},
      body: method === "POST" ? (options?.body ?? "") : undefined,
      ...(timeout ? { signal: AbortSignal.timeout(timeout) } : {}),
    });
    const text = await readCapped(res.body, BODY_CAP);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(res.headers)) {
      if (v !== undefined) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(", ") : v;
    }
    let body: unknown = {};
    try {
      body = text ? JSON.parse(text) : {};
    } catch {
      // MSAL reads `error`/`error_description` from the body; give it a shape it can report.
      body = { error: "invalid_response", error_description: `HTTP ${res.statusCode} with a non-JSON body` };
    }
    const expiresIn = (body as { expires_in?: unknown; access_token?: unknown }).expires_in;
    if (method === "POST" && res.statusCode === 200 && (body as { access_token?: unknown }).access_token) {
      const n = typeof expiresIn === "string" ? Number(expiresIn) : expiresIn;
      this.lastExpiresInSec = typeof n === "number" && Number.isFinite(n) && n > 0 ? n : undefined;
    }
    return { headers, body: body as T, status: res.statusCode };
  }
}
