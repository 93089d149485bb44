/**
 * Turns the provider's stack settings into an MDE client. Runs only in the dynamic-provider host.
 */
import { createMdeClient, type MdeClient } from "../shared/api/client.js";
import type { ConnectionOptions } from "../shared/config/settings.js";
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
 * One client per connection for the life of the host process, shared by every resource of the
 * deployment: its quota account is the tenant's, so collections and library files running in parallel
 * spend from the same one (each run configures it with its runbook's limits). It also reuses the token.
 */
const clients = new Map<string, MdeClient>();

export function connect(settings: ProviderSettings): MdeClient {
  // Kept in this process's memory only; the key holds the settings (secrets included) and never leaves it.
  const key = JSON.stringify(settings);
  let client = clients.get(key);
  if (!client) {
    client = createMdeClient(connectionOptions(settings));
    clients.set(key, client);
  }
  return client;
}
