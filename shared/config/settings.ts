/**
 * Connection settings: explicit options first, then MDE_* environment defaults, validated into one
 * resolved shape with exactly one credential kind. Every error names the option and its variable.
 */
import { readFileSync } from "node:fs";
import { InputError } from "../errors.js";
import { registerSecret } from "../redact.js";
import { apiUrlFor, type CloudName, cloudProfile, normaliseServiceUrl, parseCloudName } from "./clouds.js";

export interface ConnectionOptions {
  /** public | gcc | gcc-high | dod (MDE_CLOUD). Default public. */
  cloud?: CloudName | string;
  /** Commercial geo host: us | eu | uk | au | swa | ina | aea (MDE_REGION). */
  region?: string;
  /** MDE API base URL, overrides cloud/region (MDE_API_URL). http only for loopback. */
  apiUrl?: string;
  /** Entra sign-in host (MDE_AUTHORITY_HOST), e.g. the emulator's. */
  authorityHost?: string;
  /** Token scope override (MDE_SCOPE); default per cloud, see clouds.ts. */
  scope?: string;
  tenantId?: string;
  clientId?: string;
  clientSecret?: string;
  /** PEM file holding the private key and the certificate (MDE_CLIENT_CERTIFICATE). */
  clientCertificatePath?: string;
  /** PEM text holding the private key and the certificate. */
  clientCertificatePem?: string;
  /** Returns a fresh federated assertion (e.g. a GitHub OIDC token) for each token request. */
  clientAssertion?: () => Promise<string>;
  /** Ready-made bearer token (MDE_ACCESS_TOKEN); never refreshed. */
  accessToken?: string;
  /** Extra PEM CA(s) to trust for TLS, e.g. the emulator's self-signed CA (else read from MDE_CA_FILE). */
  caPem?: string;
}

export type Credential =
  | { kind: "secret"; clientSecret: string }
  | { kind: "certificate"; pem: string; source: string }
  | { kind: "assertion"; getAssertion: () => Promise<string> }
  | { kind: "token"; accessToken: string };

