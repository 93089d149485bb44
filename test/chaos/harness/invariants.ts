/**
 * The chaos invariants, checked from the emulator's own record of what happened (submit/cancel records,
 * final action entities) against what the run left in its output folder (report.json, manifest.sha256,
 * collected files). Each violation says which invariant broke and where, so the printed seed reproduces it.
 */
import { createHash } from "node:crypto";
import { existsSync, lstatSync, readFileSync } from "node:fs";
import path from "node:path";
import type { MachineAction } from "../../../shared/api/types.js";
import type { EmulatorRecord } from "../../../shared/emulator/types.js";
import type { MachineReport, MachineStatus, RunReport } from "../../../shared/report/types.js";
import { type ChaosScenario, fileKey } from "./scenario.js";

export type InvariantName =
  | "no-duplicate-step"
  | "result-recovered"
  | "unfinished-handled"
  | "report-agrees"
  | "foreign-untouched"
  | "manifest"
  | "output-confined"
  | "no-secret"
  | "run-finishes";

export interface Violation {
  invariant: InvariantName;
  detail: string;
}

export interface InvariantInput {
  scenario: ChaosScenario;
  records: readonly EmulatorRecord[];
  /** Final entities from the emulator (`state.actions()`), all of them (ours and foreign). */
  actions: readonly MachineAction[];
  foreignActionIds: ReadonlySet<string>;
  outDir: string;
  report: RunReport | null;
  /** How the last process ended: normally, or by the SIGTERM the scenario asked for. */
  endedBy: "finished" | "sigterm";
  /** The run's app id: a cancel by anyone else (O2, `cancelledByOther`) is not the run's doing. */
  ourAppId?: string;
}

export interface InvariantFigures {
  resultsExpected: number;
  resultsRecovered: number;
  duplicateSubmissions: number;
  submissions: number;
  actionsCancelled: number;
}

const FINAL = new Set(["Succeeded", "Failed", "TimeOut", "Cancelled"]);
const RESULT_TYPES = new Set(["RunScript", "GetFile"]);

function sha256File(file: string): string {
  return createHash("sha256").update(readFileSync(file)).digest("hex");
}

/** Resolve a report-relative path, refusing anything that would leave the output folder. */
function insideOut(outDir: string, rel: string): string | null {
  if (rel.includes("\u0000") || path.isAbsolute(rel) || /^[A-Za-z]:/.test(rel)) return null;
  const full = path.resolve(outDir, rel);
  const back = path.relative(outDir, full);
  if (back === "" || back.startsWith("..") || path.isAbsolute(back)) return null;
  return full;
}

function commandKey(command: unknown): string {
  return JSON.stringify(command);
}

