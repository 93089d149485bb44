/**
 * HTTP-layer behaviour against a scripted loopback server (real HTTP over undici): exact Retry-After
 * handling, capped garbage error bodies, nextLink host pinning and the never-resubmit rule. The emulator
 * tests (client.emulator.test.ts) cover the same paths against the service's own behaviour.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createMdeClient } from "../../shared/api/client.js";
import {
  AmbiguousSubmissionError,
  ForbiddenError,
  MdeApiError,
  NetworkError,
  RateLimitError,
  UnauthorizedError,
} from "../../shared/errors.js";
import { VirtualClock } from "./virtual-clock.js";

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

interface Scripted {
  url: string;
  calls: { method: string; url: string; auth: string | undefined }[];
  close(): Promise<void>;
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function serve(handlers: Handler[]): Promise<Scripted> {
  const calls: Scripted["calls"] = [];
  let i = 0;
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => {
      body += c;
    });
    req.on("end", () => {
      calls.push({ method: req.method ?? "", url: req.url ?? "", auth: req.headers.authorization });
      const h = handlers[Math.min(i++, handlers.length - 1)] as Handler;
      h(req, res, body);
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, calls, close: () => new Promise((r) => server.close(() => r())) };
}

const json =
  (status: number, body: unknown, headers: Record<string, string> = {}): Handler =>
  (_req, res) => {
    res.writeHead(status, { "content-type": "application/json", ...headers });
    res.end(JSON.stringify(body));
  };
const reset: Handler = (req) => req.socket.destroy();

const TOKEN = "static-token-for-transport-tests";
const MACHINE = "a".repeat(40);
const ACTION = "c141bb71-8125-4234-a184-0123456789ab";
const machine = { id: MACHINE, computerDnsName: "pc1", machineTags: [] };
const lr = {
  Commands: [{ type: "RunScript" as const, params: [{ key: "ScriptName", value: "a.ps1" }] }],
  Comment: "tag-1",
};

function client(url: string, clock = new VirtualClock(), extra: Parameters<typeof createMdeClient>[0] = {}) {
  return createMdeClient({ apiUrl: url, accessToken: TOKEN, clock, env: {}, random: () => 0.5, ...extra });
}

describe("HTTP transport", () => {
  it("honours Retry-After seconds on 429, then succeeds", async () => {
    const s = await serve([
      json(429, { error: { code: "TooManyRequests", message: "slow down" } }, { "retry-after": "7" }),
      json(200, machine),
    ]);
    const clock = new VirtualClock();
    const retries: number[] = [];
    const c = client(s.url, clock, { hooks: { onRetry: (e) => retries.push(e.delayMs) } });
    await expect(c.getMachine(MACHINE)).resolves.toMatchObject({ id: MACHINE });
    expect(retries).toEqual([7000]);
    expect(clock.sleeps).toContain(7000);
    expect(s.calls.map((x) => x.auth)).toEqual([`Bearer ${TOKEN}`, `Bearer ${TOKEN}`]);
    await c.close();
  });

  it("backs off without Retry-After and gives up with RateLimitError after the budget", async () => {
    const s = await serve([json(429, { error: { code: "TooManyRequests", message: "quota" } })]);
    const clock = new VirtualClock();
    const c = client(s.url, clock, { retry: { maxAttempts: 3, baseDelayMs: 1000 } });
    const err = await c.getMachine(MACHINE).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RateLimitError);
    expect((err as RateLimitError).code).toBe("TooManyRequests");
    expect(s.calls).toHaveLength(3);
    // Full jitter with random()=0.5: 500 then 1000.
    expect(clock.sleeps).toEqual([500, 1000]);
    await c.close();
  });

  it("retries 5xx and network errors on reads, bounded", async () => {
    const s = await serve([
      json(503, { error: { code: "InternalServerError", message: "x" } }),
      reset,
      json(200, machine),
    ]);
    const c = client(s.url);
    await expect(c.getMachine(MACHINE)).resolves.toMatchObject({ id: MACHINE });
    expect(s.calls).toHaveLength(3);
    const s2 = await serve([reset]);
    const c2 = client(s2.url, new VirtualClock(), { retry: { maxAttempts: 2 } });
    await expect(c2.getMachine(MACHINE)).rejects.toBeInstanceOf(NetworkError);
    expect(s2.calls).toHaveLength(2);
    await c.close();
    await c2.close();
  });

  it("never re-sends runliveresponse after a reset or a 5xx", async () => {
    for (const first of [reset, json(500, { error: { code: "InternalServerError", message: "boom" } })]) {
      const s = await serve([first, json(201, { id: ACTION })]);
      const c = client(s.url);
      const err = await c.runLiveResponse(MACHINE, lr).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AmbiguousSubmissionError);
      expect((err as AmbiguousSubmissionError).comment).toBe("tag-1");
      expect(s.calls.filter((x) => x.url.endsWith("/runliveresponse"))).toHaveLength(1);
      await c.close();
    }
  });

  it("retries runliveresponse after a 429 (not accepted) and accepts 200 or 201", async () => {
    const s = await serve([
      json(429, { error: { code: "TooManyRequests", message: "x" } }, { "retry-after": "1" }),
      json(200, { id: ACTION, status: "Pending" }),
    ]);
    const c = client(s.url);
    await expect(c.runLiveResponse(MACHINE, lr)).resolves.toMatchObject({ id: ACTION });
    expect(s.calls).toHaveLength(2);
    await c.close();
  });

  it("does not retry a 4xx on runliveresponse and decodes the MDE error", async () => {
    const s = await serve([
      json(400, {
        error: {
          code: "ActiveRequestAlreadyExists",
          message: "Action is already in progress",
          target: "43f4cb08-8fac-4b65-9db1-745c2ae65f3a",
        },
      }),
    ]);
    const c = client(s.url);
    const err = (await c.runLiveResponse(MACHINE, lr).catch((e: unknown) => e)) as MdeApiError;
    expect(err).toBeInstanceOf(MdeApiError);
    expect(err.code).toBe("ActiveRequestAlreadyExists");
    expect(err.target).toBe("43f4cb08-8fac-4b65-9db1-745c2ae65f3a");
    expect(err.message).toContain("correlation 43f4cb08");
    expect(s.calls).toHaveLength(1);
    await c.close();
  });

  it("reads a huge garbage error body with a cap and still throws a typed error", async () => {
    const s = await serve([
      (_req, res) => {
        res.writeHead(400, { "content-type": "text/html" });
        res.end(`<html>${"x".repeat(5 * 1024 * 1024)}</html>`);
      },
    ]);
    const c = client(s.url);
    const err = (await c.getMachine(MACHINE).catch((e: unknown) => e)) as MdeApiError;
    expect(err).toBeInstanceOf(MdeApiError);
    expect(err.code).toBe("HttpError");
    expect(err.message.length).toBeLessThan(1000);
    await c.close();
  });

  it("maps 403s to ForbiddenError naming the role, the audience trap and the remediation-level fix", async () => {
    const s = await serve([
      json(403, { error: { code: "Forbidden", message: "no" } }),
      json(403, { error: { code: "DisallowedOperation", message: "not allowed" } }),
    ]);
    const c = client(s.url);
    const forbidden = (await c.runLiveResponse(MACHINE, lr).catch((e: unknown) => e)) as ForbiddenError;
    expect(forbidden).toBeInstanceOf(ForbiddenError);
    expect(forbidden.requiredRole).toBe("Machine.LiveResponse");
    expect(forbidden.message).toContain("api.securitycenter.microsoft.com/.default");
    expect(forbidden.kind).toBe("auth");
    const disallowed = (await c.runLiveResponse(MACHINE, lr).catch((e: unknown) => e)) as ForbiddenError;
    expect(disallowed.message).toContain("assign an automated remediation level to the device group");
    expect(disallowed.kind).toBe("service");
    await c.close();
  });

  it("does not retry a 401 with a fixed token and keeps the token out of the message", async () => {
    const s = await serve([
      json(401, { error: { code: "Unauthorized", message: `bad token Bearer ${TOKEN}` } }),
    ]);
    const c = client(s.url);
    const err = (await c.getMachine(MACHINE).catch((e: unknown) => e)) as UnauthorizedError;
    expect(err).toBeInstanceOf(UnauthorizedError);
    expect(err.message).not.toContain(TOKEN);
    expect(s.calls).toHaveLength(1);
    await c.close();
  });

  it("follows nextLink on the configured host only (never sends the token elsewhere)", async () => {
    const s = await serve([
      json(200, { value: [machine], "@odata.nextLink": "https://evil.example.com/api/machines?$skip=1" }),
      json(200, { value: [{ ...machine, id: "b".repeat(40) }] }),
    ]);
    const c = client(s.url);
    const list = await c.listMachines({ filter: "healthStatus eq 'Active'" });
    expect(list.map((m) => m.id)).toEqual([MACHINE, "b".repeat(40)]);
    expect(s.calls[0]?.url).toBe("/api/machines?$filter=healthStatus%20eq%20%27Active%27");
    expect(s.calls[1]?.url).toBe("/api/machines?$skip=1");
    await c.close();
  });

  it("counts calls by kind and waits on the client-side quota", async () => {
    const s = await serve([json(200, machine)]);
    const clock = new VirtualClock();
    const start = clock.now();
    const limited: number[] = [];
    const c = client(s.url, clock, {
      limits: { callsPerMinute: 2 },
      hooks: { onRateLimited: (e) => limited.push(e.waitMs) },
    });
    for (let i = 0; i < 3; i++) await c.getMachine(MACHINE);
    // The third call waits for the first to leave the minute (counted at its end, +1 ms).
    expect(clock.now() - start).toBeGreaterThanOrEqual(60_000);
    expect(clock.now() - start).toBeLessThan(60_100);
    expect(limited).toHaveLength(1);
    expect(limited[0]).toBeGreaterThanOrEqual(60_000);
    expect(c.callCounts()).toMatchObject({ machines: 3, submit: 0 });
    await c.close();
  });

  it("validates input before any call", async () => {
    const s = await serve([json(200, machine)]);
    const c = client(s.url);
    await expect(c.getMachine("nope")).rejects.toMatchObject({ field: "machineId" });
    await expect(c.runLiveResponse(MACHINE, { Commands: [], Comment: "x" })).rejects.toMatchObject({
      field: "request.Commands",
    });
    await expect(c.getResultDownloadLink(ACTION, -1)).rejects.toMatchObject({ field: "commandIndex" });
    await expect(c.getMachineAction("123")).rejects.toMatchObject({ field: "actionId" });
    await expect(c.deleteLibraryFile("../x")).rejects.toMatchObject({ field: "fileName" });
    await expect(c.listMachineActions({ top: 20_000 })).rejects.toMatchObject({ field: "query.top" });
    expect(s.calls).toHaveLength(0);
    await c.close();
  });

  it("an abort before sending cancels cleanly; an abort while a submission is in flight is ambiguous", async () => {
    const s = await serve([(_req, res) => setTimeout(() => json(201, { id: ACTION })(_req, res, ""), 500)]);
    const c = client(s.url);
    const pre = new AbortController();
    pre.abort();
    await expect(c.runLiveResponse(MACHINE, lr, { signal: pre.signal })).rejects.toMatchObject({
      kind: "cancelled",
    });
    expect(s.calls).toHaveLength(0);
    const ac = new AbortController();
    const p = c.runLiveResponse(MACHINE, lr, { signal: ac.signal });
    setTimeout(() => ac.abort(), 100);
    await expect(p).rejects.toBeInstanceOf(AmbiguousSubmissionError);
    await c.close();
  });

  it("stops promptly when aborted during a back-off", async () => {
    const s = await serve([json(503, { error: { code: "InternalServerError", message: "x" } })]);
    const c = createMdeClient({ apiUrl: s.url, accessToken: TOKEN, env: {}, retry: { baseDelayMs: 60_000 } });
    const ac = new AbortController();
    const p = c.getMachine(MACHINE, { signal: ac.signal });
    setTimeout(() => ac.abort(), 100);
    await expect(p).rejects.toMatchObject({ kind: "cancelled" });
    await c.close();
  });
});
