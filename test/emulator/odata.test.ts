/** OData on machines and machineactions (§7.15, §4.10): filters, paging with nextLink, $top cap, errors. */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { compileFilter } from "../../shared/emulator/odata.js";
import { errorCode, type Harness, harness, runScript } from "./helpers.js";

let h: Harness;
const q = (path: string, query: string) =>
  h.call(
    "GET",
    `${path}?${new URLSearchParams(query.split("&").map((kv) => kv.split("=") as [string, string]))}`,
  );

beforeAll(async () => {
  h = await harness({
    fleet: { seed: 11, count: 60, tags: ["Finance", "HR", "VIP"] },
    library: [{ fileName: "t.ps1", content: "x" }],
    historicActions: 3,
    limits: {
      pageSize: 25,
      submitPerMinute: 1_000,
      callsPerMinute: 10_000,
      callsPerHour: 100_000,
      concurrentSessions: 100,
    },
  });
  const ids = h.emu.state.machineIds().slice(0, 12);
  for (const [i, id] of ids.entries()) {
    const r = await h.call("POST", `/api/machines/${id}/runliveresponse`, {
      Commands: [runScript("t.ps1")],
      Comment: `c${i}`,
    });
    if (r.status !== 201) throw new Error(`setup submit failed: ${r.text}`);
    h.clock.advance(1_000);
  }
});
afterAll(() => h.emu.close());

