/** Hosts, auth, error bodies, ids and timestamps (§7.1, §7.2, §7.3, §7.19, §7.20), over real HTTP. */
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { errorCode, type Harness, harness, runScript } from "./helpers.js";

let h: Harness;
beforeAll(async () => {
  h = await harness({ library: [{ fileName: "triage.ps1", content: "Get-Process" }] });
});
afterAll(() => h.emu.close());

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** 2 to 7 fractional digits, trailing zeros trimmed (real-captures README, O2). */
const TS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{1,6}[1-9]Z$/;

describe("§7.1 hosts and paths", () => {
  test.each([
    "api.security.microsoft.com",
    "api.securitycenter.microsoft.com",
    "eu.api.security.microsoft.com",
    "api-gcc.securitycenter.microsoft.us",
    "api-gov.securitycenter.microsoft.us",
  ])("§7.1 Host %s is accepted and echoed in @odata.context", async (host) => {
    const res = await request(`${h.emu.url}/api/machines`, {
      headers: { host, authorization: `Bearer ${h.token}` },
    });
    expect(res.statusCode).toBe(200);
    const body = (await res.body.json()) as Record<string, unknown>;
    expect(body["@odata.context"]).toBe(`https://${host}/api/$metadata#Machines`);
  });

  test("§7.1 /api, /api/v1.0 and /API prefixes all route, with the OData response headers of §3", async () => {
    for (const prefix of ["/api", "/api/v1.0", "/API", "/Api/V1.0"]) {
      const r = await h.call("GET", `${prefix}/machines`);
      expect(r.status).toBe(200);
      expect(r.headers.get("content-type")).toBe(
        "application/json; odata.metadata=minimal; odata.streaming=true; charset=utf-8",
      );
      expect(r.headers.get("odata-version")).toBe("4.0");
    }
  });
});

describe("§7.2 bearer token checks", () => {
  const machinePath = () => `/api/machines/${h.emu.state.machineIds()[0]}`;
  test("§7.2 missing token → 401 Unauthorized", async () => {
    const r = await h.call("GET", machinePath(), undefined, { authorization: "" });
    expect(r.status).toBe(401);
    expect(errorCode(r)).toBe("Unauthorized");
  });
  test("§7.2 tampered token → 401", async () => {
    const [a, b] = h.token.split(".");
    const forged = `${a}.${b}.${Buffer.from("x".repeat(32)).toString("base64url")}`;
    const r = await h.call("GET", machinePath(), undefined, { authorization: `Bearer ${forged}` });
    expect(r.status).toBe(401);
  });
  test("§7.2 expired token → 401 (emulator clock)", async () => {
    const token = h.emu.issueToken({ lifetimeMs: 60_000 });
    expect((await h.call("GET", machinePath(), undefined, { authorization: `Bearer ${token}` })).status).toBe(
      200,
    );
    h.clock.advance(61_000);
    const r = await h.call("GET", machinePath(), undefined, { authorization: `Bearer ${token}` });
    expect(r.status).toBe(401);
    expect(errorCode(r)).toBe("Unauthorized");
  });
  test("§7.2 wrong audience (api.security.microsoft.com) → 403 Forbidden", async () => {
    const token = h.emu.issueToken({ audience: "https://api.security.microsoft.com" });
    const r = await h.call("GET", machinePath(), undefined, { authorization: `Bearer ${token}` });
    expect(r.status).toBe(403);
    expect(errorCode(r)).toBe("Forbidden");
  });
  test("§7.2 gov and legacy audiences are accepted", async () => {
    for (const audience of [
      "https://securitycenter.onmicrosoft.com/windowsatpservice",
      "https://securitycenter.onmicrosoft.us/windowsatpservice",
      "https://api-gov.securitycenter.microsoft.us",
    ]) {
      const token = h.emu.issueToken({ audience });
      expect(
        (await h.call("GET", machinePath(), undefined, { authorization: `Bearer ${token}` })).status,
      ).toBe(200);
    }
  });
  test("§7.2 roles per endpoint (§2.3): each operation refuses a token without its role", async () => {
    const id = h.emu.state.machineIds()[0];
    const as = (roles: string[]) => ({ authorization: `Bearer ${h.emu.issueToken({ roles })}` });
    const body = { Commands: [runScript("triage.ps1")], Comment: "roles" };
    expect((await h.call("GET", "/api/machines", undefined, as(["Library.Manage"]))).status).toBe(403);
    expect((await h.call("GET", "/api/machines", undefined, as(["Machine.Read.All"]))).status).toBe(200);
    expect((await h.call("GET", "/api/libraryfiles", undefined, as(["Machine.ReadWrite.All"]))).status).toBe(
      403,
    );
    expect((await h.call("GET", "/api/libraryfiles", undefined, as(["Library.Manage"]))).status).toBe(200);
    expect((await h.call("GET", "/api/machineactions", undefined, as(["Machine.LiveResponse"]))).status).toBe(
      403,
    );
    const denied = await h.call(
      "POST",
      `/api/machines/${id}/runliveresponse`,
      body,
      as(["Machine.ReadWrite.All"]),
    );
    expect(denied.status).toBe(403);
    const created = await h.call(
      "POST",
      `/api/machines/${id}/runliveresponse`,
      body,
      as(["Machine.LiveResponse"]),
    );
    expect(created.status).toBe(201);
    const actionId = String(created.json.id);
    h.clock.advance(60_000);
    const link = `/api/machineactions/${actionId}/GetLiveResponseResultDownloadLink(index=0)`;
    expect((await h.call("GET", link, undefined, as(["Machine.LiveResponse"]))).status).toBe(403);
    // Current doc: Machine.ReadWrite.All; older doc also Machine.Read.All — both accepted (§8.4).
    expect((await h.call("GET", link, undefined, as(["Machine.ReadWrite.All"]))).status).toBe(200);
    expect((await h.call("GET", link, undefined, as(["Machine.Read.All"]))).status).toBe(200);
    const cancel = `/api/machineactions/${actionId}/cancel`;
    expect((await h.call("POST", cancel, { Comment: "x" }, as(["Machine.Read.All"]))).status).toBe(403);
    // Allowed role, but the action is final by now → 400 (the role check passed).
    expect((await h.call("POST", cancel, { Comment: "x" }, as(["Machine.Isolate"]))).status).toBe(400);
  });
});

