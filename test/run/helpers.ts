/** Wiring for orchestrator tests: emulator + real client on one scaled clock, runbooks from YAML. */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createMdeClient, type MdeClient } from "../../shared/api/client.js";
import { ScaledClock } from "../../shared/clock.js";
import {
  type EmulatorHandle,
  type EmulatorOptions,
  type EmulatorRecord,
  startEmulator,
} from "../../shared/emulator/index.js";
import type { RunEvent } from "../../shared/run/types.js";
import { parseRunbook, type Runbook } from "../../shared/runbook/index.js";

export interface Rig {
  emu: EmulatorHandle;
  client: MdeClient;
  close(): Promise<void>;
}

/** Emulator and client sharing a ScaledClock (`scale` service ms per real ms). */
export async function rig(options: EmulatorOptions & { scale?: number } = {}): Promise<Rig> {
  const clock = options.clock ?? new ScaledClock({ scale: options.scale ?? 300 });
  const emu = await startEmulator({ ...options, clock });
  const client = createMdeClient({
    apiUrl: emu.url,
    accessToken: emu.issueToken({ lifetimeMs: 100 * 3_600_000 }),
    clock,
    env: {},
  });
  return {
    emu,
    client,
    async close() {
      await client.close();
      await emu.close();
    },
  };
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `mde-run-${prefix}-`));
}

export function runbookFrom(yaml: string, baseDir = tmpdir()): Runbook {
  return parseRunbook(yaml, { baseDir });
}

export function submits(emu: EmulatorHandle): Extract<EmulatorRecord, { kind: "submit" }>[] {
  return emu.records.filter((r): r is Extract<EmulatorRecord, { kind: "submit" }> => r.kind === "submit");
}

export function collectEvents(): { events: RunEvent[]; onEvent: (e: RunEvent) => void } {
  const events: RunEvent[] = [];
  return { events, onEvent: (e) => events.push(e) };
}
