/**
 * The emulator against the real service's answers (/work/shared/real-captures): each test is named after
 * the capture whose facts it checks. The capture files are read for their facts (key sets, literals,
 * layouts), not replayed byte for byte: values such as ids and times are the emulator's own.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { capturedTimestamp, generateFleet, mdeTimestamp } from "../../shared/emulator/index.js";
import type { DeviceSpec } from "../../shared/emulator/types.js";
import { asAction, errorCode, getFile, type Harness, harness, putFile, runScript } from "./helpers.js";

const CAPTURES = "/work/shared/real-captures";
const capture = (name: string) =>
  JSON.parse(readFileSync(path.join(CAPTURES, name), "utf8")) as Record<string, unknown>;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{1,6}[1-9]Z$/;

let h: Harness;
afterEach(() => h?.emu.close());

const LIBRARY = [{ fileName: "hello.ps1", content: "Write-Output hello" }];
async function start(devices: DeviceSpec[], extra: Parameters<typeof harness>[0] = {}) {
  h = await harness({ devices, library: LIBRARY, defaultCommandDurationMs: 10_000, ...extra });
  return h;
}
const machineId = (n = 0) => h.emu.state.machineIds()[n] ?? "";
const submit = (id: string, commands: unknown[], comment = "mde-lr replay") =>
  h.call("POST", `/api/machines/${id}/runliveresponse`, { Commands: commands, Comment: comment });
const get = async (actionId: string) => asAction(await h.call("GET", `/api/machineactions/${actionId}`));
const linkPath = (actionId: string, index: number) =>
  `/api/machineactions/${actionId}/GetLiveResponseResultDownloadLink(index=${index})`;

describe("R1 runliveresponse answer and non-library PutFile", () => {
  test("capture R1: the 201 answer has the captured fields, literals and nulls", async () => {
    const r1 = capture("R1-demisto-2022-runliveresponse-putfile-pending.json");
    await start([{ computerDnsName: "desktop-s2455r8" }]);
    const r = await submit(machineId(), [runScript("hello.ps1")], "testing");
    expect(r.status).toBe(201);
    expect(Object.keys(r.json).sort()).toEqual(Object.keys(r1).sort());
    for (const key of Object.keys(r1)) {
      if (r1[key] === null) expect(r.json[key], key).toBeNull();
    }
    expect(r.json).toMatchObject({
      type: r1.type,
      status: r1.status,
      errorHResult: r1.errorHResult,
      requestSource: r1.requestSource,
      requestorComment: "testing",
    });
    expect(r.json.requestor).toMatch(GUID);
    expect(r.json.creationDateTimeUtc).toMatch(TS);
    expect(r.json.lastUpdateDateTimeUtc).toBe(r.json.creationDateTimeUtc);
    const [c] = r.json.commands as Record<string, unknown>[];
    const [c1] = r1.commands as Record<string, unknown>[];
    expect(Object.keys(c ?? {}).sort()).toEqual(Object.keys(c1 ?? {}).sort());
    expect(c).toMatchObject({
      commandStatus: "Created",
      errors: [],
      startTime: null,
      endTime: null,
      index: 0,
    });
  });

  test("capture R1: PutFile of a non-library file fails at the command", async () => {
    const r1 = capture("R1-demisto-2022-runliveresponse-putfile-pending.json");
    const fileName = ((r1.commands as { command: { params: { value: string }[] } }[])[0]?.command.params[0]
      ?.value ?? "") as string;
    expect(fileName).toMatch(/^C:\\/); // a full path, not a library name
    await start([{ computerDnsName: "desktop-s2455r8", files: { "C:\\out.txt": "x" } }]);
    const r = await submit(machineId(), [putFile(fileName), runScript("hello.ps1"), getFile("C:\\out.txt")]);
    expect(r.status).toBe(201);
    expect(r.json.status).toBe("Pending");
    expect(h.emu.records.some((x) => x.kind === "rejected")).toBe(false);
    h.clock.advance(5 * 60_000);
    const a = await get(String(r.json.id));
    expect(a.status).toBe("Failed");
    expect(a.commands.map((x) => x.commandStatus)).toEqual(["Failed", "Created", "Created"]);
    expect(a.commands[0]?.errors[0]).toContain(fileName);
    expect(a.commands[0]?.errors[0]).toMatch(/library/);
    expect(a.errorHResult).not.toBe(0);
    expect((await h.call("GET", linkPath(a.id, 0))).status).toBe(400);
  });

  test("capture R1: RunScript of a script the library lacks is accepted and fails when it runs", async () => {
    await start([{ computerDnsName: "a" }]);
    const r = await submit(machineId(), [runScript("not-uploaded.ps1")]);
    expect(r.status).toBe(201);
    h.clock.advance(60_000);
    const a = await get(String(r.json.id));
    expect(a.status).toBe("Failed");
    expect(a.commands[0]?.errors[0]).toMatch(/not-uploaded\.ps1.*library/);
  });
});

describe("R3 result links", () => {
  test("capture R3: result links are user-delegation SAS links laid out like the captured one", async () => {
    const r3 = new URL(String(capture("R3-demisto-2022-download-link.json").value));
    await start([{ computerDnsName: "a" }]);
    const r = await submit(machineId(), [runScript("hello.ps1")]);
    h.clock.advance(60_000);
    const link = await h.call("GET", linkPath(String(r.json.id), 0));
    expect(link.status).toBe(200);
    const raw = String(link.json.value);
    const url = new URL(raw);
    // Same parameters in the same order as the captured link.
    expect([...url.searchParams.keys()]).toEqual([...r3.searchParams.keys()]);
    expect(url.searchParams.get("sp")).toBe("rt");
    expect(url.searchParams.get("sr")).toBe("b");
    expect(url.searchParams.get("sks")).toBe("b");
    expect(url.searchParams.get("sv")).toBe(r3.searchParams.get("sv"));
    expect(url.searchParams.get("skv")).toBe(r3.searchParams.get("skv"));
    expect(url.searchParams.get("skoid")).toMatch(GUID);
    expect(url.searchParams.get("sktid")).toMatch(GUID);
    expect(url.searchParams.get("ske")).toBe(url.searchParams.get("se"));
    expect(Date.parse(url.searchParams.get("se") ?? "") - Date.parse(url.searchParams.get("skt") ?? "")).toBe(
      30 * 60_000,
    );
    const rscd = url.searchParams.get("rscd") ?? "";
    expect(rscd).toMatch(/^attachment; filename=output_[0-9a-f-]{36}_0\.json$/);
    expect(r3.searchParams.get("rscd")).toMatch(/^attachment; filename=output_[0-9a-f-]{36}_0\.json$/);
    // Percent-encoded as Azure writes it: `%3A` in times, `%3B%20` in rscd, never `+`.
    expect(raw).toMatch(/[?&]se=\d{4}-\d{2}-\d{2}T\d{2}%3A\d{2}%3A\d{2}Z&/);
    expect(raw).toContain("rscd=attachment%3B%20filename%3Doutput_");
    expect(raw).not.toContain("+");
    expect(url.pathname).toMatch(
      /\/investigation-actions-data\/.+\/CustomPlaybookCommandOutput\/[0-9a-f]{32}$/,
    );

    const res = await fetch(raw);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-disposition")).toBe(rscd);
    expect(res.headers.get("x-ms-version")).toBe("2020-06-12");
    await res.arrayBuffer();
  });

  test("capture R3: a link whose signed parameters were dropped or double-encoded is refused (403)", async () => {
    await start([{ computerDnsName: "a" }]);
    const r = await submit(machineId(), [runScript("hello.ps1")]);
    h.clock.advance(60_000);
    const raw = String((await h.call("GET", linkPath(String(r.json.id), 0))).json.value);
    const withoutRscd = raw.replace(/&rscd=[^&]+/, "");
    const doubleEncoded = raw.replace(/rscd=([^&]+)/, (_m, v: string) => `rscd=${encodeURIComponent(v)}`);
    const otherSigner = raw.replace(/skoid=[^&]+/, "skoid=00000000-0000-4000-a000-000000000000");
    for (const bad of [withoutRscd, doubleEncoded, otherSigner]) {
      const res = await fetch(bad);
      expect(res.status).toBe(403);
      expect(await res.text()).toContain("<Code>AuthenticationFailed</Code>");
    }
    expect((await fetch(raw)).status).toBe(200);
  });

  test("capture R3: a GetFile link names a .gz result; links stay distinct per call", async () => {
    await start([{ computerDnsName: "a", files: { "C:\\x.bin": "abc" } }]);
    const r = await submit(machineId(), [getFile("C:\\x.bin")]);
    h.clock.advance(60_000);
    const a = String((await h.call("GET", linkPath(String(r.json.id), 0))).json.value);
    const b = String((await h.call("GET", linkPath(String(r.json.id), 0))).json.value);
    expect(a).not.toBe(b);
    expect(new URL(a).searchParams.get("rscd")).toMatch(/_0\.gz$/);
  });
});

describe("R5 and D5 machine entities", () => {
  test("capture R5: osVersion is a release name such as 20H2 beside osBuild", async () => {
    const r5 = capture("R5-demisto-2022-machine.json");
    await start([
      { computerDnsName: "desktop-s", osPlatform: "Windows10", osVersion: "20H2", osBuild: 19042 },
    ]);
    const m = await h.call("GET", `/api/machines/${machineId()}`);
    expect(m.json).toMatchObject({
      osPlatform: r5.osPlatform,
      osVersion: r5.osVersion,
      osBuild: r5.osBuild,
    });
    // The generated fleet gives a share of Windows devices a release name for their build.
    const fleet = generateFleet({ seed: 5, count: 400 });
    const named = fleet.filter((d) => d.osVersion !== undefined && /^\d{2}H\d$|^\d{4}$/.test(d.osVersion));
    expect(named.length).toBeGreaterThan(40);
    for (const d of named.filter((x) => x.osPlatform === "Windows10")) {
      expect([d.osVersion, d.osBuild]).toEqual(["22H2", 19045]);
    }
  });

  test("capture D5: a machine without onboardingStatus; absent fields are absent, not null", async () => {
    const d5 = capture("D5-docs-get-machine-by-id.json");
    expect("onboardingStatus" in d5).toBe(false);
    await start([
      { computerDnsName: "mymachine1.contoso.com", absentFields: ["onboardingStatus", "osVersion"] },
      { computerDnsName: "nulls.contoso.com", nullFields: ["healthStatus", "lastIpAddress"] },
      { computerDnsName: "full.contoso.com" },
    ]);
    const one = await h.call("GET", `/api/machines/${machineId(0)}`);
    expect(one.status).toBe(200);
    expect("onboardingStatus" in one.json).toBe(false);
    expect("osVersion" in one.json).toBe(false);
    expect(one.json.healthStatus).toBe("Active");
    const list = (await h.call("GET", "/api/machines")).json.value as Record<string, unknown>[];
    expect("onboardingStatus" in (list[0] ?? {})).toBe(false);
    expect(list[1]).toMatchObject({ healthStatus: null, lastIpAddress: null });
    // $filter on a field a device leaves out treats it as null, never as an OData error.
    const onboarded = await h.call("GET", "/api/machines?$filter=onboardingStatus eq 'Onboarded'");
    expect(onboarded.status).toBe(200);
    expect((onboarded.json.value as { id: string }[]).map((m) => m.id)).toEqual([machineId(1), machineId(2)]);
    const unknown = await h.call("GET", "/api/machines?$filter=onboardingStatus eq null");
    expect((unknown.json.value as { id: string }[]).map((m) => m.id)).toEqual([machineId(0)]);
    // The device is still what it is: hiding fields does not change what the service allows.
    const r = await submit(machineId(0), [runScript("hello.ps1")]);
    expect(r.status).toBe(201);
  });

  test("capture D5: a seeded share of the generated fleet leaves optional fields out or null", () => {
    const fleet = generateFleet({ seed: 7, count: 500 });
    const sparse = fleet.filter((d) => d.absentFields || d.nullFields);
    expect(sparse.length).toBeGreaterThan(25);
    expect(sparse.length).toBeLessThan(80);
    const fields = new Set(sparse.flatMap((d) => [...(d.absentFields ?? []), ...(d.nullFields ?? [])]));
    for (const f of ["onboardingStatus", "healthStatus", "osVersion", "lastIpAddress"]) {
      expect(fields, f).toContain(f);
    }
    expect(generateFleet({ seed: 7, count: 500 })).toEqual(fleet);
    expect(generateFleet({ seed: 7, count: 500, sparseRate: 0 }).some((d) => d.absentFields)).toBe(false);
  });

  test("capture D5: naming an unknown field (or id) in absentFields is a clear error", async () => {
    await expect(
      harness({ devices: [{ computerDnsName: "x", absentFields: ["id" as never] }] }),
    ).rejects.toThrow(/absentFields.*'id'/);
  });
});

describe("O1 busy device", () => {
  test("capture O1: a second live response on a busy device → 400 ActiveRequestAlreadyExists", async () => {
    const o1 = capture("O1-assembled-400-active-request-already-exists.json");
    const expected = (o1.body as { error: Record<string, string> }).error;
    await start([{ computerDnsName: "a" }]);
    expect((await submit(machineId(), [runScript("hello.ps1")])).status).toBe(201);
    const again = await submit(machineId(), [runScript("hello.ps1")], "second");
    expect(again.status).toBe(o1._http_status);
    const error = again.json.error as Record<string, string>;
    expect(Object.keys(error)).toEqual(Object.keys(expected));
    expect(error).toMatchObject({ code: expected.code, message: expected.message });
    expect(error.target).toMatch(GUID);
  });

  test("docs #5907 switch: behaviour.duplicateReturnsExisting answers with the EXISTING pending action", async () => {
    await start([{ computerDnsName: "a" }], { behaviour: { duplicateReturnsExisting: { rate: 1 } } });
    const theirs = h.emu.issueToken({ appId: "8b2f6f8e-0000-4000-8000-00000000f0e1" });
    const first = await h.call(
      "POST",
      `/api/machines/${machineId()}/runliveresponse`,
      { Commands: [runScript("hello.ps1")], Comment: "someone else's investigation" },
      { authorization: `Bearer ${theirs}` },
    );
    expect(first.status).toBe(201);
    const dup = await submit(machineId(), [runScript("hello.ps1", "-Mine")], "mine");
    expect(dup.status).toBe(201);
    expect(dup.json.id).toBe(first.json.id);
    expect(dup.json.requestorComment).toBe("someone else's investigation");
    expect(dup.json.requestor).toBe("8b2f6f8e-0000-4000-8000-00000000f0e1");
    expect(h.emu.state.actions()).toHaveLength(1);
    expect(h.emu.records.filter((r) => r.kind === "submit")).toHaveLength(1);
    expect(h.emu.records.find((r) => r.kind === "duplicate")).toMatchObject({
      machineId: machineId(),
      actionId: first.json.id,
      status: 201,
    });
    h.emu.configure({ behaviour: { duplicateReturnsExisting: { status: 200 } } });
    expect((await submit(machineId(), [runScript("hello.ps1")])).status).toBe(200);
    h.emu.configure({ behaviour: { duplicateReturnsExisting: { rate: 0 } } });
    expect(errorCode(await submit(machineId(), [runScript("hello.ps1")]))).toBe("ActiveRequestAlreadyExists");
  });

  test("docs #5907 switch: off by default; a portal session (nothing to return) stays 400", async () => {
    await start(
      [{ computerDnsName: "a" }, { computerDnsName: "portal", busyUntil: Number.POSITIVE_INFINITY }],
      { behaviour: { duplicateReturnsExisting: { rate: 1 } } },
    );
    expect(errorCode(await submit(machineId(1), [runScript("hello.ps1")]))).toBe(
      "ActiveRequestAlreadyExists",
    );
    h.emu.configure({ behaviour: { duplicateReturnsExisting: { rate: 0 } } });
    await submit(machineId(0), [runScript("hello.ps1")]);
    expect(errorCode(await submit(machineId(0), [runScript("hello.ps1")]))).toBe(
      "ActiveRequestAlreadyExists",
    );
  });
});

describe("O2 cancel racing the completion", () => {
  test("capture O2: a cancel racing the completion ends Cancelled with commands Completed and results downloadable", async () => {
    const o2 = capture("O2-assembled-cancelled-but-command-completed.json");
    await start([{ computerDnsName: "desktop-test" }], {
      pickupDelayMs: 1_000,
      behaviour: { completionLag: { rate: 1, minMs: 8_000, maxMs: 8_000 } },
    });
    const r = await submit(machineId(), [runScript("hello.ps1")]);
    const actionId = String(r.json.id);
    h.clock.advance(1_000 + 10_000 + 4_000); // the command ended 4 s ago; the action has not turned final
    const running = await get(actionId);
    expect(running.status).toBe("InProgress");
    expect(running.commands[0]?.commandStatus).toBe("Completed");
    const c = await h.call("POST", `/api/machineactions/${actionId}/cancel`, { Comment: "too late" });
    expect(c.status).toBe(200);
    const a = asAction(c);
    expect(a.id).toBe(actionId); // the cancel updates the original action
    expect(a.status).toBe(o2.status);
    expect(a.commands.map((x) => x.commandStatus)).toEqual(["Completed"]);
    expect(a.cancellationComment).toBe("too late");
    expect(a.cancellationRequestor).toBe(h.emu.demoApp.clientId);
    expect(a.cancellationDateTimeUtc).toBe(a.lastUpdateDateTimeUtc);
    expect(Date.parse(String(a.commands[0]?.endTime))).toBeLessThan(
      Date.parse(String(a.cancellationDateTimeUtc)),
    );
    expect(Object.keys(a).sort()).toEqual(Object.keys(o2).sort());
    const link = await h.call("GET", linkPath(actionId, 0));
    expect(link.status).toBe(200);
    const res = await fetch(String(link.json.value));
    expect(res.status).toBe(200);
    expect(JSON.parse(await res.text())).toMatchObject({ script_name: "hello.ps1", exit_code: 0 });
    h.clock.advance(3_600_000);
    expect((await get(actionId)).status).toBe("Cancelled");
    const again = await h.call("POST", `/api/machineactions/${actionId}/cancel`, { Comment: "again" });
    expect(again.status).toBe(400); // a second cancel fails
  });

  test("capture O2: completionLag is seeded: the same seed lags the same actions", async () => {
    const lagged = async (seed: number) => {
      await start(
        Array.from({ length: 12 }, (_, i) => ({ computerDnsName: `d${i}` })),
        { seed, behaviour: { completionLag: { rate: 0.5, minMs: 30_000, maxMs: 60_000 } } },
      );
      const ids: string[] = [];
      for (let i = 0; i < 12; i++)
        ids.push(String((await submit(machineId(i), [runScript("hello.ps1")])).json.id));
      h.clock.advance(1_000 + 10_000 + 1_000);
      const out: boolean[] = [];
      for (const id of ids) out.push((await get(id)).status === "InProgress");
      await h.emu.close();
      return out;
    };
    const a = await lagged(11);
    expect(await lagged(11)).toEqual(a);
    expect(a.filter(Boolean).length).toBeGreaterThan(0);
    expect(a.filter(Boolean).length).toBeLessThan(12);
  });

  test("capture O2: an action cancelled by someone else (cancelledByOther) — Cancelled, Completed, downloadable", async () => {
    await start([
      {
        computerDnsName: "desktop-test",
        files: { "C:\\evidence.txt": "evidence" },
        cancelledByOther: {
          requestor: "soc-lead@contoso.com",
          comment: "duplicate of INC-42",
          afterMs: 3_000,
        },
      },
    ]);
    const r = await submit(machineId(), [runScript("hello.ps1"), getFile("C:\\evidence.txt")]);
    const actionId = String(r.json.id);
    h.clock.advance(1_000 + 20_000 + 2_999);
    expect((await get(actionId)).status).toBe("InProgress");
    h.clock.advance(1);
    const a = await get(actionId);
    expect(a).toMatchObject({
      status: "Cancelled",
      cancellationRequestor: "soc-lead@contoso.com",
      cancellationComment: "duplicate of INC-42",
    });
    expect(a.cancellationDateTimeUtc).toMatch(TS);
    expect(a.commands.map((x) => x.commandStatus)).toEqual(["Completed", "Completed"]);
    for (const index of [0, 1]) {
      const link = await h.call("GET", linkPath(actionId, index));
      expect(link.status).toBe(200);
      expect((await fetch(String(link.json.value))).status).toBe(200);
    }
    expect(h.emu.records.find((x) => x.kind === "cancel")).toMatchObject({
      actionId,
      requestor: "soc-lead@contoso.com",
    });
    // Our own cancel now fails: the action is final.
    expect((await h.call("POST", `/api/machineactions/${actionId}/cancel`, { Comment: "x" })).status).toBe(
      400,
    );
  });

  test("capture O2: cancelAsOther cancels now as someone else; a final action cannot be cancelled again", async () => {
    await start([{ computerDnsName: "a" }]);
    const r = await submit(machineId(), [runScript("hello.ps1")]);
    h.clock.advance(3_000);
    const entity = h.emu.cancelAsOther(String(r.json.id), { comment: "portal" });
    expect(entity).toMatchObject({ status: "Cancelled", cancellationComment: "portal" });
    expect(entity.cancellationRequestor).not.toBe(h.emu.demoApp.clientId);
    expect(() => h.emu.cancelAsOther(String(r.json.id))).toThrow(/already Cancelled/);
    expect(() => h.emu.cancelAsOther("0b9e5c1a-1111-4222-a333-444455556666")).toThrow(RangeError);
  });
});

describe("timestamps and transcripts (README facts)", () => {
  test("timestamps carry 2 to 7 fractional digits, trailing zeros trimmed; order survives; fixed7 switch", () => {
    const base = Date.UTC(2025, 6, 7, 18, 50, 10);
    const lengths = new Map<number, number>();
    let previous = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < 5_000; i++) {
      const ms = base + i * 7 + (i % 3 === 0 ? 0.123456 : 0);
      const text = capturedTimestamp(ms);
      expect(text).toMatch(TS);
      expect(capturedTimestamp(ms)).toBe(text); // same instant, same string
      const digits = /\.(\d+)Z$/.exec(text)?.[1]?.length ?? 0;
      lengths.set(digits, (lengths.get(digits) ?? 0) + 1);
      const parsed = Date.parse(text);
      expect(Math.floor(parsed)).toBe(Math.floor(ms)); // never leaves the instant's millisecond
      expect(parsed).toBeGreaterThanOrEqual(previous);
      previous = parsed;
    }
    expect([...lengths.keys()].sort()).toEqual([2, 3, 4, 5, 6, 7]);
    expect(mdeTimestamp(base)).toMatch(/\.\d{7}Z$/);
  });

  test("timestamps: the API answers with varied digit counts; behaviour.timestampDigits fixed7 keeps 7", async () => {
    await start(Array.from({ length: 30 }, (_, i) => ({ computerDnsName: `d${i}` })));
    const stamps: string[] = [];
    for (let i = 0; i < 30; i++) {
      h.clock.advance(1_237);
      stamps.push(String((await submit(machineId(i), [runScript("hello.ps1")])).json.creationDateTimeUtc));
    }
    expect(new Set(stamps.map((s) => /\.(\d+)Z$/.exec(s)?.[1]?.length)).size).toBeGreaterThan(2);
    await h.emu.close();
    await start([{ computerDnsName: "a" }], { behaviour: { timestampDigits: "fixed7" } });
    const r = await submit(machineId(), [runScript("hello.ps1")]);
    expect(r.json.creationDateTimeUtc).toMatch(/\.\d{7}Z$/);
    expect(
      ((await h.call("GET", "/api/machines")).json.value as { lastSeen: string }[])[0]?.lastSeen,
    ).toMatch(/\.\d{7}Z$/);
  });

  test("RunScript result files are the captured layout: strict JSON, `, ` separators, key order, escaped \\n\\u0000 tail", async () => {
    await start([
      { computerDnsName: "a", scripts: { "hello.ps1": { exitCode: 2, stdout: 'say "hi"\\', stderr: "e" } } },
    ]);
    const r = await submit(machineId(), [runScript("hello.ps1")]);
    h.clock.advance(60_000);
    const text = await (
      await fetch(String((await h.call("GET", linkPath(String(r.json.id), 0))).json.value))
    ).text();
    expect(text).toMatch(
      /^\{"script_name": "hello\.ps1", "exit_code": 2, "script_output": "Transcript started.*\\n\\u0000", "script_errors": "e"\}$/,
    );
    const parsed = JSON.parse(text) as Record<string, unknown>;
    expect(Object.keys(parsed)).toEqual(["script_name", "exit_code", "script_output", "script_errors"]);
    expect(parsed.exit_code).toBe(2);
    expect(String(parsed.script_output).endsWith('say "hi"\\\n\u0000')).toBe(true);
  });

  test("RunScript transcript variants: docs (non-strict) and compact layouts by switch and per device", async () => {
    await start(
      [
        { computerDnsName: "docs", transcriptLayout: "docs" },
        { computerDnsName: "default" },
        { computerDnsName: "own", scripts: { "hello.ps1": { transcriptLayout: "captured" } } },
      ],
      { behaviour: { transcriptLayout: "compact" } },
    );
    const texts: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await submit(machineId(i), [runScript("hello.ps1")]);
      h.clock.advance(60_000);
      texts.push(
        await (await fetch(String((await h.call("GET", linkPath(String(r.json.id), 0))).json.value))).text(),
      );
    }
    expect(() => JSON.parse(texts[0] ?? "")).toThrow(); // the docs' example is not strict JSON
    expect(texts[0]).toContain("\\u0000\\u0000");
    expect(texts[1]).toMatch(/^\{"script_name":"hello\.ps1","exit_code":0,/);
    expect(texts[2]).toMatch(/^\{"script_name": "hello\.ps1", "exit_code": 0, /);
  });
});
