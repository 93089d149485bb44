/** The custody building blocks: token ids (decoded, not verified), initiator cleaning, sessions, requestors. */
import { describe, expect, it } from "vitest";
import { unverifiedTokenIds } from "../../shared/auth/token-claims.js";
import {
  addSession,
  cleanInitiator,
  emptyCustody,
  MAX_SESSIONS,
  newSession,
  noteRequestor,
} from "../../shared/custody/index.js";
import type { Initiator } from "../../shared/custody/types.js";
import { startEmulator } from "../../shared/emulator/index.js";
import { registerSecret } from "../../shared/redact.js";

const APP = "11111111-2222-3333-4444-555555555555";
const TENANT = "99999999-8888-7777-6666-555555555555";
const jwt = (claims: Record<string, unknown>) =>
  `eyJhbGciOiJub25lIn0.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.c2ln`;

describe("the app and tenant an access token claims", () => {
  it("reads appid (v1.0) or azp (v2.0) and tid, lower-cased GUIDs only", () => {
    expect(unverifiedTokenIds(jwt({ appid: APP.toUpperCase(), tid: TENANT }))).toEqual({
      clientId: APP,
      tenantId: TENANT,
    });
    expect(unverifiedTokenIds(jwt({ azp: APP }))).toEqual({ clientId: APP, tenantId: null });
    expect(unverifiedTokenIds(jwt({ appid: "<script>", tid: 42 }))).toBeNull();
    expect(unverifiedTokenIds("not-a-jwt")).toBeNull();
    expect(unverifiedTokenIds("a.!!!.c")).toBeNull();
  });

  it("reads the emulator's real tokens, and the client built on one reports them as token claims", async () => {
    const emu = await startEmulator({ devices: [] });
    try {
      const token = emu.issueToken();
      expect(unverifiedTokenIds(token)).toEqual({
        clientId: emu.demoApp.clientId.toLowerCase(),
        tenantId: emu.demoApp.tenantId.toLowerCase(),
      });
      const { createMdeClient } = await import("../../shared/api/client.js");
      const client = createMdeClient({ apiUrl: emu.url, accessToken: token, env: {} });
      expect(client.identity).toEqual({
        clientId: emu.demoApp.clientId.toLowerCase(),
        tenantId: emu.demoApp.tenantId.toLowerCase(),
        source: "token-claims",
      });
      expect(JSON.stringify(client.identity)).not.toContain(token.split(".")[1]);
      await client.close();
      const bySecret = createMdeClient({
        apiUrl: emu.url,
        authorityHost: emu.authorityHost,
        tenantId: emu.demoApp.tenantId,
        clientId: emu.demoApp.clientId,
        clientSecret: emu.demoApp.clientSecret,
        env: {},
      });
      expect(bySecret.identity).toEqual({
        clientId: emu.demoApp.clientId,
        tenantId: emu.demoApp.tenantId,
        source: "connection",
      });
      await bySecret.close();
    } finally {
      await emu.close();
    }
  });
});

describe("initiators and sessions", () => {
  it("keeps only known fields as short single-line strings; an unknown kind is api", () => {
    const dirty = {
      kind: "cli",
      user: " alice\n\u202e ",
      host: "h".repeat(2000),
      token: "should not survive",
      stack: 42,
    } as unknown as Initiator;
    const clean = cleanInitiator(dirty);
    expect(clean).toEqual({ kind: "cli", user: "alice", host: `${"h".repeat(511)}…` });
    expect(cleanInitiator({ kind: "shell" } as unknown as Initiator)).toEqual({ kind: "api" });
    expect(cleanInitiator(undefined)).toEqual({ kind: "api" });
  });

  it("masks anything registered as a secret, should a front end ever hand one over", () => {
    const secret = "S3cr3t-Value-For-Custody-Test-0001";
    registerSecret(secret);
    expect(JSON.stringify(cleanInitiator({ kind: "cli", user: `x ${secret} y` }))).not.toContain(secret);
  });

  it("a session says who, when and as which app (unknown for an MdeApi that does not say)", () => {
    const api = { identity: { clientId: APP, tenantId: TENANT, source: "connection" as const } };
    const s = newSession("resume", { kind: "cli", user: "bob" }, api as never, Date.UTC(2026, 10, 23, 7));
    expect(s).toEqual({
      role: "resume",
      at: "2026-11-23T07:00:00.000Z",
      initiator: { kind: "cli", user: "bob" },
      app: { clientId: APP, tenantId: TENANT, source: "connection" },
    });
    expect(newSession("start", undefined, {} as never, 0).app).toEqual({
      clientId: null,
      tenantId: null,
      source: null,
    });
  });

  it("keeps the first session and the latest ones, counting those dropped between", () => {
    const state = emptyCustody();
    for (let i = 0; i < MAX_SESSIONS + 7; i++) {
      addSession(
        state,
        newSession(i === 0 ? "start" : "resume", { kind: "cli", user: `u${i}` }, {} as never, i),
      );
    }
    expect(state.sessions).toHaveLength(MAX_SESSIONS);
    expect(state.sessions[0]?.initiator.user).toBe("u0");
    expect(state.sessions[1]?.initiator.user).toBe("u8");
    expect(state.sessions.at(-1)?.initiator.user).toBe(`u${MAX_SESSIONS + 6}`);
    expect(state.omittedSessions).toBe(7);
  });

  it("requestors are distinct, in the order first seen; null and blank are not requestors", () => {
    const state = emptyCustody();
    expect(noteRequestor(state, APP)).toBe(true);
    expect(noteRequestor(state, APP)).toBe(false);
    expect(noteRequestor(state, null)).toBe(false);
    expect(noteRequestor(state, "  ")).toBe(false);
    expect(noteRequestor(state, "analyst@contoso.com")).toBe(true);
    expect(state.requestors).toEqual([APP, "analyst@contoso.com"]);
  });
});
