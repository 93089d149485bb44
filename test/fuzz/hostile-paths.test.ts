/**
 * Hostile device paths, computer names and script names (issue 6, "Hostile values"): whatever a device
 * or a runbook names, the file the toolkit writes is one safe segment inside the output folder —
 * property-tested on the naming functions, then end to end through startRun against the emulator.
 */
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMdeClient } from "../../shared/api/client.js";
import { ScaledClock } from "../../shared/clock.js";
import { machineIdFor, startEmulator } from "../../shared/emulator/index.js";
import type { EmulatorHandle } from "../../shared/emulator/types.js";
import { ValidationError } from "../../shared/errors.js";
import {
  deviceFolderName,
  getFileResultName,
  resolveInside,
  scriptResultBase,
} from "../../shared/results/paths.js";
import { startRun } from "../../shared/run/index.js";
import { parseRunbook, parseSteps } from "../../shared/runbook/index.js";
import { HOSTILE_DEVICE_PATHS, HOSTILE_TEXT, REJECTED_DEVICE_PATHS } from "../chaos/harness/hostile.js";
import { diffTrees, outputFolderEscapes, snapshotTree } from "../chaos/harness/snapshot.js";

const RUNS = Number(process.env.FUZZ_RUNS ?? 2000);
/** What the GitHub artifact service refuses in a path, plus separators, NUL and control characters. */
const FORBIDDEN_CHARS = new Set(['"', ":", "<", ">", "|", "*", "?", "\\", "/"]);
function forbiddenChar(name: string): string | undefined {
  return [...name].find(
    (ch) => FORBIDDEN_CHARS.has(ch) || (ch.codePointAt(0) ?? 0) < 0x20 || ch === "\u007f",
  );
}
const RESERVED = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?$/i;

function assertSafeSegment(name: string, what: string): void {
  expect(name, what).not.toBe("");
  expect(forbiddenChar(name), `${what}: ${JSON.stringify(name)}`).toBeUndefined();
  expect([".", ".."], what).not.toContain(name);
  expect(name.startsWith("."), `${what}: dotfile ${name}`).toBe(false);
  expect(/[. ]$/.test(name), `${what}: trailing dot/space ${name}`).toBe(false);
  expect(RESERVED.test(name), `${what}: reserved ${name}`).toBe(false);
  expect(Buffer.byteLength(name), what).toBeLessThanOrEqual(255);
  const root = "/out";
  expect(path.dirname(resolveInside(root, `dev/${name}`)), what).toBe(path.join(root, "dev"));
}

const anyText = fc.oneof(
  fc.string({ maxLength: 300 }),
  fc.string({ unit: "grapheme", maxLength: 120 }),
  fc.string({ unit: "binary", maxLength: 200 }),
  fc.constantFrom(...HOSTILE_DEVICE_PATHS, ...HOSTILE_TEXT, ...REJECTED_DEVICE_PATHS),
);

describe("hostile names → one safe segment inside the output folder (property)", () => {
  it(`${RUNS} device paths, computer names and script names`, () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 999 }), anyText, anyText, (step, text, other) => {
        assertSafeSegment(getFileResultName(step, text), `getFile ${JSON.stringify(text)}`);
        assertSafeSegment(scriptResultBase(step, text), `script ${JSON.stringify(text)}`);
        const folder = deviceFolderName(machineIdFor(other), text);
        assertSafeSegment(folder, `device folder for ${JSON.stringify(text)}`);
        // Names carry the step number, so two steps never collide whatever their paths.
        expect(getFileResultName(step, text)).not.toBe(getFileResultName(step + 1, text));
      }),
      { numRuns: RUNS, seed: 6 },
    );
  });

  it("refuses a relative name that climbs out instead of clamping it; a leading / stays inside", () => {
    for (const rel of ["../x", "a/../../x", "a/../..", "..", "."]) {
      expect(() => resolveInside("/out", rel), rel).toThrow(/outside the output folder/);
    }
    expect(resolveInside("/out", "/etc/passwd")).toBe(path.join("/out", "etc", "passwd"));
  });

  it("the runbook parser refuses empty and NUL device paths, naming the step", () => {
    for (const [i, p] of REJECTED_DEVICE_PATHS.entries()) {
      const steps = [{ runScript: "a.ps1" }, { getFile: p }];
      let error: unknown;
      try {
        parseSteps(steps, "commands");
      } catch (e) {
        error = e;
      }
      expect(error, `path #${i}`).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).issues.map((x) => x.path)).toContain("commands[1].getFile");
    }
  });
});

