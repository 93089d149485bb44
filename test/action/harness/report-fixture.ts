/** Builds RunReport values for renderer tests (the shapes the orchestrator writes, report.json v3). */
import type { CommandReport, MachineReport, MachineStatus, RunReport } from "../../../shared/report/types.js";

export function command(overrides: Partial<CommandReport> = {}): CommandReport {
  return {
    step: 1,
    type: "RunScript",
    status: "succeeded",
    actionId: "7d7b8f3c-1c3e-4c57-9b0c-2a6f3f1d0001",
    index: 0,
    scriptName: "collect.ps1",
    path: null,
    exitCode: 0,
    stdout: "ok",
    stderr: "",
    file: null,
    sha256: null,
    bytes: null,
    startedAt: "2026-11-23T07:00:00.000Z",
    finishedAt: "2026-11-23T07:01:05.000Z",
    submittedAt: "2026-11-23T06:59:58.000Z",
    downloadedAt: null,
    errors: [],
    ...overrides,
  };
}

export function machine(i: number, overrides: Partial<MachineReport> = {}): MachineReport {
  return {
    machineId: i.toString(16).padStart(40, "a"),
    computerDnsName: `ws${i}.contoso.local`,
    actionIds: [`7d7b8f3c-1c3e-4c57-9b0c-${i.toString().padStart(12, "0")}`],
    status: "succeeded",
    error: null,
    startedAt: "2026-11-23T07:00:00.000Z",
    finishedAt: "2026-11-23T07:01:05.000Z",
    commands: [command()],
    ...overrides,
  };
}

export function report(machines: MachineReport[], overrides: Partial<RunReport> = {}): RunReport {
  const counts: Record<MachineStatus, number> = {
    succeeded: 0,
    failed: 0,
    timedOut: 0,
    cancelled: 0,
    skipped: 0,
    pending: 0,
    unresolved: 0,
  };
  for (const m of machines) counts[m.status]++;
  return {
    schemaVersion: 3,
    runId: "run-20261123-0700-abcd",
    runbook: "triage",
    startedAt: "2026-11-23T07:00:00.000Z",
    finishedAt: "2026-11-23T07:02:00.000Z",
    status: counts.failed + counts.timedOut + counts.cancelled > 0 ? "partial" : "succeeded",
    counts,
    machines,
    custody: null,
    ...overrides,
  };
}
