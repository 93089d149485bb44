/** Call quotas and the concurrent-session cap on the emulator clock (§7.18, §3.2). */
import { afterEach, describe, expect, test } from "vitest";
import { errorCode, type Harness, harness, runScript } from "./helpers.js";

let h: Harness;
afterEach(() => h?.emu.close());

const body = { Commands: [runScript("t.ps1")], Comment: "quota" };
const library = [{ fileName: "t.ps1", content: "x" }];

describe("§7.18 rate limits", () => {
  test("§7.18 runliveresponse: 10/min, then 429 TooManyRequests with Retry-After seconds; calls before it elapses keep getting 429", async () => {
    h = await harness({ fleet: { seed: 3, count: 20 }, library, limits: { concurrentSessions: 100 } });
    const ids = h.emu.state.machineIds();
    for (let i = 0; i < 10; i++) {
      expect((await h.call("POST", `/api/machines/${ids[i]}/runliveresponse`, body)).status).not.toBe(429);
      h.clock.advance(1_000);
    }
    const refused = await h.call("POST", `/api/machines/${ids[10]}/runliveresponse`, body);
    expect(refused.status).toBe(429);
    expect(errorCode(refused)).toBe("TooManyRequests");
    const retryAfter = Number(refused.headers.get("retry-after"));
    expect(retryAfter).toBe(50); // the oldest call leaves the sliding minute at t0 + 60 s
    h.clock.advance((retryAfter - 1) * 1_000);
    expect((await h.call("POST", `/api/machines/${ids[10]}/runliveresponse`, body)).status).toBe(429);
    h.clock.advance(1_000);
    expect((await h.call("POST", `/api/machines/${ids[10]}/runliveresponse`, body)).status).not.toBe(429);
    // Other endpoints have their own budget.
    expect((await h.call("GET", "/api/machines")).status).toBe(200);
  });

  test("§7.18 other endpoints: 100/min and 1,500/h per app", async () => {
    h = await harness({ library });
    for (let i = 0; i < 100; i++) expect((await h.call("GET", "/api/libraryfiles")).status).toBe(200);
    const r = await h.call("GET", "/api/machines");
    expect(r.status).toBe(429);
    expect(Number(r.headers.get("retry-after"))).toBeGreaterThan(0);
    // Another app has its own quota.
    const other = h.emu.issueToken({ appId: "0f0f0f0f-0000-4000-a000-000000000001" });
    expect(
      (await h.call("GET", "/api/machines", undefined, { authorization: `Bearer ${other}` })).status,
    ).toBe(200);
    h.emu.configure({ limits: { callsPerMinute: 10_000, callsPerHour: 150 } });
    h.clock.advance(60_000);
    for (let i = 0; i < 50; i++) expect((await h.call("GET", "/api/libraryfiles")).status).toBe(200);
    const hourly = await h.call("GET", "/api/libraryfiles");
    expect(hourly.status).toBe(429);
    expect(Number(hourly.headers.get("retry-after"))).toBe(3_540);
  });

  test("§7.18 concurrent-session cap → 429 TooManyRequests with Retry-After", async () => {
    h = await harness({ fleet: { seed: 5, count: 6 }, library, limits: { concurrentSessions: 3 } });
    const ids = h.emu.state.machineIds();
    for (let i = 0; i < 3; i++) {
      expect((await h.call("POST", `/api/machines/${ids[i]}/runliveresponse`, body)).status).toBe(201);
    }
    const refused = await h.call("POST", `/api/machines/${ids[3]}/runliveresponse`, body);
    expect(refused.status).toBe(429);
    expect(errorCode(refused)).toBe("TooManyRequests");
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(h.emu.records.some((r) => r.kind === "rejected" && r.status === 429)).toBe(true);
    h.clock.advance(3_600_000);
    expect((await h.call("POST", `/api/machines/${ids[3]}/runliveresponse`, body)).status).toBe(201);
  });
});
