/**
 * Microsoft clouds, their MDE API hosts, sign-in authorities, token scopes and GitHub OIDC audiences
 * (mde-api.md §1, §2). Pure data plus URL checks; nothing here talks to the network.
 */
import { InputError } from "../errors.js";

export type CloudName = "public" | "gcc" | "gcc-high" | "dod";
export const CLOUD_NAMES: readonly CloudName[] = ["public", "gcc", "gcc-high", "dod"];

/** Geo-proximity hosts `<region>.api.security.microsoft.com` (commercial only, newest doc lists seven). */
export const COMMERCIAL_REGIONS = ["us", "eu", "uk", "au", "swa", "ina", "aea"] as const;
export type CommercialRegion = (typeof COMMERCIAL_REGIONS)[number];

export const COMMERCIAL_API_URL = "https://api.security.microsoft.com";
/** Legacy commercial base, still served and used by most public clients. */
export const LEGACY_COMMERCIAL_API_URL = "https://api.securitycenter.microsoft.com";

export interface CloudProfile {
  name: CloudName;
  /** Default MDE API base (no trailing slash, no `/api`). */
  apiUrl: string;
  /** Entra sign-in host. */
  authorityHost: string;
  /** OAuth scope requested for MDE tokens. */
  scope: string;
  /** Audience a GitHub OIDC token must carry for this cloud's Entra federation. */
  oidcAudience: string;
}

/*
 * Audience trap (§2.1): commercial MDE only accepts tokens for the legacy resource
 * api.securitycenter.microsoft.com, even when the call goes to api.security.microsoft.com or a geo host;
 * api.security.microsoft.com/.default is a different app (Defender XDR) and yields 403 Forbidden.
 *
 * Gov scopes (§2.2, §8.10): Microsoft documents none; public code disagrees. We use the
 * WindowsDefenderATP app's identifier URI (securitycenter.onmicrosoft.{com,us}/windowsatpservice), as
 * Cortex XSOAR does for its gov customers: it names the resource app itself rather than an API host, which
 * is the same reason the commercial host name does not work as an audience. Override with MDE_SCOPE /
 * `scope` when a tenant needs the API-host form.
 */
export const CLOUDS: Readonly<Record<CloudName, CloudProfile>> = {
  public: {
    name: "public",
    apiUrl: COMMERCIAL_API_URL,
    authorityHost: "https://login.microsoftonline.com",
    scope: "https://api.securitycenter.microsoft.com/.default",
    oidcAudience: "api://AzureADTokenExchange",
  },
  gcc: {
    name: "gcc",
    apiUrl: "https://api-gcc.securitycenter.microsoft.us",
    authorityHost: "https://login.microsoftonline.com",
    scope: "https://securitycenter.onmicrosoft.com/windowsatpservice/.default",
    // GCC signs in through the commercial authority, so its federation uses the commercial audience.
    oidcAudience: "api://AzureADTokenExchange",
  },
  "gcc-high": {
    name: "gcc-high",
    apiUrl: "https://api-gov.securitycenter.microsoft.us",
    authorityHost: "https://login.microsoftonline.us",
    scope: "https://securitycenter.onmicrosoft.us/windowsatpservice/.default",
    oidcAudience: "api://AzureADTokenExchangeUSGov",
  },
  dod: {
    name: "dod",
    apiUrl: "https://api-gov.securitycenter.microsoft.us",
    authorityHost: "https://login.microsoftonline.us",
    scope: "https://securitycenter.onmicrosoft.us/windowsatpservice/.default",
    oidcAudience: "api://AzureADTokenExchangeUSGov",
  },
};

export function isCloudName(value: string): value is CloudName {
  return (CLOUD_NAMES as readonly string[]).includes(value);
}

/** Parses a cloud name (case-insensitive; `commercial` and `gcchigh` accepted as aliases). */
export function parseCloudName(value: string, field = "cloud"): CloudName {
  const v = value.trim().toLowerCase();
  const aliased =
    v === "commercial" || v === "" ? "public" : v === "gcchigh" || v === "gcc_high" ? "gcc-high" : v;
  if (isCloudName(aliased)) return aliased;
  throw new InputError(field, `unknown cloud "${value}"; use one of: ${CLOUD_NAMES.join(", ")}`);
}

export function cloudProfile(name: CloudName): CloudProfile {
  return CLOUDS[name];
}

export function isCommercialRegion(value: string): value is CommercialRegion {
  return (COMMERCIAL_REGIONS as readonly string[]).includes(value);
}

/** API base for a cloud, optionally a commercial geo host (`us` → https://us.api.security.microsoft.com). */
export function apiUrlFor(cloud: CloudName, region?: string, field = "region"): string {
  if (region === undefined || region === "") return CLOUDS[cloud].apiUrl;
  const r = region.trim().toLowerCase();
  if (cloud !== "public") {
    throw new InputError(
      field,
      `regional hosts exist only for the public cloud, not "${cloud}"; remove the region`,
    );
  }
  if (!isCommercialRegion(r)) {
    throw new InputError(field, `unknown region "${region}"; use one of: ${COMMERCIAL_REGIONS.join(", ")}`);
  }
  return `https://${r}.api.security.microsoft.com`;
}

/** True for 127.0.0.0/8, ::1 and localhost (the only hosts allowed over plain http). */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  if (h === "localhost" || h.endsWith(".localhost")) return true;
  if (h === "::1" || h === "0:0:0:0:0:0:0:1") return true;
  const m = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(h);
  if (m === null) return false;
  return m.slice(1).every((o) => Number(o) <= 255);
}

/**
 * Validates and normalises a service base URL: https anywhere, http only on loopback (the emulator);
 * no credentials, query or fragment; trailing slashes and a trailing `/api` removed.
 */
export function normaliseServiceUrl(value: string, field: string): string {
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw new InputError(
      field,
      `"${value}" is not an absolute URL; use e.g. https://api.security.microsoft.com`,
    );
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new InputError(field, `unsupported scheme "${url.protocol}"; use https://`);
  }
  if (url.protocol === "http:" && !isLoopbackHost(url.hostname)) {
    throw new InputError(
      field,
      `plain http is only allowed for loopback hosts (127.0.0.0/8, ::1, localhost), not "${url.hostname}"; use https://`,
    );
  }
  if (url.username || url.password) throw new InputError(field, "must not contain credentials");
  if (url.search || url.hash) throw new InputError(field, "must not contain a query string or fragment");
  const path = url.pathname.replace(/\/+$/, "").replace(/\/api$/i, "");
  return `${url.protocol}//${url.host}${path}`;
}
