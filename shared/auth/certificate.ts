/**
 * Certificate credential from one PEM holding the private key and the certificate (chain). MSAL wants a
 * PKCS#8 key, the SHA-256 thumbprint of the leaf (hex) and optionally the chain as x5c (for SNI apps).
 */
import { createPrivateKey, X509Certificate } from "node:crypto";
import { InputError } from "../errors.js";

export interface CertificateCredential {
  privateKey: string;
  thumbprintSha256: string;
  /** PEM certificate chain, leaf first (MSAL turns it into the x5c header). */
  x5c: string;
}

const CERT_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;
const KEY_BLOCK =
  /-----BEGIN (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----[\s\S]+?-----END (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----/;

export function parseCertificatePem(pem: string, field = "clientCertificate"): CertificateCredential {
  const certs = pem.match(CERT_BLOCK) ?? [];
  const keyMatch = KEY_BLOCK.exec(pem);
  const leaf = certs[0];
  if (!leaf) throw new InputError(field, "the PEM holds no certificate (-----BEGIN CERTIFICATE-----)");
  if (!keyMatch) throw new InputError(field, "the PEM holds no private key (-----BEGIN PRIVATE KEY-----)");
  let privateKey: string;
  let x509: X509Certificate;
  try {
    // Normalise PKCS#1 / SEC1 keys to PKCS#8, the form MSAL signs with.
    privateKey = createPrivateKey(keyMatch[0]).export({ type: "pkcs8", format: "pem" }).toString();
  } catch {
    throw new InputError(
      field,
      "the private key cannot be read (encrypted keys are not supported; export it unencrypted)",
    );
  }
  try {
    x509 = new X509Certificate(leaf);
  } catch {
    throw new InputError(field, "the certificate cannot be parsed");
  }
  if (!x509.checkPrivateKey(createPrivateKey(privateKey))) {
    throw new InputError(field, "the private key does not belong to the first certificate in the PEM");
  }
  return {
    privateKey,
    thumbprintSha256: x509.fingerprint256.replace(/:/g, "").toLowerCase(),
    x5c: certs.join("\n"),
  };
}