describe("§7.3 error body", () => {
  test("§7.3 errors are {error:{code,message,target}} with a fresh GUID target, compact JSON", async () => {
    const a = await h.call("GET", "/api/machines/0000000000000000000000000000000000000000");
    const b = await h.call("GET", "/api/machines/0000000000000000000000000000000000000000");
    expect(a.status).toBe(404);
    const ea = a.json.error as { code: string; message: string; target: string };
    const eb = b.json.error as { target: string };
    expect(ea.code).toBe("ResourceNotFound");
    expect(typeof ea.message).toBe("string");
    expect(ea.target).toMatch(GUID);
    expect(eb.target).not.toBe(ea.target);
    expect(a.text).not.toMatch(/": /);
  });
});

describe("§7.19 ids and timestamps", () => {
  test("§7.19 machine ids are 40 lowercase hex, action ids GUIDs, timestamps 2–7 fractional digits + Z", async () => {
    const machines = (await h.call("GET", "/api/machines")).json.value as { id: string; lastSeen: string }[];
    expect(machines.length).toBeGreaterThan(0);
    for (const m of machines) {
      expect(m.id).toMatch(/^[0-9a-f]{40}$/);
      expect(m.lastSeen).toMatch(TS);
    }
    const target = machines.find(
      (m) => !h.emu.state.actions().some((a) => (a as { machineId: string }).machineId === m.id),
    );
    const r = await h.call("POST", `/api/machines/${target?.id}/runliveresponse`, {
      Commands: [runScript("triage.ps1")],
      Comment: "ids",
    });
    expect(r.status).toBe(201);
    expect(r.json.id).toMatch(GUID);
    expect(r.json.creationDateTimeUtc).toMatch(TS);
    expect(r.json.lastUpdateDateTimeUtc).toMatch(TS);
  });
});

describe("§7.20 portal sessions", () => {
  test("§7.20 a portal live response is invisible to the API but still holds the device", async () => {
    const portal = await harness({
      devices: [{ computerDnsName: "held.contoso.com", busyUntil: Number.POSITIVE_INFINITY }],
      library: [{ fileName: "triage.ps1", content: "x" }],
    });
    try {
      const id = portal.emu.state.machineIds()[0];
      const list = await portal.call("GET", "/api/machineactions");
      expect(list.json.value).toEqual([]);
      const r = await portal.call("POST", `/api/machines/${id}/runliveresponse`, {
        Commands: [runScript("triage.ps1")],
        Comment: "x",
      });
      expect(r.status).toBe(400);
      expect(errorCode(r)).toBe("ActiveRequestAlreadyExists");
    } finally {
      await portal.emu.close();
    }
  });
});
