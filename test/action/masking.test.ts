import { describe, expect, it } from "vitest";
import { createMasker, secretVariants } from "../../action/masking.js";

describe("masking", () => {
  it("masks a SAS URL, its sig raw and URL-encoded", () => {
    const url = "https://acct.blob.core.windows.net/c/b?se=2026-01-01&sp=r&sig=ab%2Bcd%2Fef%3D";
    const v = secretVariants(url);
    expect(v).toContain(url);
    expect(v).toContain("ab+cd/ef=");
    expect(v).toContain("ab%2Bcd%2Fef%3D");
    expect(v).toContain(encodeURIComponent(url));
  });

  it("masks a PEM line by line, leaving the fences alone", () => {
    const pem =
      "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkq\nhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n";
    expect(secretVariants(pem)).toEqual(["MIIEvQIBADANBgkq", "hkiG9w0BAQEFAASC"]);
  });

  it("emits each value once however often it is registered", () => {
    const seen: string[] = [];
    const mask = createMasker((s) => seen.push(s));
    mask("token-abcdef");
    mask("token-abcdef");
    expect(seen).toEqual(["token-abcdef"]);
  });
});