describe("§7.15 machineactions list", () => {
  test("§7.15 envelope; $filter eq/and on documented fields with PascalCase tolerated; non-LR actions have commands []", async () => {
    const all = await h.call("GET", "/api/machineactions");
    expect(all.json["@odata.context"]).toMatch(/#MachineActions$/);
    const value = all.json.value as {
      type: string;
      commands: unknown[];
      machineId: string;
      requestorComment: string;
    }[];
    expect(value.length).toBe(15);
    for (const a of value.filter((x) => x.type !== "LiveResponse")) expect(a.commands).toEqual([]);
    const target = value.find((a) => a.requestorComment === "c3");
    const byMachine = await q(
      "/api/machineactions",
      `$filter=MachineId eq '${target?.machineId}' and Type eq 'LiveResponse'`,
    );
    expect((byMachine.json.value as unknown[]).length).toBe(1);
    const byRequestor = await q(
      "/api/machineactions",
      `$filter=requestor eq '${h.emu.demoApp.clientId}'&$top=2`,
    );
    expect((byRequestor.json.value as unknown[]).length).toBe(2);
    const byStatus = await q("/api/machineactions", "$filter=status in ('Pending','InProgress')");
    expect((byStatus.json.value as unknown[]).length).toBeGreaterThan(0);
  });

  test("§7.15 $orderby creationDateTimeUtc desc, $skip, and ge/lt on timestamps", async () => {
    const r = await q(
      "/api/machineactions",
      "$filter=type eq 'LiveResponse'&$orderby=creationDateTimeUtc desc&$skip=1&$top=3",
    );
    const comments = (r.json.value as { requestorComment: string }[]).map((a) => a.requestorComment);
    expect(comments).toEqual(["c10", "c9", "c8"]);
    const all = (await h.call("GET", "/api/machineactions")).json.value as {
      creationDateTimeUtc: string;
      requestorComment: string;
    }[];
    const pivot = all.find((a) => a.requestorComment === "c5")?.creationDateTimeUtc;
    const after = await q(
      "/api/machineactions",
      `$filter=creationDateTimeUtc ge ${pivot} and type eq 'LiveResponse'`,
    );
    expect((after.json.value as unknown[]).length).toBe(7);
  });

  test("§7.15 $top > 10,000 → 400 ODataError; unsupported filter → 400 ODataError", async () => {
    const top = await q("/api/machineactions", "$top=10001");
    expect(top.status).toBe(400);
    expect(errorCode(top)).toBe("ODataError");
    for (const bad of [
      "$filter=status eq",
      "$filter=length(status) eq 3",
      "$filter=nosuchfield eq 'x'",
      "$expand=commands",
    ]) {
      const r = await q("/api/machineactions", bad);
      expect(r.status, bad).toBe(400);
      expect(errorCode(r)).toBe("ODataError");
    }
  });

  test("§7.15 @odata.nextLink is emitted when the server page size cuts a page, and following it yields the rest", async () => {
    const first = await h.call("GET", "/api/machines");
    expect((first.json.value as unknown[]).length).toBe(25);
    const ids = (first.json.value as { id: string }[]).map((m) => m.id);
    let next = first.json["@odata.nextLink"] as string | undefined;
    expect(next).toMatch(/\/api\/machines\?.*%24skip=25/);
    while (next) {
      const page = await h.call("GET", new URL(next).pathname + new URL(next).search);
      ids.push(...(page.json.value as { id: string }[]).map((m) => m.id));
      next = page.json["@odata.nextLink"] as string | undefined;
    }
    expect(ids).toEqual(h.emu.state.machineIds());
    const limited = await q("/api/machines", "$top=30");
    expect((limited.json.value as unknown[]).length).toBe(25);
    const rest = await h.call(
      "GET",
      new URL(String(limited.json["@odata.nextLink"])).pathname +
        new URL(String(limited.json["@odata.nextLink"])).search,
    );
    expect((rest.json.value as unknown[]).length).toBe(5);
    expect(rest.json["@odata.nextLink"]).toBeUndefined();
  });
});

describe("§4.10 machines queries", () => {
  test("§4.10 startswith, machineTags/any, not, or, parentheses, get by id or name, findbytag", async () => {
    const machines = (await q("/api/machines", "$top=100")).json.value as {
      id: string;
      computerDnsName: string;
      machineTags: string[];
      osPlatform: string;
    }[];
    const all = [...machines];
    let next = (await q("/api/machines", "$top=100")).json["@odata.nextLink"] as string | undefined;
    while (next) {
      const page = await h.call("GET", new URL(next).pathname + new URL(next).search);
      all.push(...(page.json.value as typeof machines));
      next = page.json["@odata.nextLink"] as string | undefined;
    }
    const prefix = all[0]?.computerDnsName.slice(0, 3) ?? "";
    const starts = await q("/api/machines", `$filter=startswith(computerDnsName,'${prefix}')&$top=100`);
    expect((starts.json.value as unknown[]).length).toBe(
      all.filter((m) => m.computerDnsName.startsWith(prefix)).length,
    );
    const tagged = await q("/api/machines", "$filter=machineTags/any(t: t eq 'VIP')&$top=100");
    expect((tagged.json.value as unknown[]).length).toBe(
      all.filter((m) => m.machineTags.includes("VIP")).length,
    );
    const complex = await q(
      "/api/machines",
      "$filter=(osPlatform eq 'Linux' or osPlatform eq 'macOS') and not (healthStatus eq 'Inactive')&$top=100",
    );
    for (const m of complex.json.value as { osPlatform: string }[])
      expect(["Linux", "macOS"]).toContain(m.osPlatform);
    const byName = await h.call("GET", `/api/machines/${all[3]?.computerDnsName}`);
    expect(byName.json.id).toBe(all[3]?.id);
    const tag = await q("/api/machines/findbytag", "tag=fin&useStartsWithFilter=true");
    expect((tag.json.value as unknown[]).length).toBe(
      all.filter((m) => m.machineTags.includes("Finance")).length,
    );
    const exact = await q("/api/machines/findbytag", "tag=fin&useStartsWithFilter=false");
    expect(exact.json.value).toEqual([]);
  });

  test("§4.10 filter engine unit: quoted quotes, numbers, booleans, null", () => {
    const f = compileFilter("name eq 'O''Brien' and build gt 19000 and flag eq true and other eq null");
    expect(f({ name: "O'Brien", build: 22621, flag: true, other: null })).toBe(true);
    expect(f({ name: "O'Brien", build: 17763, flag: true, other: null })).toBe(false);
  });
});
