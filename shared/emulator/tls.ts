/**
 * Self-signed certificates for the emulator's HTTPS authority host (MSAL refuses http authorities)
 * and for test apps that sign client assertions. node-forge builds the X.509 structure; the RSA key
 * pair comes from Node's native crypto because forge's pure-JS key generation takes seconds.
 */
import {
  createHash,
  generateKeyPair,
  generateKeyPairSync,
  type KeyObject,
  X509Certificate,
} from "node:crypto";
import forge from "node-forge";

export interface GeneratedCertificate {
  certPem: string;
  keyPem: string;
  /** Base64url SHA-1 / SHA-256 of the DER certificate, as used in JWT `x5t` / `x5t#S256` headers. */
  x5t: string;
  x5tS256: string;
  /** Hex SHA-1 / SHA-256 thumbprints, the form MSAL's `clientCertificate` options take. */
  thumbprintSha1Hex: string;
  thumbprintSha256Hex: string;
}

export interface CertificateOptions {
  commonName?: string;
  /** DNS names and IP addresses for the subjectAltName extension. */
  dnsNames?: string[];
  ipAddresses?: string[];
  validDays?: number;
  /** Not-before/after are anchored on this real-time instant (TLS validation uses the real clock). */
  now?: number;
}

export function generateCertificate(options: CertificateOptions = {}): GeneratedCertificate {
  return certificateFor(generateKeyPairSync("rsa", { modulusLength: 2048 }), options);
}

/** Same, with the key generated on the thread pool so the event loop keeps serving meanwhile. */
export async function generateCertificateAsync(
  options: CertificateOptions = {},
): Promise<GeneratedCertificate> {
  const keys = await new Promise<{ publicKey: KeyObject; privateKey: KeyObject }>((resolve, reject) =>
    generateKeyPair("rsa", { modulusLength: 2048 }, (error, publicKey, privateKey) =>
      error ? reject(error) : resolve({ publicKey, privateKey }),
    ),
  );
  return certificateFor(keys, options);
}

function certificateFor(
  { publicKey, privateKey }: { publicKey: KeyObject; privateKey: KeyObject },
  options: CertificateOptions,
): GeneratedCertificate {
  const publicPem = publicKey.export({ type: "spki", format: "pem" }).toString();
  const keyPem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicPem);
  cert.serialNumber = `01${createHash("sha1").update(publicPem).digest("hex").slice(0, 30)}`;
  const now = options.now ?? Date.now();
  cert.validity.notBefore = new Date(now - 24 * 3600_000);
  cert.validity.notAfter = new Date(now + (options.validDays ?? 30) * 24 * 3600_000);
  const attrs = [{ name: "commonName", value: options.commonName ?? "mde-emulator" }];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  const altNames = [
    ...(options.dnsNames ?? []).map((value) => ({ type: 2, value })),
    ...(options.ipAddresses ?? []).map((ip) => ({ type: 7, ip })),
  ];
  cert.setExtensions([
    // CA:true so the one certificate can be handed to clients as their trust anchor.
    { name: "basicConstraints", cA: true },
    { name: "keyUsage", keyCertSign: true, digitalSignature: true, keyEncipherment: true },
    { name: "extKeyUsage", serverAuth: true, clientAuth: true },
    ...(altNames.length > 0 ? [{ name: "subjectAltName", altNames }] : []),
  ]);
  cert.sign(forge.pki.privateKeyFromPem(keyPem), forge.md.sha256.create());
  const certPem = forge.pki.certificateToPem(cert);
  return { certPem, keyPem, ...thumbprints(certPem) };
}

export function thumbprints(certPem: string): {
  x5t: string;
  x5tS256: string;
  thumbprintSha1Hex: string;
  thumbprintSha256Hex: string;
} {
  const der = new X509Certificate(certPem).raw;
  const sha1 = createHash("sha1").update(der).digest();
  const sha256 = createHash("sha256").update(der).digest();
  return {
    x5t: sha1.toString("base64url"),
    x5tS256: sha256.toString("base64url"),
    thumbprintSha1Hex: sha1.toString("hex").toUpperCase(),
    thumbprintSha256Hex: sha256.toString("hex").toUpperCase(),
  };
}

let sharedServerCertificate: Promise<GeneratedCertificate> | undefined;

/**
 * The TLS identity of the authority host: valid for 127.0.0.1, ::1 and localhost. Generated once per
 * process and shared by every emulator in it (RSA key generation costs 100–500 ms; a test suite starts
 * dozens of emulators), which is harmless for a loopback-only test authority.
 */
export function serverCertificate(): Promise<GeneratedCertificate> {
  sharedServerCertificate ??= generateCertificateAsync({
    commonName: "mde-emulator authority",
    dnsNames: ["localhost"],
    ipAddresses: ["127.0.0.1", "::1"],
  }).catch((error: unknown) => {
    sharedServerCertificate = undefined; // let the next start try again
    throw error;
  });
  return sharedServerCertificate;
}
