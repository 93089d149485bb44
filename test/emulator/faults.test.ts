/** Seeded fault injection, all recorded (429 storms, 5xx, resets incl. the ambiguous submission, bad downloads). */
import { randomBytes } from "node:crypto";
import { request } from "undici";
import { afterEach, describe, expect, test } from "vitest";
import { ScaledClock } from "../../shared/clock.js";
import { startEmulator } from "../../shared/emulator/index.js";
import type { EmulatorRecord } from "../../shared/emulator/types.js";
import { getFile, type Harness, harness, runScript } from "./helpers.js";

let h: Harness;
afterEach(() => h?.emu.close());
const faults = (kind?: string) =>
  h.emu.records.filter(
    (r): r is Extract<EmulatorRecord, { kind: "fault" }> => r.kind === "fault" && (!kind || r.fault === kind),
  );

describe("faults", () => {
  test("429 storms, with and without Retry-After, only inside their window", async () => {
    h = await harness({
      faults: {
        throttleStorms: [
          { startMs: 10_000, durationMs: 20_000, retryAfter: true },
          { startMs: 60_000, durationMs: 5_000, retryAfter: false },
        ],
      },
    });
    expect((await h.call("GET", "/api/machines")).status).toBe(200);
    h.clock.advance(15_000);
    const storm = await h.call("GET", "/api/machines");
    expect(storm.status).toBe(429);
    expect(storm.headers.get("retry-after")).toBe("15");
    h.clock.advance(15_000);
    expect((await h.call("GET", "/api/machines")).status).toBe(200);
    h.clock.advance(31_000);
    const bare = await h.call("GET", "/api/machines");
    expect(bare.status).toBe(429);
    expect(bare.headers.get("retry-after")).toBeNull();
    expect(faults("throttle").length).toBe(2);
  });

  test("5xx rate is seeded: the same seed gives the same sequence", async () => {
    const run = async () => {
      h = await harness({ faults: { seed: 99, serverErrorRate: 0.3 }, limits: { callsPerMinute: 1_000 } });
      const statuses: number[] = [];
      for (let i = 0; i < 40; i++) statuses.push((await h.call("GET", "/api/libraryfiles")).status);
      await h.emu.close();
      return statuses;
    };
    const a = await run();
    const b = await run();
    expect(a).toEqual(b);
    expect(a.filter((s) => s === 500).length).toBeGreaterThan(3);
    expect(a.filter((s) => s === 200).length).toBeGreaterThan(15);
  });

  test("connection reset after processing: the action exists though the caller saw no response (ambiguous submission)", async () => {
    h = await harness({
      devices: [{ computerDnsName: "a" }],
      library: [{ fileName: "t.ps1", content: "x" }],
      faults: { connectionResetRate: 1, resetAfterProcessingShare: 1 },
    });
    const id = h.emu.state.machineIds()[0];
    await expect(
      h.call("POST", `/api/machines/${id}/runliveresponse`, {
        Commands: [runScript("t.ps1")],
        Comment: "tag-123",
      }),
    ).rejects.toThrow();
    h.emu.configure({ faults: { connectionResetRate: 0 } });
    const list = await h.call("GET", "/api/machineactions?$filter=requestorComment eq 'tag-123'");
    expect((list.json.value as unknown[]).length).toBe(1);
    expect(faults("resetAfter").length).toBe(1);
  });

  test("connection reset before processing: nothing happened", async () => {
    h = await harness({
      devices: [{ computerDnsName: "a" }],
      library: [{ fileName: "t.ps1", content: "x" }],
      faults: { connectionResetRate: 1, resetAfterProcessingShare: 0 },
    });
    const id = h.emu.state.machineIds()[0];
    await expect(
      h.call("POST", `/api/machines/${id}/runliveresponse`, { Commands: [runScript("t.ps1")], Comment: "x" }),
    ).rejects.toThrow();
    expect(h.emu.state.actions()).toEqual([]);
    expect(faults("resetBefore").length).toBe(1);
  });

  test("truncated download: the body stops short of Content-Length and the record says incomplete", async () => {
    h = await harness({
      devices: [{ computerDnsName: "a", files: { "C:\\x.bin": "y".repeat(100_000) } }],
      faults: { truncatedBodyRate: 1 },
    });
    const id = h.emu.state.machineIds()[0];
    const r = await h.call("POST", `/api/machines/${id}/runliveresponse`, {
      Commands: [getFile("C:\\x.bin")],
      Comment: "x",
    });
    h.clock.advance(60_000);
    const link = await h.call(
      "GET",
      `/api/machineactions/${r.json.id}/GetLiveResponseResultDownloadLink(index=0)`,
    );
    const read = async () => (await request(String(link.json.value))).body.arrayBuffer();
    await expect(read()).rejects.toThrow();
    const download = h.emu.records.find((x) => x.kind === "download");
    expect(download).toMatchObject({ complete: false });
    expect(faults("truncatedBody").length).toBe(1);
  });

  test("slow download: chunks are paced on the emulator clock", async () => {
    // 1,000 service ms per real ms: 50 service s between 16 KiB chunks ≈ 50 real ms each.
    const clock = new ScaledClock({ scale: 1_000 });
    const emu = await startEmulator({
      clock,
      devices: [{ computerDnsName: "a", files: { "C:\\x.bin": randomBytes(100_000) } }],
      faults: { slowBodyRate: 1, slowChunkDelayMs: 50_000 },
      pickupDelayMs: 0,
      defaultCommandDurationMs: 1_000,
    });
    try {
      const headers = { authorization: `Bearer ${emu.issueToken()}`, "content-type": "application/json" };
      const id = emu.state.machineIds()[0];
      const submitted = await fetch(`${emu.url}/api/machines/${id}/runliveresponse`, {
        method: "POST",
        headers,
        body: JSON.stringify({ Commands: [getFile("C:\\x.bin")], Comment: "x" }),
      });
      const action = (await submitted.json()) as { id: string };
      await clock.sleep(5_000);
      const linkUrl = `${emu.url}/api/machineactions/${action.id}/GetLiveResponseResultDownloadLink(index=0)`;
      const link = (await (await fetch(linkUrl, { headers })).json()) as { value: string };
      const started = performance.now();
      const body = await (await fetch(link.value)).arrayBuffer();
      expect(body.byteLength).toBeGreaterThan(100_000);
      // ~100 KB of incompressible gzip = 7 chunks of 16 KiB → 6 pauses of ≈ 50 ms.
      expect(performance.now() - started).toBeGreaterThan(250);
      expect(emu.records.some((x) => x.kind === "fault" && x.fault === "slowBody")).toBe(true);
      expect(emu.records.find((x) => x.kind === "download")).toMatchObject({ complete: true });
    } finally {
      await emu.close();
    }
  });

  test("per-call records can be switched off; call counts still kept", async () => {
    h = await harness({ recordCalls: false });
    for (let i = 0; i < 5; i++) await h.call("GET", "/api/machines");
    expect(h.emu.records.filter((r) => r.kind === "call")).toEqual([]);
    expect(h.emu.state.callCounts()["GET machines.list"]).toBe(5);
  });
});
