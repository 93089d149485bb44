/**
 * The core client against the local MDE emulator over real HTTP (API) and HTTPS (Entra-like authority,
 * self-signed CA trusted through `caPem`). A scaled clock shared by both sides keeps service waits short.
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMdeClient } from "../../shared/api/client.js";
import { ScaledClock } from "../../shared/clock.js";
import { type EmulatorHandle, ManualClock, startEmulator } from "../../shared/emulator/index.js";
import {
  AmbiguousSubmissionError,
  AuthenticationError,
  DownloadError,
  DownloadLinkExpiredError,
  ForbiddenError,
  MdeApiError,
  NotFoundError,
  UnauthorizedError,
} from "../../shared/errors.js";
import { clientFor, waitFinal } from "./helpers.js";

const FILE_BYTES = Buffer.concat([
  Buffer.from("MZ\u0000binary"),
  Buffer.alloc(300_000, 7),
  Buffer.from("end"),
]);
const TRANSCRIPT_OUT = 'line one\r\nline "two" with C:\\temp\\x.txt\nthird';

let emu: EmulatorHandle;
let t0 = 0;
let t1 = 0;
let machineId: string;
let out: string;
const messages: string[] = [];

function remember(e: unknown): unknown {
  if (e instanceof Error) messages.push(e.message, String(e.stack ?? ""));
  return e;
}

beforeAll(async () => {
  const clock = new ScaledClock({ scale: 200 });
  t0 = clock.now();
  emu = await startEmulator({
    clock,
    seed: 7,
    devices: [
      {
        computerDnsName: "ws1.corp.contoso.com",
        osPlatform: "Windows11",
        files: { "C:\\evidence\\dump.bin": FILE_BYTES },
        scripts: {
          "collect.ps1": { exitCode: 0, stdout: TRANSCRIPT_OUT, nonStrictTranscript: true },
        },
      },
    ],
    library: [{ fileName: "collect.ps1", content: "Write-Output 'hi'" }],
  });
  t1 = clock.now();
  machineId = emu.state.machineIds()[0] as string;
  out = await mkdtemp(join(tmpdir(), "mde-core-emu-"));
});

afterAll(async () => {
  await emu?.close();
  // No secret ever reached an error message or stack produced in this file.
  const secrets = [emu.demoApp.clientSecret];
  for (const m of messages) {
    for (const s of secrets) expect(m).not.toContain(s);
    expect(m).not.toMatch(/eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\./);
    expect(m).not.toMatch(/sig=[A-Za-z0-9%]{6,}/);
  }
});

describe("sign-in flows (MSAL over undici, emulator CA via caPem)", () => {
  it("client secret", async () => {
    const c = clientFor(emu);
    const m = await c.getMachine(machineId);
    expect(m.id).toBe(machineId);
    expect(m.computerDnsName).toBe("ws1.corp.contoso.com");
    await c.close();
  });

  it("certificate (PEM with key + cert, SHA-256 thumbprint)", async () => {
    const { generateCertificate } = await import("../../shared/emulator/index.js");
    const cert = generateCertificate({ commonName: "mde-lr-test-app" });
    const app = {
      tenantId: emu.demoApp.tenantId,
      clientId: "0f0e0d0c-0b0a-4908-8706-050403020100",
      certificatePem: cert.certPem,
      roles: ["Machine.Read.All"],
    };
    const emu2 = await startEmulator({ clock: emu.clock, apps: [app], tlsCertificate: undefined });
    try {
      const c = createMdeClient({
        apiUrl: emu2.url,
        authorityHost: emu2.authorityHost,
        tenantId: app.tenantId,
        clientId: app.clientId,
        clientCertificatePem: `${cert.keyPem}\n${cert.certPem}`,
        caPem: emu2.caPem,
        clock: emu2.clock,
        env: {},
      });
      const list = await c.listMachines({ top: 1 });
      expect(list).toHaveLength(1);
      // Reads only: a library call needs Library.Manage, which this app lacks.
      const err = remember(await c.listLibraryFiles().catch((e: unknown) => e)) as ForbiddenError;
      expect(err).toBeInstanceOf(ForbiddenError);
      expect(err.requiredRole).toBe("Library.Manage");
      await c.close();
    } finally {
      await emu2.close();
    }
  });

  it("client assertion callback (GitHub OIDC): reused ~4 minutes across token requests, then fetched fresh", async () => {
    const clock = new ManualClock();
    const e2 = await startEmulator({ clock, faults: { tokenLifetimeMs: 60_000 } });
    try {
      let fetched = 0;
      const c = clientFor(e2, {
        clientSecret: undefined,
        clientAssertion: async () => {
          fetched++;
          return e2.issueGitHubIdToken({ subject: "repo:contoso/mde-live-response:environment:production" });
        },
      });
      const id = e2.state.machineIds()[0] as string;
      await c.getMachine(id);
      expect(fetched).toBe(1);
      clock.advance(61_000); // API token needs a refresh; the GitHub token is still young
      await c.getMachine(id);
      expect(fetched).toBe(1);
      clock.advance(4 * 60_000); // past the reuse window: a fresh assertion (the old one is about to expire)
      await c.getMachine(id);
      expect(fetched).toBe(2);
      await c.close();
    } finally {
      await e2.close();
    }
  });

  it("subject mismatch → AuthenticationError naming the expected subject form, without the assertion", async () => {
    const assertion = emu.issueGitHubIdToken({ subject: "repo:contoso/other:ref:refs/heads/main" });
    const c = clientFor(emu, { clientSecret: undefined, clientAssertion: async () => assertion });
    const err = remember(await c.getMachine(machineId).catch((e: unknown) => e)) as AuthenticationError;
    expect(err).toBeInstanceOf(AuthenticationError);
    expect(err.aadsts).toMatch(/^AADSTS(700213|70021)$/);
    expect(err.message).toContain("repo:ORG/REPO:environment:NAME");
    expect(err.message).not.toContain(assertion);
    expect(err.kind).toBe("auth");
    await c.close();
  });

  it("wrong secret → AuthenticationError (7000215) without the secret", async () => {
    const wrong = "definitely-wrong-secret-value";
    const c = clientFor(emu, { clientSecret: wrong });
    const err = remember(await c.getMachine(machineId).catch((e: unknown) => e)) as AuthenticationError;
    expect(err).toBeInstanceOf(AuthenticationError);
    expect(err.aadsts).toBe("AADSTS7000215");
    expect(err.message).toContain("Invalid client secret");
    expect(err.message).not.toContain(wrong);
    messages.push(err.message.replaceAll(wrong, "")); // the literal itself is checked above
    await c.close();
  });

  it("unknown tenant → AuthenticationError with an actionable message", async () => {
    const c = clientFor(emu, { tenantId: "99999999-9999-4999-8999-999999999999" });
    const err = remember(await c.getMachine(machineId).catch((e: unknown) => e)) as AuthenticationError;
    expect(err).toBeInstanceOf(AuthenticationError);
    expect(err.message).toMatch(/tenant|Tenant/);
    await c.close();
  });

  it("static bearer token; a wrong-audience token gets a 403 that explains the audience trap", async () => {
    const ok = createMdeClient({ apiUrl: emu.url, accessToken: emu.issueToken(), clock: emu.clock, env: {} });
    expect((await ok.getMachine(machineId)).id).toBe(machineId);
    const bad = createMdeClient({
      apiUrl: emu.url,
      accessToken: emu.issueToken({ audience: "https://api.security.microsoft.com" }),
      clock: emu.clock,
      env: {},
    });
    const err = remember(await bad.getMachine(machineId).catch((e: unknown) => e)) as ForbiddenError;
    expect(err).toBeInstanceOf(ForbiddenError);
    expect(err.message).toContain("https://api.securitycenter.microsoft.com/.default");
    const expired = createMdeClient({
      apiUrl: emu.url,
      accessToken: emu.issueToken({ lifetimeMs: 1 }),
      clock: emu.clock,
      env: {},
    });
    await emu.clock.sleep(2000);
    expect(remember(await expired.getMachine(machineId).catch((e: unknown) => e))).toBeInstanceOf(
      UnauthorizedError,
    );
    await Promise.all([ok.close(), bad.close(), expired.close()]);
  });
});

describe("tokens over a long run", () => {
  it("refreshes before expiry so no call meets a 401 over several token lifetimes", async () => {
    // Hand-moved clock so real latency cannot eat into the token's life.
    const clock = new ManualClock();
    const e2 = await startEmulator({ clock, faults: { tokenLifetimeMs: 120_000 } });
    try {
      const statuses: number[] = [];
      const retries: string[] = [];
      const c = clientFor(e2, {
        hooks: { onResponse: (e) => statuses.push(e.status), onRetry: (e) => retries.push(e.reason) },
      });
      const id = e2.state.machineIds()[0] as string;
      for (let i = 0; i < 6; i++) {
        await c.getMachine(id);
        clock.advance(50_000); // 300 s in all: without refreshing, the call at 150 s would meet a 401
      }
      expect(statuses).toEqual([200, 200, 200, 200, 200, 200]);
      expect(retries).toEqual([]);
      await c.close();

      // The margin (a quarter of a 120 s token here) replaces the token at 95 s, before it can expire mid-call.
      const tokens: { reason: string; lifetimeMs: number }[] = [];
      const d = clientFor(e2, { hooks: { onToken: (e) => tokens.push(e) } });
      await d.getMachine(id);
      clock.advance(95_000);
      await d.getMachine(id);
      expect(tokens).toEqual([
        expect.objectContaining({ reason: "initial", lifetimeMs: 120_000 }),
        expect.objectContaining({ reason: "expiring", lifetimeMs: 120_000 }),
      ]);
      const noMargin: string[] = [];
      const z = clientFor(e2, {
        tokenRefreshMarginMs: 0,
        hooks: { onToken: (e) => noMargin.push(e.reason) },
      });
      await z.getMachine(id);
      clock.advance(95_000);
      await z.getMachine(id);
      expect(noMargin).toEqual(["initial"]);
      await Promise.all([d.close(), z.close()]);
    } finally {
      await e2.close();
    }
  });

  it("a 401 from the API forces one token refresh and a retry", async () => {
    // Hand-moved clock: the emulator floors `exp` to whole seconds, so a token issued at +700 ms is dead at
    // +60 s while our cache (margin 0) still trusts it until +60.7 s — the window where only the API knows.
    const clock = new ManualClock();
    const e2 = await startEmulator({ clock, faults: { tokenLifetimeMs: 60_000 } });
    try {
      clock.advance(700);
      const tokens: string[] = [];
      const retries: string[] = [];
      const statuses: number[] = [];
      const c = clientFor(e2, {
        tokenRefreshMarginMs: 0,
        hooks: {
          onRetry: (e) => retries.push(e.reason),
          onResponse: (e) => statuses.push(e.status),
          onToken: (e) => tokens.push(e.reason),
        },
      });
      const id = e2.state.machineIds()[0] as string;
      await c.getMachine(id);
      clock.advance(59_500);
      await c.getMachine(id);
      expect(retries).toEqual(["401"]);
      expect(statuses).toEqual([200, 401, 200]);
      expect(tokens).toEqual(["initial", "forced"]);
      await c.close();
    } finally {
      await e2.close();
    }
  });
});

describe("throttling and faults", () => {
  it("429 with Retry-After: waits and succeeds", async () => {
    const reasons: string[] = [];
    const c = clientFor(emu, { hooks: { onRetry: (e) => reasons.push(e.reason) } });
    await c.getMachine(machineId); // sign in first: the storm is about API calls
    emu.configure({ faults: stormNow(20_000, true) });
    await c.getMachine(machineId);
    expect(reasons).toContain("429");
    emu.configure({ faults: { throttleStorms: [] } });
    await c.close();
  });

  it("429 without Retry-After: backs off and succeeds", async () => {
    const reasons: string[] = [];
    const c = clientFor(emu, {
      random: () => 1,
      retry: { maxAttempts: 10 },
      hooks: { onRetry: (e) => reasons.push(e.reason) },
    });
    await c.getMachine(machineId);
    emu.configure({ faults: stormNow(20_000, false) });
    await c.getMachine(machineId);
    expect(reasons.filter((r) => r === "429").length).toBeGreaterThan(0);
    emu.configure({ faults: { throttleStorms: [] } });
    await c.close();
  });

  it("5xx on reads are retried", async () => {
    emu.configure({ faults: { serverErrorRate: 0.5, seed: 3 } });
    const reasons: string[] = [];
    const c = clientFor(emu, {
      retry: { maxAttempts: 10 },
      hooks: { onRetry: (e) => reasons.push(e.reason) },
    });
    for (let i = 0; i < 8; i++) await c.getMachine(machineId);
    expect(reasons).toContain("5xx");
    emu.configure({ faults: { serverErrorRate: 0 } });
    await c.close();
  });

  it("connection reset on runliveresponse → AmbiguousSubmissionError, never a second submit", async () => {
    const c = clientFor(emu);
    await c.getMachine(machineId); // sign in before the fault window
    const comment = `mde-lr:ambiguous-${Date.now()}`;
    emu.configure({ faults: { connectionResetRate: 1, resetAfterProcessingShare: 1 } });
    const err = remember(
      await c
        .runLiveResponse(machineId, {
          Commands: [{ type: "RunScript", params: [{ key: "ScriptName", value: "collect.ps1" }] }],
          Comment: comment,
        })
        .catch((e: unknown) => e),
    );
    emu.configure({ faults: { connectionResetRate: 0 } });
    expect(err).toBeInstanceOf(AmbiguousSubmissionError);
    expect((err as AmbiguousSubmissionError).comment).toBe(comment);
    const submits = emu.records.filter((r) => r.kind === "submit" && r.comment === comment);
    expect(submits).toHaveLength(1);
    // The caller's recovery: find the action by its comment tag.
    const found = await c.listMachineActions({ filter: `machineId eq '${machineId}'` });
    const mine = found.filter((a) => a.requestorComment === comment);
    expect(mine).toHaveLength(1);
    await waitFinal(c, emu, (mine[0] as { id: string }).id);
    await c.close();
  });
});

describe("live response, results and library", () => {
  it("GetFile: link, streamed gunzip to the original bytes, sha256, atomic write", async () => {
    const c = clientFor(emu);
    const action = await c.runLiveResponse(machineId, {
      Commands: [{ type: "GetFile", params: [{ key: "Path", value: "C:\\evidence\\dump.bin" }] }],
      Comment: "mde-lr:getfile",
    });
    expect(action.status).toBe("Pending");
    const done = await waitFinal(c, emu, action.id);
    expect(done.status).toBe("Succeeded");
    const url = await c.getResultDownloadLink(action.id, 0);
    const dest = join(out, "ws1", "dump.bin");
    const file = await c.downloadGetFileResult(url, dest);
    const expected = createHash("sha256").update(FILE_BYTES).digest("hex");
    expect(file).toEqual({ path: dest, bytes: FILE_BYTES.length, sha256: expected });
    expect(Buffer.compare(await readFile(dest), FILE_BYTES)).toBe(0);
    expect(await readdir(join(out, "ws1"))).toEqual(["dump.bin"]);
    expect(c.callCounts()).toMatchObject({ submit: 1, link: 1, download: 1 });
    await c.close();
  });

  it("expired link → DownloadLinkExpiredError; a fresh link works", async () => {
    const c = clientFor(emu);
    const { id } = await c.runLiveResponse(machineId, {
      Commands: [{ type: "GetFile", params: [{ key: "Path", value: "C:\\evidence\\dump.bin" }] }],
      Comment: "mde-lr:getfile2",
    });
    await waitFinal(c, emu, id);
    emu.configure({ limits: { linkValidityMs: 60_000 } });
    const url = await c.getResultDownloadLink(id, 0);
    emu.configure({ limits: { linkValidityMs: 30 * 60_000 } });
    await emu.clock.sleep(61_000);
    const err = remember(await c.downloadGetFileResult(url, join(out, "late.bin")).catch((e: unknown) => e));
    expect(err).toBeInstanceOf(DownloadLinkExpiredError);
    expect((err as Error).message).not.toContain(new URL(url).searchParams.get("sig") ?? "@@");
    const fresh = await c.getResultDownloadLink(id, 0);
    await expect(c.downloadGetFileResult(fresh, join(out, "late.bin"))).resolves.toMatchObject({
      bytes: FILE_BYTES.length,
    });
    await c.close();
  });

  it("RunScript: raw transcript kept on disk, non-strict JSON parsed tolerantly", async () => {
    const c = clientFor(emu);
    const action = await c.runLiveResponse(machineId, {
      Commands: [{ type: "RunScript", params: [{ key: "ScriptName", value: "collect.ps1" }] }],
      Comment: "mde-lr:script",
    });
    expect((await waitFinal(c, emu, action.id)).status).toBe("Succeeded");
    const url = await c.getResultDownloadLink(action.id, 0);
    const dest = join(out, "ws1", "collect.json");
    const r = await c.downloadScriptResult(url, dest);
    const raw = await readFile(dest);
    expect(r.bytes).toBe(raw.length);
    expect(r.sha256).toBe(createHash("sha256").update(raw).digest("hex"));
    expect(r.transcript.strict).toBe(false);
    expect(r.transcript.exitCode).toBe(0);
    expect(r.transcript.scriptName).toBe("collect.ps1");
    expect(r.transcript.stdout).toContain(TRANSCRIPT_OUT);
    expect(r.transcript.stdout).not.toContain("\u0000");
    await c.close();
  });

  it("truncated download (emulator fault) → DownloadError; the next fresh link succeeds", async () => {
    const c = clientFor(emu);
    const { id } = await c.runLiveResponse(machineId, {
      Commands: [{ type: "GetFile", params: [{ key: "Path", value: "C:\\evidence\\dump.bin" }] }],
      Comment: "mde-lr:truncated",
    });
    await waitFinal(c, emu, id);
    emu.configure({ faults: { truncatedBodyRate: 1 } });
    const dest = join(out, "trunc", "dump.bin");
    const err = remember(
      await c.downloadGetFileResult(await c.getResultDownloadLink(id, 0), dest).catch((e: unknown) => e),
    );
    emu.configure({ faults: { truncatedBodyRate: 0 } });
    expect(err).toBeInstanceOf(DownloadError);
    expect(existsSync(dest) || existsSync(`${dest}.part`)).toBe(false);
    await expect(c.downloadGetFileResult(await c.getResultDownloadLink(id, 0), dest)).resolves.toMatchObject({
      bytes: FILE_BYTES.length,
    });
    await c.close();
  });

  it("device group without remediation level → ForbiddenError naming the fix", async () => {
    const c = clientFor(emu);
    emu.configure({
      devices: [
        { id: "d".repeat(40), computerDnsName: "locked1", osPlatform: "Windows11", remediationLevel: false },
      ],
    });
    const err = remember(
      await c
        .runLiveResponse("d".repeat(40), {
          Commands: [{ type: "GetFile", params: [{ key: "Path", value: "C:\\x" }] }],
          Comment: "mde-lr:locked",
        })
        .catch((e: unknown) => e),
    ) as ForbiddenError;
    expect(err).toBeInstanceOf(ForbiddenError);
    expect(err.code).toBe("DisallowedOperation");
    expect(err.message).toContain("assign an automated remediation level to the device group");
    await c.close();
  });

  it("cancels a pending action", async () => {
    const c = clientFor(emu);
    emu.configure({
      devices: [{ id: "f".repeat(40), computerDnsName: "offline1", osPlatform: "Windows11", offline: true }],
    });
    const action = await c.runLiveResponse("F".repeat(40), {
      Commands: [{ type: "GetFile", params: [{ key: "Path", value: "C:\\x" }] }],
      Comment: "mde-lr:cancel",
    });
    const cancelled = await c.cancelMachineAction(action.id, "no longer needed");
    expect(["Cancelled", "Pending"]).toContain(cancelled.status);
    expect((await waitFinal(c, emu, action.id)).status).toBe("Cancelled");
    const again = remember(await c.cancelMachineAction(action.id, "again").catch((e: unknown) => e));
    expect(again).toBeInstanceOf(MdeApiError);
    await c.close();
  });

  it("library: upload (multipart), list, delete, 404 on unknown", async () => {
    const c = clientFor(emu);
    const content = new TextEncoder().encode("param($x)\nWrite-Output $x\n");
    const up = await c.uploadLibraryFile({
      fileName: "echo-param.ps1",
      content,
      description: "echo",
      hasParameters: true,
      parametersDescription: "-x value",
      overrideIfExists: true,
    });
    expect(up.fileName).toBe("echo-param.ps1");
    expect(up.sha256).toBe(createHash("sha256").update(content).digest("hex"));
    const list = await c.listLibraryFiles();
    expect(list.map((f) => f.fileName)).toContain("echo-param.ps1");
    expect(list.find((f) => f.fileName === "echo-param.ps1")?.hasParameters).toBe(true);
    await c.deleteLibraryFile("echo-param.ps1");
    expect(emu.state.libraryFileNames()).not.toContain("echo-param.ps1");
    expect(remember(await c.deleteLibraryFile("echo-param.ps1").catch((e: unknown) => e))).toBeInstanceOf(
      NotFoundError,
    );
    await c.close();
  });

  it("unknown machine → NotFoundError; bad input fails before any call", async () => {
    const c = clientFor(emu);
    expect(remember(await c.getMachine("0".repeat(40)).catch((e: unknown) => e))).toBeInstanceOf(
      NotFoundError,
    );
    const before = c.callCounts();
    await expect(c.getMachine("ws1")).rejects.toMatchObject({ field: "machineId" });
    await expect(c.runLiveResponse(machineId, { Commands: [], Comment: "x" })).rejects.toMatchObject({
      field: "request.Commands",
    });
    await expect(c.getResultDownloadLink("not-a-guid", 0)).rejects.toMatchObject({ field: "actionId" });
    expect(c.callCounts()).toEqual(before);
    await c.close();
  });
});

describe("paging", () => {
  it("follows @odata.nextLink across pages", async () => {
    const e2 = await startEmulator({
      clock: emu.clock,
      fleet: { seed: 5, count: 23 },
      limits: { pageSize: 5 },
    });
    try {
      const c = clientFor(e2);
      const all = await c.listMachines();
      expect(all).toHaveLength(23);
      expect(new Set(all.map((m) => m.id)).size).toBe(23);
      expect(c.callCounts().machines).toBe(5);
      const top = await c.listMachines({ top: 7 });
      expect(top).toHaveLength(7);
      await c.close();
    } finally {
      await e2.close();
    }
  });
});

/**
 * A throttle storm covering "now" in the emulator's terms. Storms count from the emulator's start, which lies
 * somewhere in [t0, t1] on the shared clock: start the window early enough and make it long enough for both ends.
 */
function stormNow(durationMs: number, retryAfter: boolean) {
  const now = emu.clock.now();
  return {
    throttleStorms: [{ startMs: Math.max(0, now - t1), durationMs: t1 - t0 + durationMs, retryAfter }],
  };
}
