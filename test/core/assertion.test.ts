import { describe, expect, it } from "vitest";
import { jwtExpiryMs, memoiseAssertion } from "../../shared/auth/assertion.js";
import { VirtualClock } from "./virtual-clock.js";

function jwt(claims: Record<string, unknown>): string {
  const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
  return `${enc({ alg: "RS256", typ: "JWT" })}.${enc(claims)}.c2lnbmF0dXJl`;
}

describe("memoiseAssertion", () => {
  it("reuses an assertion up to 4 minutes, then fetches a fresh one", async () => {
    const clock = new VirtualClock();
    let n = 0;
    const m = memoiseAssertion(
      async () => jwt({ n: ++n, exp: Math.floor(clock.now() / 1000) + 300 }),
      undefined,
      clock,
    );
    const a = await m.get();
    clock.advance(3 * 60_000);
    expect(await m.get()).toBe(a);
    clock.advance(61_000);
    expect(await m.get()).not.toBe(a);
    expect(n).toBe(2);
  });

  it("never reuses an assertion within a minute of its own exp", async () => {
    const clock = new VirtualClock();
    let n = 0;
    const m = memoiseAssertion(
      async () => jwt({ n: ++n, exp: Math.floor(clock.now() / 1000) + 90 }),
      undefined,
      clock,
    );
    await m.get();
    clock.advance(20_000);
    await m.get();
    expect(n).toBe(1);
    clock.advance(15_000); // 35 s: inside the last minute of a 90 s token
    await m.get();
    expect(n).toBe(2);
  });

  it("shares one fetch between concurrent callers and handles non-JWT assertions", async () => {
    let n = 0;
    const m = memoiseAssertion(async () => `opaque-assertion-${++n}`, 1000, new VirtualClock());
    const [x, y] = await Promise.all([m.get(), m.get()]);
    expect(x).toBe(y);
    expect(n).toBe(1);
    expect(jwtExpiryMs("opaque")).toBeUndefined();
    expect(jwtExpiryMs(jwt({ exp: 10 }))).toBe(10_000);
  });
});
