/**
 * check and diff through the real dynamic-provider host (gRPC), with the `__provider` text a program
 * run produced. No service needed: these never connect.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Props, ProviderHost } from "./host.js";
import { assertBuilt, makeProgramDir, removeProgramDir, runProgram } from "./program.js";

const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
const COLLECTION = "pulumi-nodejs:dynamic/mde:LiveResponseCollection";
const LIBRARY = "pulumi-nodejs:dynamic/mde:LibraryFile";
const DEVICE = "b".repeat(40);

let host: ProviderHost;
let dir: string;
let collectionProvider: string;
let libraryProvider: string;

beforeAll(async () => {
  assertBuilt();
  dir = makeProgramDir();
  const regs = runProgram(dir, [
    {
      kind: "LiveResponseCollection",
      name: "c",
      args: { machineIds: [DEVICE], commands: [{ getFile: "C:\\a" }] },
    },
    { kind: "LibraryFile", name: "l", args: { content: "x", fileName: "x.ps1" } },
  ]);
  collectionProvider = String(regs.find((r) => r.name === "c")?.inputs.__provider);
  libraryProvider = String(regs.find((r) => r.name === "l")?.inputs.__provider);
  host = await ProviderHost.start(dir);
  await host.configure({});
});

afterAll(async () => {
  await host?.stop();
  if (dir) removeProgramDir(dir);
});

async function checkCollection(news: Props) {
  return host.check(host.urn(COLLECTION, "c"), {}, { ...news, __provider: collectionProvider });
}

function properties(failures: { property: string }[]): string[] {
  return failures.map((f) => f.property).sort();
}

describe("LiveResponseCollection check (through the host)", () => {
  it("passes a valid declaration through unchanged", async () => {
    const news = {
      targets: { tags: ["web"], computerNames: ["web01.contoso.com"] },
      commands: [
        { putFile: "tool.exe" },
        { runScript: "collect.ps1", args: "-All" },
        { getFile: "C:\\Temp\\x.zip" },
      ],
      comment: "INC-7",
      timeout: "45m",
      detachAfter: 600,
      onActiveSession: "fail",
      maxDevices: 5,
      triggers: [1, "two", { three: 3 }],
    };
    const { inputs, failures } = await checkCollection(news);
    expect(failures).toEqual([]);
    expect(inputs).toEqual({ ...news, __provider: collectionProvider });
  });

  it("a default never refuses a valid value: timeout 5 (seconds) with no pollInterval passes", async () => {
    const { failures } = await checkCollection({
      machineIds: [DEVICE],
      commands: [{ getFile: "C:\\a" }],
      timeout: 5,
    });
    expect(failures).toEqual([]);
    // Only values the user wrote can conflict.
    const both = await checkCollection({
      machineIds: [DEVICE],
      commands: [{ getFile: "C:\\a" }],
      timeout: 5,
      pollInterval: 10,
    });
    expect(properties(both.failures)).toEqual(["pollInterval"]);
  });

  it("names each bad field and how to fix it", async () => {
    const { failures } = await checkCollection({
      machineIds: [DEVICE, "not-a-device"],
      commands: [{ runScript: "bad name.ps1" }, { getFile: 42 }],
      timeout: "5 parsecs",
      detachAfter: "soon",
      onActiveSession: "panic",
      maxDevices: 0,
      triggers: "always",
      comands: [],
    });
    expect(properties(failures)).toEqual(
      [
        "comands",
        "commands[0].runScript",
        "commands[1].getFile",
        "detachAfter",
        "machineIds[1]",
        "maxDevices",
        "onActiveSession",
        "timeout",
        "triggers",
      ].sort(),
    );
    const reason = (p: string) => failures.find((f) => f.property === p)?.reason ?? "";
    expect(reason("machineIds[1]")).toMatch(/40 hexadecimal characters/);
    expect(reason("commands[0].runScript")).toMatch(/library file name/);
    expect(reason("comands")).toMatch(/unknown argument.*commands/);
    expect(reason("onActiveSession")).toMatch(/wait or fail/);
    // Runbook-parser messages carry YAML line/columns; for args they would be noise.
    expect(failures.map((f) => f.reason).join("\n")).not.toMatch(/line \d+, column/);
  });

  it("takes further runbook options with the runbook's validation, naming options.* paths", async () => {
    const ok = await checkCollection({
      machineIds: [DEVICE],
      commands: [{ getFile: "C:\\a" }],
      options: { canary: 1, onIneligible: "fail", limits: { submitPerMinute: 5 } },
    });
    expect(ok.failures).toEqual([]);
    const bad = await checkCollection({
      machineIds: [DEVICE],
      commands: [{ getFile: "C:\\a" }],
      timeout: "forever",
      options: { canary: "x", onIneligible: "maybe" },
    });
    expect(properties(bad.failures)).toEqual(["options.canary", "options.onIneligible", "timeout"]);
  });

  it("requires targets or machineIds (not both) and commands", async () => {
    expect(properties((await checkCollection({ commands: [{ getFile: "C:\\a" }] })).failures)).toEqual([
      "targets",
    ]);
    expect(
      properties(
        (
          await checkCollection({
            targets: { tags: ["x"] },
            machineIds: [DEVICE],
            commands: [{ getFile: "C:\\a" }],
          })
        ).failures,
      ),
    ).toEqual(["machineIds"]);
    expect(properties((await checkCollection({ machineIds: [DEVICE] })).failures)).toEqual(["commands"]);
    expect(
      properties((await checkCollection({ targets: {}, commands: [{ getFile: "C:\\a" }] })).failures),
    ).toEqual(["targets"]);
  });

  it("does not judge values unknown in preview (#6310: the unknown sentinel, whatever the type)", async () => {
    const { failures } = await checkCollection({
      machineIds: [DEVICE, UNKNOWN],
      commands: UNKNOWN,
      maxDevices: UNKNOWN,
      triggers: UNKNOWN,
    });
    expect(failures).toEqual([]);
    const partly = await checkCollection({ machineIds: UNKNOWN, commands: [{ getFile: 7 }] });
    expect(properties(partly.failures)).toEqual(["commands[0].getFile"]);
  });
});

describe("loading the provider", () => {
  it("falls back to the package it was serialized from when the program directory cannot resolve it", async () => {
    // e.g. a stack inside this repository, or an `npm link`: no node_modules/mde-live-response next to it.
    const bare = fs.mkdtempSync(path.join(os.tmpdir(), "mde-lr-bare-"));
    const other = await ProviderHost.start(bare);
    try {
      await other.configure({});
      const { failures } = await other.check(
        other.urn(COLLECTION, "c"),
        {},
        {
          machineIds: ["nope"],
          commands: [{ getFile: "C:\\a" }],
          __provider: collectionProvider,
        },
      );
      expect(properties(failures)).toEqual(["machineIds[0]"]);
    } finally {
      await other.stop();
      fs.rmSync(bare, { recursive: true, force: true });
    }
  });
});

describe("LiveResponseCollection diff (through the host)", () => {
  const base = {
    machineIds: [DEVICE],
    commands: [{ runScript: "collect.ps1" }],
    comment: "INC-1",
    triggers: ["a"],
    timeout: "30m",
  };
  const outputs = { runId: "r1", status: "succeeded", machines: [], outputDir: "mde-lr-out/pulumi/x" };
  const urn = () => host.urn(COLLECTION, "c");
  const olds = () => ({ ...base, ...outputs, __provider: collectionProvider });

  it("sees no change when only the package (the __provider text) changed", async () => {
    const upgraded = `${collectionProvider}\n// mde-live-response 9.9.9\n`;
    const d = await host.diff(urn(), "r1", olds(), { ...base, __provider: upgraded });
    expect(d).toEqual({ changes: "none", replaces: [], deleteBeforeReplace: false });
    // Key order in objects is not a change either.
    const reordered = {
      triggers: ["a"],
      timeout: "30m",
      comment: "INC-1",
      commands: [{ runScript: "collect.ps1" }],
      machineIds: [DEVICE],
    };
    expect(
      (await host.diff(urn(), "r1", olds(), { ...reordered, __provider: collectionProvider })).changes,
    ).toBe("none");
  });

  it("replaces on a change of triggers, commands, targets or comment", async () => {
    for (const [key, value] of [
      ["triggers", ["b"]],
      ["commands", [{ runScript: "collect.ps1", args: "-Deep" }]],
      ["machineIds", [DEVICE, "c".repeat(40)]],
      ["comment", "INC-2"],
    ] as const) {
      const d = await host.diff(urn(), "r1", olds(), {
        ...base,
        [key]: value,
        __provider: collectionProvider,
      });
      expect(d.changes, key).toBe("some");
      expect(d.replaces, key).toEqual([key]);
      expect(d.deleteBeforeReplace, key).toBe(false);
    }
  });

  it("in preview, a value not known yet may change: an unknown declaration means a re-run", async () => {
    const d = await host.diff(urn(), "r1", olds(), {
      ...base,
      commands: UNKNOWN,
      __provider: collectionProvider,
    });
    expect(d).toMatchObject({ changes: "some", replaces: ["commands"] });
  });

  it("updates in place (no re-run) when only how the run is watched changed", async () => {
    const d = await host.diff(urn(), "r1", olds(), {
      ...base,
      timeout: "1h",
      __provider: collectionProvider,
    });
    expect(d).toEqual({ changes: "some", replaces: [], deleteBeforeReplace: false });
  });

  it("cancels a still-pending run before its replacement starts (one live response session per device)", async () => {
    const pending = { ...olds(), status: "pending" };
    const d = await host.diff(urn(), "r1", pending, {
      ...base,
      triggers: ["b"],
      __provider: collectionProvider,
    });
    expect(d).toEqual({ changes: "some", replaces: ["triggers"], deleteBeforeReplace: true });
  });
});

describe("LibraryFile check and diff (through the host)", () => {
  const urn = () => host.urn(LIBRARY, "l");
  const check = (news: Props) => host.check(urn(), {}, { ...news, __provider: libraryProvider });

  it("hashes the content to upload and defaults nothing it should not", async () => {
    const { inputs, failures } = await check({ content: "Write-Output 1", fileName: "one.ps1" });
    expect(failures).toEqual([]);
    expect(inputs.contentSha256).toBe(createHash("sha256").update("Write-Output 1").digest("hex"));
    expect(inputs).toMatchObject({ content: "Write-Output 1", fileName: "one.ps1" });
  });

  it("names each bad field", async () => {
    expect(properties((await check({ content: "x", path: "x.ps1", fileName: "x.ps1" })).failures)).toEqual([
      "content",
    ]);
    expect(properties((await check({ fileName: "x.ps1" })).failures)).toEqual(["path"]);
    expect(properties((await check({ content: "x" })).failures)).toEqual(["fileName"]);
    expect(properties((await check({ content: "x", fileName: "bad name.ps1" })).failures)).toEqual([
      "fileName",
    ]);
    expect(
      properties((await check({ content: "x", fileName: "x.ps1", hasParameters: "yes" })).failures),
    ).toEqual(["hasParameters"]);
    const missing = await check({ path: "nowhere/collect.ps1" });
    expect(properties(missing.failures)).toEqual(["path"]);
    expect(missing.failures[0]?.reason).toMatch(/cannot read .*ENOENT/);
  });

  it("diffs by content hash: same bytes from path or content are no change; new bytes update; a new name replaces", async () => {
    const olds = {
      content: "A",
      fileName: "a.ps1",
      contentSha256: "h1",
      sha256: "h1",
      __provider: libraryProvider,
    };
    const news = (p: Props) => ({ fileName: "a.ps1", ...p, __provider: `${libraryProvider}\n// upgraded` });
    expect(
      (await host.diff(urn(), "a.ps1", olds, news({ path: "a.ps1", contentSha256: "h1" }))).changes,
    ).toBe("none");
    expect(await host.diff(urn(), "a.ps1", olds, news({ content: "B", contentSha256: "h2" }))).toEqual({
      changes: "some",
      replaces: [],
      deleteBeforeReplace: false,
    });
    expect(
      (await host.diff(urn(), "a.ps1", olds, news({ content: "A", contentSha256: "h1", description: "d" })))
        .changes,
    ).toBe("some");
    expect(
      (await host.diff(urn(), "a.ps1", olds, news({ content: "A", contentSha256: "h1", fileName: "b.ps1" })))
        .replaces,
    ).toEqual(["fileName"]);
  });
});
