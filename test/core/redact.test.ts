import { describe, expect, it } from "vitest";
import { onSecretRegistered, redact, registerSasUrl, registerSecret } from "../../shared/redact.js";

const JWT =
  "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL2FwaS5zZWN1cml0eWNlbnRlci5taWNyb3NvZnQuY29tIn0.c2lnbmF0dXJlLWJ5dGVz";
const SAS =
  "https://acct.blob.core.windows.net/investigation-actions-data/abc/CustomPlaybookCommandOutput/x?se=2021-02-04T16%3A13%3A50Z&sp=r&sv=2019-07-07&sr=b&sig=AbCdEf%2Bghij%2FKLmn%3D";

describe("redact", () => {
  it("masks JWTs, bearer tokens and Authorization headers", () => {
    expect(redact(`token ${JWT} here`)).toBe("token *** here");
    expect(redact("Authorization: Bearer abc.def-ghi")).not.toContain("abc.def-ghi");
    expect(redact('{"authorization":"Basic dXNlcjpwYXNz"}')).not.toContain("dXNlcjpwYXNz");
    expect(redact("sent bearer opaque-token_123")).toBe("sent bearer ***");
  });

  it("masks whole SAS URLs and stray sig values, raw and URL-encoded", () => {
    const out = redact(`GET ${SAS} failed`);
    expect(out).not.toContain("sig=AbCd");
    expect(out).not.toContain("se=2021");
    expect(out).toContain("https://acct.blob.core.windows.net/");
    expect(redact(`query sig=AbCdEf%2Bghij&sp=r`)).toBe("query sig=***&sp=r");
    const encoded = encodeURIComponent(SAS);
    expect(redact(`url=${encoded}`)).not.toContain("AbCdEf");
    expect(redact("x sig%3DSECRETSIG%26sp")).not.toContain("SECRETSIG");
  });

  it("masks credential form fields and JSON properties", () => {
    const form =
      "client_id=abc&client_secret=hunter2hunter2&client_assertion=eyJhbGciOi.x.y&grant_type=client_credentials";
    const out = redact(form);
    expect(out).not.toContain("hunter2");
    expect(out).not.toContain("eyJhbGciOi");
    expect(out).toContain("client_id=abc");
    expect(redact('{"client_secret":"p@ss\\"word","x":1}')).toBe('{"client_secret":"***","x":1}');
  });

  it("masks registered literals and their URL-encoded form, and tells listeners (replaying earlier ones)", () => {
    const early = `early-secret-${Math.random()}`;
    registerSecret(early);
    const heard: string[] = [];
    const off = onSecretRegistered((s) => heard.push(s));
    expect(heard).toContain(early);
    const secret = `s3cr/t+value ${Math.random()}`;
    registerSecret(secret);
    expect(heard).toContain(secret);
    expect(heard).toContain(encodeURIComponent(secret));
    expect(redact(`value=${secret};enc=${encodeURIComponent(secret)}`)).toBe("value=***;enc=***");
    off();
    registerSecret(`later-${Math.random()}`);
    expect(heard.filter((h) => h.startsWith("later-"))).toHaveLength(0);
    registerSecret("");
    registerSecret(undefined);
  });

  it("registers a SAS URL and its signature so even the bare sig is masked", () => {
    const heard: string[] = [];
    const off = onSecretRegistered((s) => heard.push(s));
    registerSasUrl(SAS);
    off();
    expect(heard).toContain(SAS);
    expect(heard).toContain("AbCdEf+ghij/KLmn=");
    expect(redact("the signature was AbCdEf+ghij/KLmn= ok")).toBe("the signature was *** ok");
  });
});
