import { dirname, resolve } from "node:path";
import { InputError } from "../../errors.js";
import type { RunReport } from "../../report/types.js";
import { cancelRun, resumeRun, startRun } from "../../run/index.js";
import type { RunContext, RunEvent } from "../../run/types.js";
import { loadRunbook, parseDurationMs } from "../../runbook/index.js";
import { reportBurst } from "../../runtime/heap-policy.js";
import type { Connection, ConnectionFlags } from "../connect.js";
import { cliInitiator } from "../initiator.js";
import type { CliIo } from "../io.js";
import { createProgressView, type ProgressView } from "../progress.js";
import { renderReport } from "../render.js";
import { handleInterrupts } from "../signals.js";
import { checkMachineIds, defaultOutDir, type OutputFlags, withConnection } from "./shared.js";

/** 0 when every device succeeded (skipped devices aside, as in the report's status), else 1. */
export function exitCodeForReport(report: RunReport): 0 | 1 {
  return report.status === "succeeded" ? 0 : 1;
}

async function drive(
  io: CliIo,
  conn: Connection,
  outDir: string,
  json: boolean,
  go: (ctx: RunContext) => Promise<RunReport>,
): Promise<number> {
  const interrupts = handleInterrupts(io);
  // Progress goes to stderr in every mode, so --json keeps stdout to the one JSON document.
  const view: ProgressView = createProgressView(io);
  const onEvent = (event: RunEvent) => {
    if (event.type === "resolved") {
      view.setNames(new Map(event.devices.map((d) => [d.machineId, d.computerDnsName ?? d.machineId])));
      // A mistyped host name must not go unnoticed just because the other targets resolved.
      for (const u of event.unresolved)
        view.onEvent({ type: "warning", message: `target ${u.selector} "${u.value}": ${u.message}` });
    }
    view.onEvent(event);
  };
  try {
    const report = await go({
      api: conn.api,
      clock: conn.clock,
      signal: interrupts.signal,
      onEvent,
      initiator: cliInitiator(),
      // This process's own heap (heap-policy.ts).
      aroundReport: reportBurst,
    });
    view.stop();
    if (json) io.out(`${JSON.stringify({ ok: report.status === "succeeded", outDir, report }, null, 2)}\n`);
    else io.out(renderReport(io, report, outDir));
    return exitCodeForReport(report);
  } finally {
    view.stop();
    interrupts.dispose();
  }
}

export async function runCommand(
  io: CliIo,
  path: string,
  flags: ConnectionFlags & OutputFlags & { machine?: string[]; out?: string; detachAfter?: string },
): Promise<number> {
  const runbook = await loadRunbook(path);
  const machineIds = checkMachineIds(flags.machine);
  const detachAfterMs = parseDetach(flags.detachAfter);
  const outDir = flags.out ? resolve(flags.out) : defaultOutDir(runbook.name);
  return withConnection(io, flags, (conn) =>
    drive(io, conn, outDir, flags.json === true, (ctx) =>
      startRun(ctx, {
        runbook,
        baseDir: dirname(resolve(path)),
        outDir,
        ...(machineIds ? { machineIds } : {}),
        ...(detachAfterMs !== undefined ? { detachAfterMs } : {}),
      }),
    ),
  );
}

function parseDetach(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = /^\s*\d+(\.\d+)?\s*[smh]?\s*$/.test(value) ? parseDurationMs(value) : null;
  if (ms === null) {
    throw new InputError("--detach-after", `expected a duration such as 90, 30s, 15m or 1h, got "${value}"`);
  }
  return ms;
}

/** `resume` and `cancel` differ only in what they do with an existing run folder's journal. */
function runFolderCommand(op: (ctx: RunContext, outDir: string) => Promise<RunReport>) {
  return async (io: CliIo, dir: string, flags: ConnectionFlags & OutputFlags): Promise<number> => {
    const outDir = resolve(dir);
    return withConnection(io, flags, (conn) =>
      drive(io, conn, outDir, flags.json === true, (ctx) => op(ctx, outDir)),
    );
  };
}

export const resumeCommand = runFolderCommand(resumeRun);
export const cancelCommand = runFolderCommand(cancelRun);
