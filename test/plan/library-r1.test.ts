/**
 * capture R1: the service accepts a PutFile naming a file the library lacks (Pending) and fails it on the
 * device later. The client's own library check (shared/plan/library.ts) therefore carries the whole
 * weight: a run naming such a file stops before anything is submitted, naming the step and the fix.
 */
import { afterEach, describe, expect, it } from "vitest";
import { InputError } from "../../shared/errors.js";
import { startRun } from "../../shared/run/index.js";
import { type Rig, rig, runbookFrom, submits, tempDir } from "../run/helpers.js";

let r: Rig | undefined;
afterEach(async () => {
  await r?.close();
  r = undefined;
});

describe("capture R1 and the client's library check", () => {
  it("capture R1: a runbook pushing a non-library file is refused before submission, with the fix", async () => {
    r = await rig({
      devices: [{ computerDnsName: "desktop-s2455r8.corp.contoso.com" }],
      library: [{ fileName: "collect.ps1", content: "x" }],
    });
    // The emulator answers as R1 did: the same request sent directly is accepted.
    const direct = await fetch(`${r.emu.url}/api/machines/${r.emu.state.machineIds()[0]}/runliveresponse`, {
      method: "POST",
      headers: { authorization: `Bearer ${r.emu.issueToken()}`, "content-type": "application/json" },
      body: JSON.stringify({
        Commands: [{ type: "PutFile", params: [{ key: "FileName", value: "tool.exe" }] }],
        Comment: "direct",
      }),
    });
    expect(direct.status).toBe(201);
    r.emu.cancelAsOther(((await direct.json()) as { id: string }).id);
    const before = submits(r.emu).length;

    const outDir = tempDir("r1");
    const run = startRun(
      { api: r.client, clock: r.emu.clock },
      {
        runbook: runbookFrom(`
name: r1-check
targets: { computerNames: [desktop-s2455r8.corp.contoso.com] }
commands:
  - putFile: tool.exe
  - runScript: collect.ps1
`),
        baseDir: outDir,
        outDir,
      },
    );
    await expect(run).rejects.toBeInstanceOf(InputError);
    await expect(run).rejects.toMatchObject({ field: "commands[0].putFile" });
    await expect(run).rejects.toThrow(/"tool\.exe" is not in the Live Response library; add the file under/);
    await expect(run).rejects.toThrow(/mde-lr library sync/);
    expect(submits(r.emu).length).toBe(before);
  });
});
