/**
 * Turns the provider's stack settings into an MDE client. Runs only in the dynamic-provider host.
 */
import { createMdeClient, type MdeClient } from "../shared/api/client.js";
import type { ConnectionOptions } from "../shared/config/settings.js";
import type { Limits } from "../shared/runbook/types.js";
import type { ProviderSettings } from "./settings.js";

/**
 * Stack config → the core's connection options; absent keys are left to the MDE_* env defaults that
 * createMdeClient applies (resolveConnection), whose errors name both the setting and its variable. `mde:clientCertificate` takes either the PEM itself or a path to it (PEM text starts with
 * "-----BEGIN", a path never does).
 */
export function connectionOptions(settings: ProviderSettings): ConnectionOptions {
  const { clientCertificate, ...rest } = settings;
  const options: ConnectionOptions = { ...rest };
  if (clientCertificate !== undefined) {
    if (clientCertificate.trimStart().startsWith("-----BEGIN"))
      options.clientCertificatePem ??= clientCertificate;
    else options.clientCertificatePath ??= clientCertificate;
  }
  return options;
}

/**
 * One client per connection and quota set for the life of the host process, shared by every resource
 * of the deployment: the client is the choke point that keeps the tenant's call quotas, so collections
 * and library files running in parallel must go through the same one. It also reuses the token.
 */
const clients = new Map<string, MdeClient>();

export function connect(settings: ProviderSettings, limits?: Partial<Limits>): MdeClient {
  // Kept in this process's memory only; the key holds the settings (secrets included) and never leaves it.
  const key = JSON.stringify([settings, limits ?? null]);
  let client = clients.get(key);
  if (!client) {
    client = createMdeClient({ ...connectionOptions(settings), ...(limits ? { limits } : {}) });
    clients.set(key, client);
  }
  return client;
}
