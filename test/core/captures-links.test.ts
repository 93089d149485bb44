/**
 * capture R3: result links are user-delegation SAS URLs (`sp=rt`, `rscd=attachment; filename=…` with a
 * space and `;`, `skoid`/`sktid`/…). The client hands them on exactly as the service wrote them (the
 * emulator signs the decoded value of every signed parameter, so a re-encoded, dropped or edited one
 * would be refused) and never writes them anywhere: not in events, report, summary, journal or files.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MdeApi } from "../../shared/api/types.js";
import { redact } from "../../shared/redact.js";
import { startRun } from "../../shared/run/index.js";
import type { RunEvent } from "../../shared/run/types.js";
import { type Rig, rig, runbookFrom, tempDir } from "../run/helpers.js";
import { filesUnder } from "../security/helpers.js";

let r: Rig;
beforeAll(async () => {
  r = await rig({
    scale: 300,
    devices: [
      {
        computerDnsName: "desktop-s.corp.contoso.com",
        osPlatform: "Windows10",
        osVersion: "20H2",
        osBuild: 19042,
        files: { "C:\\Windows\\Temp\\x.zip": "zip bytes" },
        scripts: { "collect.ps1": { stdout: "collected" } },
      },
    ],
    library: [{ fileName: "collect.ps1", content: "Write-Output collected" }],
  });
});
afterAll(() => r?.close());

/** The real client, with every link it returns remembered (it still does all the work). */
function remembering(api: MdeApi, links: string[]): MdeApi {
  return new Proxy(api, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver) as unknown;
      if (key !== "getResultDownloadLink" || typeof value !== "function") return value;
      return async (...args: Parameters<MdeApi["getResultDownloadLink"]>) => {
        const url = await (value as MdeApi["getResultDownloadLink"]).apply(target, args);
        links.push(url);
        return url;
      };
    },
  });
}

describe("capture R3 through the client", () => {
  it("capture R3: the client neither mangles nor logs result links", async () => {
    const links: string[] = [];
    const api = remembering(r.client, links);
    const outDir = tempDir("r3");
    const events: RunEvent[] = [];
    const report = await startRun(
      { api, clock: r.emu.clock, onEvent: (e) => events.push(e) },
      {
        runbook: runbookFrom(`
name: r3-links
targets: { computerNames: [desktop-s.corp.contoso.com] }
commands:
  - runScript: collect.ps1
  - getFile: 'C:\\Windows\\Temp\\x.zip'
`),
        baseDir: outDir,
        outDir,
      },
    );
    expect(report.status).toBe("succeeded");
    // Two results, each link used as given: the downloads passed the signature check.
    expect(links.length).toBeGreaterThanOrEqual(2);
    expect(r.emu.records.filter((x) => x.kind === "download" && x.complete)).toHaveLength(links.length);
    for (const link of links) {
      const url = new URL(link);
      expect(url.searchParams.get("sp")).toBe("rt");
      expect(url.searchParams.get("rscd")).toMatch(/^attachment; filename=output_/);
      expect(link).toContain("rscd=attachment%3B%20filename%3D"); // as the service wrote it
      expect(url.searchParams.get("skoid")).toBeTruthy();
    }
    const stdout = readFileSync(join(outDir, report.machines[0]!.commands[0]!.file!), "utf8");
    expect(JSON.parse(stdout)).toMatchObject({ script_name: "collect.ps1", exit_code: 0 });

    // Nothing the run wrote or said carries a link, its signature or its signing identity.
    const secrets = links.flatMap((l) => {
      const q = new URL(l).searchParams;
      return [l, q.get("sig") ?? "", encodeURIComponent(q.get("sig") ?? ""), q.get("skoid") ?? ""];
    });
    const places: Record<string, string> = { events: JSON.stringify(events) };
    for (const file of filesUnder(outDir)) places[file] = readFileSync(file, "latin1");
    for (const [where, text] of Object.entries(places)) {
      for (const s of secrets)
        if (s.length >= 6) expect(text.includes(s), `${where} holds a link part`).toBe(false);
      expect(text, where).not.toMatch(/[?&](?:sig|skoid|sktid|se)=/);
    }
  });

  it("capture R3: redact masks the whole link, also in its decoded form (space and ';' in rscd)", async () => {
    const actionId = String(
      (r.emu.state.actions() as { id: string; status: string }[]).find((a) => a.status === "Succeeded")?.id,
    );
    const link = await r.client.getResultDownloadLink(actionId, 0);
    const sig = new URL(link).searchParams.get("sig") ?? "";
    for (const shown of [link, decodeURIComponent(link), `GET ${link} failed`]) {
      const masked = redact(shown);
      expect(masked).not.toContain(sig);
      expect(masked).not.toContain(encodeURIComponent(sig));
      expect(masked).not.toMatch(/sig=[^*]/);
    }
    // A registered link is masked whole (the literal), so not even its path is shown.
    expect(redact(link)).not.toContain("?se=");
  });
});
