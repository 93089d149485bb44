/**
 * Credentials and endpoints come from stack config (namespace `mde:`), read by the dynamic provider's
 * `configure()` hook in the host process; never from resource inputs, which land in state.
 * Missing keys fall back to the core's MDE_* environment variables (resolveConnection), which also
 * lets `pulumi destroy` work after a credential rotation without an `up` first.
 */

/** One stack config key per core connection setting: `mde:<key>`. */
export const SETTING_KEYS = [
  "cloud",
  "region",
  "apiUrl",
  "authorityHost",
  "scope",
  "tenantId",
  "clientId",
  "clientSecret",
  "clientCertificate",
  "clientCertificatePath",
  "clientCertificatePem",
  "accessToken",
  "caPem",
] as const;

export type SettingKey = (typeof SETTING_KEYS)[number];
export type ProviderSettings = Partial<Record<SettingKey, string>>;

export const CONFIG_NAMESPACE = "mde";

/** Reads `mde:*` through the host's Config (`get("mde:tenantId")`); tolerant of a host that never got config. */
export function readSettings(get: (key: string) => string | undefined): ProviderSettings {
  const settings: ProviderSettings = {};
  for (const key of SETTING_KEYS) {
    let value: string | undefined;
    try {
      value = get(`${CONFIG_NAMESPACE}:${key}`);
    } catch {
      // The host's Config throws when the engine sent no Configure: then env vars are the only source.
      value = undefined;
    }
    if (typeof value === "string" && value !== "") settings[key] = value;
  }
  return settings;
}
