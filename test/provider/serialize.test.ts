/**
 * Program side, for real: a child Node process runs a Pulumi program under `pulumi.runtime.setMocks`
 * and declares our resources from `mde-live-response/provider` (node_modules of a temp program dir).
 * Serialization errors surface here, and we see what the engine would receive and store.
 */
import * as fs from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assertBuilt, makeProgramDir, removeProgramDir, runProgram } from "./program.js";

const DEVICE = "a".repeat(40);
let dir: string;

beforeAll(() => {
  assertBuilt();
  dir = makeProgramDir();
});

afterAll(() => {
  if (dir) removeProgramDir(dir);
});

describe("resources in a Pulumi program (setMocks)", () => {
  it("registers a LiveResponseCollection with its declaration, seeded outputs, a default run name and secret machines", () => {
    const [reg] = runProgram(dir, [
      {
        kind: "LiveResponseCollection",
        name: "triage web/01",
        args: {
          machineIds: [DEVICE],
          commands: [{ runScript: "collect.ps1", args: "-Fast" }, { getFile: "C:\\Temp\\out.zip" }],
          comment: "INC-42",
          triggers: ["v1", 2],
          timeout: "45m",
        },
        opts: { additionalSecretOutputs: ["outputDir"] },
      },
    ]);
    expect(reg?.type).toBe("pulumi-nodejs:dynamic/mde:LiveResponseCollection");
    expect(reg?.name).toBe("triage web/01");
    const inputs = reg?.inputs ?? {};
    expect(inputs.machineIds).toEqual([DEVICE]);
    expect(inputs.commands).toEqual([
      { runScript: "collect.ps1", args: "-Fast" },
      { getFile: "C:\\Temp\\out.zip" },
    ]);
    expect(inputs.comment).toBe("INC-42");
    expect(inputs.triggers).toEqual(["v1", 2]);
    expect(inputs.timeout).toBe("45m");
    // Resource names allow characters run names do not.
    expect(inputs.name).toBe("triage-web-01");
    // Caller's secret outputs are kept, ours are added.
    expect(reg?.additionalSecretOutputs).toEqual(expect.arrayContaining(["machines", "outputDir"]));
    expect(typeof inputs.__provider).toBe("string");
  });

  it("serializes the provider as a thin shell: no copy of the core, no credentials, loads the ops by package path", () => {
    const regs = runProgram(dir, [
      {
        kind: "LiveResponseCollection",
        name: "a",
        args: { machineIds: [DEVICE], commands: [{ getFile: "C:\\a" }] },
      },
      {
        kind: "LiveResponseCollection",
        name: "b",
        args: { machineIds: [DEVICE], commands: [{ getFile: "C:\\b" }] },
      },
      { kind: "LibraryFile", name: "script", args: { content: "Write-Output hi", fileName: "hi.ps1" } },
    ]);
    // Registrations complete in any order.
    const text = (name: string) => String(regs.find((r) => r.name === name)?.inputs.__provider);
    const [a, b, lib] = [text("a"), text("b"), text("script")];
    // One module-level provider object: one text for every collection (the host caches by text).
    expect(a).toBe(b);
    expect(a).toContain("exports.handler");
    expect(a).toContain("mde-live-response/lib/provider/collectionOps.js");
    expect(lib).toContain("mde-live-response/lib/provider/libraryFileOps.js");
    for (const text of [a, lib]) {
      // Module objects captured by value would drag the core (and its HTTP client) into state.
      expect(text).not.toMatch(/startRun|createMdeClient|undici|msal/i);
      expect(text.length).toBeLessThan(8000);
    }
    // A second program run serializes to the same text: nothing machine- or time-dependent except the fallback path.
    const again = runProgram(dir, [
      {
        kind: "LiveResponseCollection",
        name: "a",
        args: { machineIds: [DEVICE], commands: [{ getFile: "C:\\a" }] },
      },
    ]);
    expect(again[0]?.inputs.__provider).toBe(a);
  });

  it("registers a LibraryFile with its declaration and seeded outputs", () => {
    fs.writeFileSync(`${dir}/collect.ps1`, "Get-Process | Out-File C:\\Temp\\p.txt\n");
    const [reg] = runProgram(dir, [
      {
        kind: "LibraryFile",
        name: "collect",
        args: { path: "collect.ps1", description: "process list", hasParameters: false },
      },
    ]);
    expect(reg?.type).toBe("pulumi-nodejs:dynamic/mde:LibraryFile");
    expect(reg?.inputs).toMatchObject({
      path: "collect.ps1",
      description: "process list",
      hasParameters: false,
    });
    expect(typeof reg?.inputs.__provider).toBe("string");
  });
});