export interface ResolvedConnection {
  cloud: CloudName;
  apiUrl: string;
  authorityHost: string;
  /** `${authorityHost}/${tenantId}`; undefined with a bare access token. */
  authority: string | undefined;
  scope: string;
  /** Audience a GitHub OIDC token needs for this cloud. */
  oidcAudience: string;
  tenantId: string | undefined;
  clientId: string | undefined;
  credential: Credential;
  caPem: string | undefined;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Entra also accepts a verified domain name for the tenant. */
const TENANT_DOMAIN = /^(?=.{3,253}$)[a-z0-9-]+(\.[a-z0-9-]+)+$/i;

type Env = Record<string, string | undefined>;

function pick(option: string | undefined, env: Env, name: string): string | undefined {
  const v = option ?? env[name];
  if (v === undefined) return undefined;
  const t = v.trim();
  return t === "" ? undefined : t;
}

function fieldName(option: string, envName: string): string {
  return `${option} (${envName})`;
}

export function resolveConnection(
  options: ConnectionOptions = {},
  env: Env = process.env,
): ResolvedConnection {
  const cloudRaw = pick(options.cloud, env, "MDE_CLOUD");
  const cloud = cloudRaw === undefined ? "public" : parseCloudName(cloudRaw, fieldName("cloud", "MDE_CLOUD"));
  const profile = cloudProfile(cloud);

  const apiUrlRaw = pick(options.apiUrl, env, "MDE_API_URL");
  const region = pick(options.region, env, "MDE_REGION");
  const apiUrl =
    apiUrlRaw !== undefined
      ? normaliseServiceUrl(apiUrlRaw, fieldName("apiUrl", "MDE_API_URL"))
      : apiUrlFor(cloud, region, fieldName("region", "MDE_REGION"));

  const authorityRaw = pick(options.authorityHost, env, "MDE_AUTHORITY_HOST");
  const authorityHost =
    authorityRaw !== undefined
      ? normaliseServiceUrl(authorityRaw, fieldName("authorityHost", "MDE_AUTHORITY_HOST"))
      : profile.authorityHost;
  if (!authorityHost.startsWith("https://")) {
    // MSAL refuses http authorities; say so before it fails obscurely.
    throw new InputError(fieldName("authorityHost", "MDE_AUTHORITY_HOST"), "sign-in requires https://");
  }

  const scope = pick(options.scope, env, "MDE_SCOPE") ?? profile.scope;
  const credential = resolveCredential(options, env);

  let tenantId: string | undefined;
  let clientId: string | undefined;
  if (credential.kind !== "token") {
    tenantId = pick(options.tenantId, env, "MDE_TENANT_ID");
    clientId = pick(options.clientId, env, "MDE_CLIENT_ID");
    const tf = fieldName("tenantId", "MDE_TENANT_ID");
    const cf = fieldName("clientId", "MDE_CLIENT_ID");
    if (tenantId === undefined)
      throw new InputError(tf, "required for sign-in; set the directory (tenant) ID GUID");
    if (!GUID.test(tenantId) && !TENANT_DOMAIN.test(tenantId)) {
      throw new InputError(
        tf,
        `"${tenantId}" is not a tenant GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx) or domain`,
      );
    }
    if (clientId === undefined)
      throw new InputError(cf, "required for sign-in; set the application (client) ID GUID");
    if (!GUID.test(clientId)) {
      throw new InputError(
        cf,
        `"${clientId}" is not an application (client) ID GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)`,
      );
    }
  }

  return {
    cloud,
    apiUrl,
    authorityHost,
    authority: tenantId === undefined ? undefined : `${authorityHost}/${tenantId}`,
    scope,
    oidcAudience: profile.oidcAudience,
    tenantId,
    clientId,
    credential,
    caPem: options.caPem ?? readCaFile(pick(undefined, env, "MDE_CA_FILE")),
  };
}

/** Extra TLS trust from a PEM file (MDE_CA_FILE), e.g. a separately started emulator's CA. */
function readCaFile(path: string | undefined): string | undefined {
  if (path === undefined) return undefined;
  return readPemFile(path, fieldName("caPem", "MDE_CA_FILE"), CA_PEM);
}

const CREDENTIAL_FIELDS =
  "clientSecret (MDE_CLIENT_SECRET), clientCertificatePath (MDE_CLIENT_CERTIFICATE), clientCertificatePem, clientAssertion or accessToken (MDE_ACCESS_TOKEN)";

/**
 * Exactly one credential kind. Explicit options win as a whole: if any credential is passed in `options`,
 * credential variables in the environment are ignored (so a caller's choice is not overruled by a stray
 * MDE_CLIENT_SECRET); otherwise the environment supplies it.
 */
function resolveCredential(options: ConnectionOptions, env: Env): Credential {
  const fromOptions = {
    clientSecret: blankToUndefined(options.clientSecret),
    clientCertificatePath: blankToUndefined(options.clientCertificatePath),
    clientCertificatePem: blankToUndefined(options.clientCertificatePem),
    accessToken: blankToUndefined(options.accessToken),
  };
  const anyOption =
    Object.values(fromOptions).some((v) => v !== undefined) || options.clientAssertion !== undefined;
  const src = anyOption
    ? fromOptions
    : {
        clientSecret: blankToUndefined(env.MDE_CLIENT_SECRET),
        clientCertificatePath: blankToUndefined(env.MDE_CLIENT_CERTIFICATE),
        clientCertificatePem: undefined,
        accessToken: blankToUndefined(env.MDE_ACCESS_TOKEN),
      };
  const given: [string, Credential][] = [];
  if (src.clientSecret !== undefined) {
    registerSecret(src.clientSecret);
    given.push([
      fieldName("clientSecret", "MDE_CLIENT_SECRET"),
      { kind: "secret", clientSecret: src.clientSecret },
    ]);
  }
  if (src.clientCertificatePath !== undefined) {
    const f = fieldName("clientCertificatePath", "MDE_CLIENT_CERTIFICATE");
    given.push([
      f,
      {
        kind: "certificate",
        pem: readPemFile(src.clientCertificatePath, f, KEY_AND_CERT_PEM),
        source: src.clientCertificatePath,
      },
    ]);
  }
  if (src.clientCertificatePem !== undefined) {
    given.push([
      "clientCertificatePem",
      { kind: "certificate", pem: src.clientCertificatePem, source: "clientCertificatePem" },
    ]);
  }
  if (anyOption && options.clientAssertion !== undefined) {
    given.push(["clientAssertion", { kind: "assertion", getAssertion: options.clientAssertion }]);
  }
  if (src.accessToken !== undefined) {
    registerSecret(src.accessToken);
    given.push([
      fieldName("accessToken", "MDE_ACCESS_TOKEN"),
      { kind: "token", accessToken: src.accessToken },
    ]);
  }
  const [first, second] = given;
  if (first === undefined) {
    throw new InputError("credential", `no credential given; set exactly one of ${CREDENTIAL_FIELDS}`);
  }
  if (second !== undefined) {
    throw new InputError(
      second[0],
      `conflicts with ${first[0]}: give exactly one credential kind (${given.map((g) => g[0]).join(" and ")} were set)`,
    );
  }
  return first[1];
}

function blankToUndefined(v: string | undefined): string | undefined {
  return v === undefined || v.trim() === "" ? undefined : v;
}

/** What a PEM file must hold, worded for the errors that name the fix. */
interface PemKind {
  file: string;
  give: string;
  holds(text: string): boolean;
  otherwise: string;
}

const CA_PEM: PemKind = {
  file: "CA",
  give: "a PEM file with the CA certificate(s)",
  holds: (text) => text.includes("-----BEGIN CERTIFICATE-----"),
  otherwise: "holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
};

const KEY_AND_CERT_PEM: PemKind = {
  file: "certificate",
  give: "a PEM file with key and certificate",
  holds: (text) =>
    text.includes("-----BEGIN CERTIFICATE-----") && /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text),
  otherwise: "must be a PEM file holding both the private key and the certificate",
};

function readPemFile(path: string, field: string, kind: PemKind): string {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "unreadable";
    throw new InputError(field, `cannot read ${kind.file} file "${path}" (${code}); give ${kind.give}`);
  }
  if (!kind.holds(text)) throw new InputError(field, `"${path}" ${kind.otherwise}`);
  return text;
}
