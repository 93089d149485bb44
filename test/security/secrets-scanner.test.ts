import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_GITHUB_SUBJECT, machineIdFor, startEmulator } from "../../shared/emulator/index.js";
import type { EmulatorHandle } from "../../shared/emulator/types.js";
import { applyRunnerMasking, SecretScanner } from "../chaos/harness/secrets.js";

import { device } from "./helpers.js";

describe("the scanner itself catches real secrets (so this harness can fail)", () => {
  let emu: EmulatorHandle;
  beforeAll(async () => {
    emu = await startEmulator({
      devices: [device("ws1.contoso.local")],
      library: [{ fileName: "collect.ps1", content: "Get-Process" }],
      defaultCommandDurationMs: 50,
      pickupDelayMs: 10,
    });
  });
  afterAll(async () => {
    await emu?.close();
  });

  it("finds a bearer token, the client secret, a GitHub assertion and a SAS sig, raw or URL-encoded", async () => {
    const token = emu.issueToken();
    const assertion = emu.issueGitHubIdToken({ subject: DEMO_GITHUB_SUBJECT });
    const id = machineIdFor("ws1.contoso.local");
    const auth = { authorization: `Bearer ${token}`, "content-type": "application/json" };
    const submitted = (await (
      await fetch(`${emu.url}/api/machines/${id}/runliveresponse`, {
        method: "POST",
        headers: auth,
        body: JSON.stringify({
          Commands: [{ type: "RunScript", params: [{ key: "ScriptName", value: "collect.ps1" }] }],
          Comment: "scanner self-test",
        }),
      })
    ).json()) as { id: string };
    // The action finishes quickly; ask for the link until it is ready.
    let link = "";
    for (let i = 0; i < 50 && !link; i++) {
      const res = await fetch(
        `${emu.url}/api/machineactions/${submitted.id}/GetLiveResponseResultDownloadLink(index=0)`,
        { headers: auth },
      );
      if (res.status === 200) link = ((await res.json()) as { value: string }).value;
      else await new Promise((r) => setTimeout(r, 50));
    }
    expect(link).toMatch(/[?&]sig=/);
    const scanner = new SecretScanner({ "client secret": emu.demoApp.clientSecret });
    const kinds = (text: string) => scanner.scan("t", text).map((f) => f.kind);
    expect(kinds(`token ${token}`)).toContain("JWT (bearer token or assertion)");
    expect(kinds(`assertion=${assertion}`)).toContain("JWT (bearer token or assertion)");
    expect(kinds(`Authorization: Bearer ${token.slice(0, 30)}`)).toContain("Authorization header value");
    expect(kinds(`secret ${emu.demoApp.clientSecret}`)).toContain("client secret");
    expect(
      kinds(`form client_secret=${encodeURIComponent(emu.demoApp.clientSecret)}`).length,
    ).toBeGreaterThan(0);
    expect(kinds(`GET ${link}`)).toContain("SAS sig");
    expect(kinds(JSON.stringify({ url: encodeURIComponent(link) }))).toContain("SAS sig");
    expect(kinds("-----BEGIN PRIVATE KEY-----\nMIIE...")).toContain("private key");
    // Redacted forms and the findings themselves never trip it.
    expect(kinds(`GET ${link.replace(/sig=[^&]+/, "sig=***")} Bearer *** sig=[REDACTED]`)).toEqual([]);
    const found = scanner.scan("t", `x ${emu.demoApp.clientSecret} y`)[0];
    expect(found?.excerpt).not.toContain(emu.demoApp.clientSecret);
  });

  it("applies runner masking only to lines after ::add-mask:: (a secret printed earlier leaks)", () => {
    const log = applyRunnerMasking(
      ["early s3cr3t-value", "::add-mask::s3cr3t-value", "late s3cr3t-value"].join("\n"),
    );
    expect(log).toBe("early s3cr3t-value\nlate ***");
    expect(applyRunnerMasking("::add-mask::line1%0Aline2\nline1 and line2")).toBe("*** and ***");
  });
});