describe("hostile device paths end to end (startRun → emulator → output folder)", () => {
  let emu: EmulatorHandle;
  let sandbox: string;
  const HOST = "evil\u202E|<name>:..\\..\\.corp";
  const id = machineIdFor(HOST);
  const content = (p: string) => `bytes of ${JSON.stringify(p)}`;

  beforeAll(async () => {
    const clock = new ScaledClock({ scale: 200 });
    emu = await startEmulator({
      clock,
      devices: [
        {
          computerDnsName: HOST,
          osPlatform: "Windows11",
          files: Object.fromEntries(HOSTILE_DEVICE_PATHS.map((p) => [p, content(p)])),
          commandDurationMs: 2_000,
        },
      ],
    });
    sandbox = mkdtempSync(path.join(os.tmpdir(), "mde-lr-hostile-"));
    mkdirSync(path.join(sandbox, "out"));
  });
  afterAll(async () => {
    await emu?.close();
    rmSync(sandbox, { recursive: true, force: true });
  });

  it("collects every hostile path into its own file inside the output folder, bytes intact", async () => {
    const clock = emu.clock;
    const api = createMdeClient({
      apiUrl: emu.url,
      accessToken: emu.issueToken({ lifetimeMs: 3_600_000 }),
      clock,
    });
    const yaml = [
      "name: hostile",
      "targets:",
      `  machineIds: [${id}]`,
      "commands:",
      ...HOSTILE_DEVICE_PATHS.map((p) => `  - getFile: ${JSON.stringify(p)}`),
      "options:",
      "  pollInterval: 5",
    ].join("\n");
    const runbook = parseRunbook(yaml, { sourcePath: "hostile.yaml", baseDir: sandbox });
    const before = snapshotTree(sandbox, (rel) => rel === "out" || rel.startsWith("out/"));
    const outDir = path.join(sandbox, "out", "run");
    try {
      const report = await startRun({ api, clock }, { runbook, baseDir: sandbox, outDir });
      expect(report.status).toBe("succeeded");
      const steps = report.machines[0]?.commands ?? [];
      expect(steps).toHaveLength(HOSTILE_DEVICE_PATHS.length);
      const files = new Set<string>();
      for (const [i, step] of steps.entries()) {
        const devicePath = HOSTILE_DEVICE_PATHS[i] as string;
        expect(step.status, devicePath).toBe("succeeded");
        expect(step.path).toBe(devicePath);
        const rel = step.file as string;
        files.add(rel);
        const bytes = readFileSync(resolveInside(outDir, rel));
        expect(bytes.toString("utf8")).toBe(content(devicePath));
        expect(step.sha256).toBe(createHash("sha256").update(bytes).digest("hex"));
        for (const seg of rel.split("/")) assertSafeSegment(seg, `${devicePath} → ${rel}`);
      }
      expect(files.size).toBe(HOSTILE_DEVICE_PATHS.length);
    } finally {
      await api.close();
    }
    expect(outputFolderEscapes(outDir)).toEqual([]);
    const diff = diffTrees(
      before,
      snapshotTree(sandbox, (rel) => rel === "out" || rel.startsWith("out/")),
    );
    expect(diff).toEqual({ added: [], removed: [], changed: [] });
  });
});
