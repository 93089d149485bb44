/**
 * Turns the provider's stack settings into an MDE client. Runs only in the dynamic-provider host.
 */
import { createMdeClient } from "../shared/api/client.js";
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

export function connect(
  settings: ProviderSettings,
  limits?: Partial<Limits>,
): ReturnType<typeof createMdeClient> {
  return createMdeClient({ ...connectionOptions(settings), ...(limits ? { limits } : {}) });
}