export function checkInvariants(input: InvariantInput): {
  violations: Violation[];
  figures: InvariantFigures;
} {
  const { scenario, records, actions, foreignActionIds, outDir, report } = input;
  const violations: Violation[] = [];
  const v = (invariant: InvariantName, detail: string): void => {
    violations.push({ invariant, detail });
  };
  const figures: InvariantFigures = {
    resultsExpected: 0,
    resultsRecovered: 0,
    duplicateSubmissions: 0,
    submissions: 0,
    actionsCancelled: 0,
  };

  // 1. No device received the same step twice (every generated step is a distinct command).
  const seen = new Map<string, string>();
  for (const r of records) {
    // A cancel by a third party (O2's `cancelledByOther`) is not the run's doing.
    const byRun = input.ourAppId === undefined || (r.kind === "cancel" && r.requestor === input.ourAppId);
    if (r.kind === "cancel" && foreignActionIds.has(r.actionId) && byRun) {
      v("foreign-untouched", `run cancelled someone else's action ${r.actionId}`);
    }
    if (r.kind !== "submit" || foreignActionIds.has(r.actionId)) continue;
    figures.submissions++;
    for (const command of r.commands) {
      const key = `${r.machineId} ${commandKey(command)}`;
      const first = seen.get(key);
      if (first) {
        figures.duplicateSubmissions++;
        v(
          "no-duplicate-step",
          `device ${r.machineId} got ${commandKey(command)} twice (actions ${first}, ${r.actionId})`,
        );
      } else seen.set(key, r.actionId);
    }
  }

  const ours = actions.filter((a) => !foreignActionIds.has(a.id));
  const byMachine = new Map<string, MachineAction[]>();
  for (const a of ours) byMachine.set(a.machineId, [...(byMachine.get(a.machineId) ?? []), a]);
  figures.actionsCancelled = ours.filter((a) => a.status === "Cancelled").length;

  if (!report) {
    v("run-finishes", "no report.json after the last process ended");
    return { violations, figures };
  }
  const reportByMachine = new Map<string, MachineReport>();
  for (const m of report.machines) if (m.machineId) reportByMachine.set(m.machineId, m);

  // 2. Every target is reported; every action on the service is listed under its device.
  for (const device of scenario.devices) {
    if (device.id && !reportByMachine.has(device.id))
      v("report-agrees", `device ${device.id} missing from report.json`);
  }
  for (const a of ours) {
    const m = reportByMachine.get(a.machineId);
    if (!m?.actionIds.includes(a.id)) {
      v("report-agrees", `action ${a.id} (${a.status}) on ${a.machineId} not listed in report.json`);
    }
  }

  // 3. Unfinished actions: cancelled, or the report says pending.
  for (const a of ours) {
    if (FINAL.has(a.status)) continue;
    const m = reportByMachine.get(a.machineId);
    if (input.endedBy === "sigterm" || report.status !== "pending" || m?.status !== "pending") {
      v(
        "unfinished-handled",
        `action ${a.id} on ${a.machineId} left ${a.status}, report says ${m?.status ?? "nothing"}`,
      );
    }
  }

  // 4. Every command that completed on the service has its result, with the right sha256.
  for (const a of ours) {
    const m = reportByMachine.get(a.machineId);
    for (const c of a.commands) {
      if (c.commandStatus !== "Completed" || !RESULT_TYPES.has(c.command.type)) continue;
      figures.resultsExpected++;
      const step = m?.commands.find((s) => s.actionId === a.id && s.index === c.index);
      const where = `${a.machineId} action ${a.id} command ${c.index} (${c.command.type})`;
      if (!step) {
        v("result-recovered", `${where}: completed on the service, no entry in report.json`);
        continue;
      }
      // A script that ran to completion with a non-zero exit code is a failed step, but its transcript
      // is still a result that must be on disk.
      const nonZeroExit = c.command.type === "RunScript" && step.exitCode !== null && step.exitCode !== 0;
      if (
        (step.status !== "succeeded" && !(step.status === "failed" && nonZeroExit)) ||
        !step.file ||
        !step.sha256
      ) {
        v(
          "result-recovered",
          `${where}: completed on the service, report says ${step.status} ${step.errors.join("; ")}`,
        );
        continue;
      }
      const full = insideOut(outDir, step.file);
      if (!full || !existsSync(full) || !lstatSync(full).isFile()) {
        v(
          "result-recovered",
          `${where}: result file ${JSON.stringify(step.file)} missing or outside the output folder`,
        );
        continue;
      }
      const onDisk = sha256File(full);
      if (onDisk !== step.sha256) {
        v("result-recovered", `${where}: sha256 on disk ${onDisk} ≠ report ${step.sha256}`);
        continue;
      }
      if (c.command.type === "GetFile") {
        const devicePath = c.command.params.find((p) => p.key === "Path")?.value ?? "";
        const expected = scenario.fileSha256.get(fileKey(a.machineId, devicePath));
        if (expected && expected !== onDisk) {
          v("result-recovered", `${where}: collected bytes sha256 ${onDisk} ≠ device file ${expected}`);
          continue;
        }
      } else {
        const script = c.command.params.find((p) => p.key === "ScriptName")?.value ?? "";
        const device = scenario.devices.find((d) => d.id === a.machineId);
        const expectedExit = device?.scripts?.[script]?.exitCode ?? 0;
        if (step.exitCode !== expectedExit) {
          v("result-recovered", `${where}: exit code ${step.exitCode} ≠ device script's ${expectedExit}`);
          continue;
        }
      }
      figures.resultsRecovered++;
    }
  }

  // 5. report.json agrees with the service's final state.
  const tally: Record<MachineStatus, number> = {
    succeeded: 0,
    failed: 0,
    timedOut: 0,
    cancelled: 0,
    skipped: 0,
    pending: 0,
    unresolved: 0,
  };
  for (const m of report.machines) {
    tally[m.status] = (tally[m.status] ?? 0) + 1;
    if (m.machineId === null) continue;
    const svc = (byMachine.get(m.machineId) ?? []).map((a) => a.status);
    for (const id of m.actionIds) {
      const a = actions.find((x) => x.id === id);
      if (!a) v("report-agrees", `${m.machineId}: report lists action ${id} the service does not know`);
      else if (a.machineId !== m.machineId)
        v("report-agrees", `${m.machineId}: report lists ${id} of ${a.machineId}`);
      else if (foreignActionIds.has(id))
        v("report-agrees", `${m.machineId}: report claims someone else's action ${id}`);
    }
    const bad = (why: string): void =>
      v("report-agrees", `${m.machineId}: report says ${m.status} but ${why}`);
    switch (m.status) {
      case "succeeded":
        if (svc.length === 0) bad("nothing was submitted");
        // An action may end Cancelled/Failed/TimeOut with every command Completed (O2: a cancel racing the
        // completion): the device counts as succeeded then, and the report must say so in a warning.
        for (const a of byMachine.get(m.machineId) ?? []) {
          if (a.status === "Succeeded") continue;
          if (!a.commands.every((c) => c.commandStatus === "Completed"))
            bad(`the service says ${a.status} for ${a.id}`);
          else if (!(m.warnings ?? []).some((w) => w.includes(a.id)))
            bad(`${a.id} ended ${a.status} with every command completed, and no warning says so`);
        }
        if (m.commands.some((c) => c.status !== "succeeded")) bad("a step is not succeeded");
        break;
      case "pending":
        if (!svc.some((s) => !FINAL.has(s))) bad(`no action is unfinished (${svc.join(",") || "none"})`);
        break;
      case "cancelled":
        // Cancelled on the service, or the run was stopped before the device's next action was sent.
        if (
          svc.length > 0 &&
          !svc.some((s) => s === "Cancelled") &&
          !m.commands.some((c) => c.actionId === null && c.status !== "succeeded")
        ) {
          bad(`no action was cancelled (${svc.join(",")}) and every step was submitted`);
        }
        break;
      case "timedOut":
        // Either the service timed an action out / we cancelled it at the deadline, or the deadline
        // passed before the device's next action could be submitted (its remaining steps never ran).
        if (
          !svc.some((s) => s === "TimeOut" || s === "Cancelled") &&
          !m.commands.some((c) => c.actionId === null && c.status !== "succeeded")
        ) {
          bad(`no action timed out or was cancelled (${svc.join(",")}) and every step was submitted`);
        }
        break;
      case "failed":
        if (
          svc.length > 0 &&
          svc.every((s) => s === "Succeeded") &&
          !m.error &&
          m.commands.every((c) => c.status === "succeeded" || c.status === "notRun")
        ) {
          bad("every action succeeded and no step or error says why");
        }
        break;
      case "skipped":
        if (svc.length > 0) bad(`actions were submitted (${svc.join(",")})`);
        break;
    }
    for (const c of m.commands) {
      if (!c.actionId || c.index === null) continue;
      const a = actions.find((x) => x.id === c.actionId);
      const sc = a?.commands.find((x) => x.index === c.index);
      if (!sc) {
        v(
          "report-agrees",
          `${m.machineId} step ${c.step}: command ${c.actionId}#${c.index} not on the service`,
        );
        continue;
      }
      if (sc.command.type !== c.type) {
        v("report-agrees", `${m.machineId} step ${c.step}: type ${c.type} ≠ service ${sc.command.type}`);
      }
      if (c.status === "succeeded" && sc.commandStatus !== "Completed") {
        v(
          "report-agrees",
          `${m.machineId} step ${c.step}: succeeded but the service says ${sc.commandStatus}`,
        );
      }
    }
  }
  for (const [status, n] of Object.entries(tally)) {
    const counted = report.counts[status as MachineStatus] ?? 0;
    if (counted !== n) v("report-agrees", `counts.${status} = ${counted} but ${n} machines have that status`);
  }
  const statuses = report.machines.map((m) => m.status);
  const cancelledElsewhere = (machineId: string): boolean =>
    input.ourAppId !== undefined &&
    (byMachine.get(machineId) ?? []).some(
      (a) =>
        a.status === "Cancelled" &&
        a.cancellationRequestor !== null &&
        a.cancellationRequestor !== input.ourAppId,
    );
  if (input.endedBy === "sigterm") {
    const cancelledByRun = report.machines.some(
      (m) => m.status === "cancelled" && m.machineId !== null && !cancelledElsewhere(m.machineId),
    );
    if (report.status !== "cancelled" && cancelledByRun) {
      v("report-agrees", `run was terminated and cancelled devices but its status is ${report.status}`);
    }
  } else if (report.status === "succeeded" && statuses.some((s) => s !== "succeeded" && s !== "skipped")) {
    v("report-agrees", `run status succeeded but devices are ${[...new Set(statuses)].join(",")}`);
  }

  // 6. manifest.sha256 covers the collected files and matches the bytes.
  const manifestPath = path.join(outDir, "manifest.sha256");
  if (existsSync(manifestPath)) {
    const listed = new Map<string, string>();
    for (const raw of readFileSync(manifestPath, "utf8").split("\n")) {
      if (!raw.trim()) continue;
      const m = /^([0-9a-f]{64}) [ *](.+)$/.exec(raw);
      if (!m) {
        v("manifest", `malformed manifest line ${JSON.stringify(raw.slice(0, 120))}`);
        continue;
      }
      const [, sha, rel] = m as unknown as [string, string, string];
      listed.set(rel, sha);
      const full = insideOut(outDir, rel);
      if (!full || !existsSync(full))
        v("manifest", `manifest names ${JSON.stringify(rel)} which is not in the output folder`);
      else if (sha256File(full) !== sha) v("manifest", `manifest sha256 of ${rel} does not match the file`);
    }
    for (const m of report.machines) {
      for (const c of m.commands) {
        if (c.file && c.status === "succeeded" && !listed.has(c.file))
          v("manifest", `collected ${c.file} missing from manifest.sha256`);
      }
    }
  } else if (report.machines.some((m) => m.commands.some((c) => c.file))) {
    v("manifest", "results were collected but there is no manifest.sha256");
  }

  return { violations, figures };
}
