/** Seeded fleet generator, demo preset, scaled clock at fleet size. */
import { afterEach, describe, expect, test } from "vitest";
import { ScaledClock } from "../../shared/clock.js";
import { demoEmulatorOptions, generateFleet, startEmulator } from "../../shared/emulator/index.js";
import type { EmulatorHandle } from "../../shared/emulator/types.js";
import { errorCode, type Harness, harness, runScript } from "./helpers.js";

let h: Harness | undefined;
let emu: EmulatorHandle | undefined;
afterEach(async () => {
  await h?.emu.close();
  await emu?.close();
  h = undefined;
  emu = undefined;
});

describe("fleet generator", () => {
  test("same seed → same fleet; 40-hex unique ids, unique names, rates roughly honoured", () => {
    const spec = {
      seed: 2024,
      count: 2_000,
      offlineRate: 0.1,
      unsupportedRate: 0.05,
      busyRate: 0.02,
      failingRate: 0.03,
    };
    const a = generateFleet(spec);
    expect(generateFleet(spec)).toEqual(a);
    expect(generateFleet({ ...spec, seed: 2025 })).not.toEqual(a);
    expect(new Set(a.map((d) => d.id)).size).toBe(2_000);
    expect(new Set(a.map((d) => d.computerDnsName)).size).toBe(2_000);
    for (const d of a) expect(d.id).toMatch(/^[0-9a-f]{40}$/);
    const share = (f: (d: (typeof a)[number]) => boolean) => a.filter(f).length / a.length;
    expect(share((d) => d.offline === true)).toBeGreaterThan(0.06);
    expect(share((d) => d.offline === true)).toBeLessThan(0.14);
    expect(share((d) => d.busyUntil !== undefined)).toBeGreaterThan(0.005);
    expect(new Set(a.map((d) => d.osPlatform)).size).toBeGreaterThanOrEqual(6);
  });

  test("demo preset: a dozen devices with one offline, one busy, one failing script, one old Windows 10", async () => {
    const options = demoEmulatorOptions();
    expect(options.devices?.length).toBe(12);
    const demo = await harness(options);
    h = demo;
    const machines = (await demo.call("GET", "/api/machines")).json.value as {
      id: string;
      computerDnsName: string;
    }[];
    const id = (prefix: string) => machines.find((m) => m.computerDnsName.startsWith(prefix))?.id ?? "";
    const body = { Commands: [runScript("collect-triage.ps1")], Comment: "demo" };
    const submit = (prefix: string) => demo.call("POST", `/api/machines/${id(prefix)}/runliveresponse`, body);
    expect(errorCode(await submit("sales-lt-0099"))).toBe("ActiveRequestAlreadyExists");
    expect(errorCode(await submit("kiosk-old-07"))).toBe("OsPlatformNotSupported");
    const offline = await submit("eng-lt-0421");
    const failing = await submit("sql-srv-01");
    const fine = await submit("fin-ws-0142");
    demo.clock.advance(3 * 3_600_000);
    const status = async (r: typeof fine) =>
      (await demo.call("GET", `/api/machineactions/${r.json.id}`)).json.status;
    expect(await status(offline)).toBe("TimeOut");
    expect(await status(failing)).toBe("Failed");
    expect(await status(fine)).toBe("Succeeded");
  });

  test("5,000 devices on a ScaledClock at 10,000×: start, submit and poll stay cheap", async () => {
    const started = performance.now();
    emu = await startEmulator({
      clock: new ScaledClock({ scale: 10_000 }),
      fleet: { seed: 9, count: 5_000 },
      library: [{ fileName: "t.ps1", content: "x" }],
      limits: { submitPerMinute: 1e9, callsPerMinute: 1e9, callsPerHour: 1e9, concurrentSessions: 5_000 },
      recordCalls: false,
    });
    expect(performance.now() - started).toBeLessThan(2_000);
    // A 1 h token lasts 0.36 real s at this scale: mint a long one (clients must refresh on 401).
    const token = emu.issueToken({ lifetimeMs: 365 * 24 * 3_600_000 });
    const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
    const ids = emu.state.machineIds().slice(0, 200);
    const actions = await Promise.all(
      ids.map(async (id) => {
        const r = await fetch(`${emu?.url}/api/machines/${id}/runliveresponse`, {
          method: "POST",
          headers,
          body: JSON.stringify({ Commands: [runScript("t.ps1")], Comment: "scaled" }),
        });
        return (await r.json()) as { id?: string };
      }),
    );
    const created = actions.filter((a) => a.id);
    expect(created.length).toBeGreaterThan(150); // unsupported/busy devices refuse
    // 10 s of device time ≈ 1 real ms: a few real ms later every online action is final.
    await new Promise((r) => setTimeout(r, 50));
    const statuses = await Promise.all(
      created.map(async (a) => {
        const r = await fetch(`${emu?.url}/api/machineactions/${a.id}`, { headers });
        return ((await r.json()) as { status: string }).status;
      }),
    );
    expect(statuses.filter((s) => s === "Succeeded" || s === "Failed").length).toBe(created.length);
  });
});
