/** The shipped example runbooks validate and run end to end on the emulator's demo fleet. */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMdeClient, type MdeClient } from "../../shared/api/client.js";
import { ScaledClock } from "../../shared/clock.js";
import { demoEmulatorOptions, type EmulatorHandle, startEmulator } from "../../shared/emulator/index.js";
import { buildPlan, packSteps } from "../../shared/plan/index.js";
import { startRun } from "../../shared/run/index.js";
import { loadRunbook } from "../../shared/runbook/index.js";

const EXAMPLES = resolve(__dirname, "../../examples/runbooks");
const files = readdirSync(EXAMPLES).filter((f) => f.endsWith(".yaml"));

let emu: EmulatorHandle;
let api: MdeClient;

beforeAll(async () => {
  // One service minute per real second: the demo fleet's 3 s commands take 50 ms.
  const clock = new ScaledClock({ scale: 60 });
  emu = await startEmulator({ ...demoEmulatorOptions(), clock });
  api = createMdeClient({
    apiUrl: emu.url,
    accessToken: emu.issueToken({ lifetimeMs: 24 * 3_600_000 }),
    clock,
  });
});

afterAll(async () => {
  await api?.close();
  await emu?.close();
});

describe("example runbooks", () => {
  it("there are at least three, and one needs more than one action per device", async () => {
    expect(files.length).toBeGreaterThanOrEqual(3);
    const rb = await loadRunbook(join(EXAMPLES, "triage-and-clean-up.yaml"));
    expect(packSteps(rb.commands).map((a) => a.steps)).toEqual([[1, 2], [3]]);
  });

  it.each(files)("%s points editors at the shipped schema and its library files exist", async (file) => {
    const text = readFileSync(join(EXAMPLES, file), "utf8");
    const schemaLine = /^# yaml-language-server: \$schema=(.+)$/m.exec(text);
    expect(schemaLine).not.toBeNull();
    expect(existsSync(resolve(EXAMPLES, schemaLine![1]!.trim()))).toBe(true);
    const rb = await loadRunbook(join(EXAMPLES, file));
    for (const entry of rb.library) expect(existsSync(entry.path), entry.path).toBe(true);
    expect(dirname(rb.library[0]!.path)).toBe(resolve(EXAMPLES, "../scripts"));
  });

  it.each(files)(
    "%s runs on the demo fleet: every planned device succeeds and its files come home",
    async (file) => {
      const rb = await loadRunbook(join(EXAMPLES, file));
      const plan = await buildPlan(api, rb);
      expect(plan.devices.length).toBeGreaterThan(0);
      const outDir = await mkdtemp(join(tmpdir(), "example-"));
      const report = await startRun({ api, clock: emu.clock }, { runbook: rb, baseDir: EXAMPLES, outDir });
      expect(report.status).toBe("succeeded");
      const getFiles = rb.commands.filter((c) => c.type === "GetFile").length;
      const actionsPerDevice = plan.devices[0]!.actions.length;
      for (const m of report.machines) {
        expect(m.status, `${m.computerDnsName}: ${JSON.stringify(m.error)}`).toBe("succeeded");
        expect(m.actionIds).toHaveLength(actionsPerDevice);
        const collected = m.commands.filter((c) => c.type === "GetFile" && c.file !== null);
        expect(collected).toHaveLength(getFiles);
        for (const c of collected) expect(existsSync(join(outDir, c.file!))).toBe(true);
      }
    },
  );
});
