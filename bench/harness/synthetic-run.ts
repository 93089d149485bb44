/**
 * A synthetic run folder shaped exactly like a real one, for the report.html benchmark: a real
 * run.json, journal and timeline.jsonl written by the core's own Journal and TimelineRecorder, device
 * records and stdout/stderr files as the scheduler and collector leave them, report.json built by
 * buildReport. Only the scheduler and the service are simulated (a second-by-second model of the MDE
 * quotas: 10 submissions a rolling minute, the session cap, polls every 10 s, random session lengths),
 * because a real 5,000-device emulator run costs minutes the bench budget does not have; the run targets
 * its devices by machine id, as the team's benchmarks must. Result payloads (the zips) are not written:
 * the page only links them.
 */

import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { resolveLimits } from "../../shared/config/limits.js";
import { machineIdFor } from "../../shared/emulator/machines.js";
import { ManualClock } from "../../shared/emulator/manual-clock.js";
import { packSteps } from "../../shared/plan/pack.js";
import { buildReport } from "../../shared/report/build.js";
import type { RunReport } from "../../shared/report/types.js";
import { deviceFolderName, getFileResultName, scriptResultBase } from "../../shared/results/paths.js";
import { TimelineRecorder } from "../../shared/run/timeline.js";
import { parseRunbook } from "../../shared/runbook/index.js";
import { Journal, type RunState } from "../../shared/state/journal.js";
import { type DeviceRecord, newDeviceRecord, type RunPlanFile } from "../../shared/state/records.js";

const S = 1000;
const MIN = 60 * S;
const SESSIONS = 25;
const SUBMITS_PER_MIN = 10;
const POLL_MS = 10 * S;

/** Deterministic 0..1 from a seed (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const hex = (s: string) => createHash("sha256").update(s).digest("hex");

function transcript(name: string, lines: number): string {
  const out = [
    `Transcript started, output file is C:\\ProgramData\\Microsoft\\Windows Defender Advanced Threat Protection\\Temp\\PSScriptOutputs\\PSScript_Transcript_${hex(name).slice(0, 8).toUpperCase()}.txt`,
  ];
  for (let i = 0; i < lines; i++) {
    out.push(
      `${String(i).padStart(4, "0")} ${name} svchost.exe 1234 C:\\Windows\\System32\\svchost.exe -k netsvcs -p NT AUTHORITY\\SYSTEM`,
    );
  }
  return `${out.join("\n")}\n`;
}

export interface SyntheticRun {
  outDir: string;
  report: RunReport;
  /** Service ms the simulated run took. */
  serviceMs: number;
}

/** Builds the folder (journal, timeline, device files) and returns the report a real run would write. */
export function buildSyntheticRun(outDir: string, devices: number, seed = 12): SyntheticRun {
  const random = rng(seed);
  const names = Array.from(
    { length: devices },
    (_, i) => `ws-${String(i).padStart(5, "0")}.corp.contoso.com`,
  );
  const ids = names.map(machineIdFor);
  const runbook = parseRunbook(
    [
      "name: bench-report-page",
      'comment: "IR-5000 fleet triage"',
      "targets:",
      `  machineIds: [${ids.join(", ")}]`,
      "commands:",
      "  - runScript: collect-triage.ps1",
      "  - runScript: collect-persistence.ps1",
      "  - getFile: 'C:\\Windows\\Temp\\triage.zip'",
      "options:",
      `  maxDevices: ${devices}`,
      "",
    ].join("\n"),
    { baseDir: outDir },
  );
  const clock = new ManualClock(Date.UTC(2026, 10, 23, 7, 0, 0));
  const start = clock.now();
  const o = runbook.options;
  const actions = packSteps(runbook.commands);
  const plan: RunPlanFile = {
    version: 1,
    runId: `20261123T070000-${hex(String(seed)).slice(0, 8)}`,
    runbookName: runbook.name,
    comment: runbook.comment,
    startedAt: new Date(start).toISOString(),
    startedAtMs: start,
    steps: runbook.commands,
    options: {
      timeoutMs: o.timeoutMs,
      pollIntervalMs: o.pollIntervalMs,
      onActiveSession: o.onActiveSession,
      maxConcurrentSessions: o.maxConcurrentSessions,
      canary: o.canary,
      ...resolveLimits(o.limits),
    },
    devices: ids.map((machineId, i) => ({
      machineId,
      computerDnsName: names[i]!,
      actions: actions.map((a) => ({ steps: a.steps, commands: a.commands })),
    })),
    skipped: [],
    unresolved: [],
    warnings: [],
  };
  mkdirSync(outDir, { recursive: true });
  const recorder = new TimelineRecorder(outDir, clock, "run");
  const counts: Record<string, number> = {};
  const call = (kind: Parameters<TimelineRecorder["call"]>[0]) => {
    recorder.call(kind);
    counts[kind] = (counts[kind] ?? 0) + 1;
  };
  // Planning: machines (one page per 10,000 ids) and the library check.
  call("machines");
  call("library");
  clock.advance(2 * S);
  const journal = Journal.create(outDir, plan);
  recorder.attach(journal);
  const records: DeviceRecord[] = ids.map(() => newDeviceRecord(false));
  for (const [i, r] of records.entries()) journal.write(i, r);
  const folders = ids.map((id, i) => deviceFolderName(id, names[i]!));

  interface Active {
    i: number;
    pickupAt: number;
    doneAt: number;
    collectAt: number | null;
  }
  let next = 0;
  const active: Active[] = [];
  const submits: number[] = [];
  let lastWait = Number.NEGATIVE_INFINITY;
  let lastPoll = clock.now();
  let done = 0;
  const finish = (a: Active) => {
    const r = records[a.i]!;
    const failed = random() < 0.02;
    const t1 = new Date(a.doneAt).toISOString();
    const t0 = new Date(a.pickupAt).toISOString();
    const folder = folders[a.i]!;
    mkdirSync(path.join(outDir, folder), { recursive: true });
    runbook.commands.forEach((step, k) => {
      const n = k + 1;
      if (step.type === "RunScript") {
        const base = scriptResultBase(n, step.scriptName);
        const stdout = transcript(`${names[a.i]} ${step.scriptName}`, 20 + Math.floor(random() * 60));
        const stderr = failed && n === 1 ? "Access is denied.\n" : "";
        writeFileSync(path.join(outDir, folder, `${base}.stdout.txt`), stdout);
        writeFileSync(path.join(outDir, folder, `${base}.stderr.txt`), stderr);
        r.steps[String(n)] = {
          st: failed && n === 1 ? "failed" : "succeeded",
          a: r.actionId,
          i: k,
          ec: failed && n === 1 ? 1 : 0,
          f: `${folder}/${base}.transcript.json`,
          sha: hex(`${a.i}:${n}:t`),
          b: stdout.length + 120,
          so: `${folder}/${base}.stdout.txt`,
          se: `${folder}/${base}.stderr.txt`,
          soSha: hex(stdout),
          seSha: hex(stderr),
          t0,
          t1,
          err: [],
        };
      } else if (step.type === "GetFile") {
        r.steps[String(n)] = {
          st: "succeeded",
          a: r.actionId,
          i: k,
          ec: null,
          f: `${folder}/${getFileResultName(n, step.path)}`,
          sha: hex(`${a.i}:${n}:zip`),
          b: Math.floor(2e6 + random() * 4e7),
          so: null,
          se: null,
          soSha: null,
          seSha: null,
          t0,
          t1,
          err: [],
        };
      }
    });
    r.phase = "done";
    r.status = failed ? "failed" : "succeeded";
    r.error = failed ? { code: "CommandFailed", message: "step 1 (collect-triage.ps1) exited 1" } : null;
    r.finishedAt = clock.now();
    journal.write(a.i, r);
    journal.maybeCompact(records.length, () => records, { cancelled: false, finishedAt: null, apiCalls: {} });
    done++;
  };

  while (done < devices) {
    const now = clock.now();
    while (submits.length && submits[0]! <= now - MIN) submits.shift();
    // Submissions within the rolling minute and the session cap.
    while (next < devices && active.length < SESSIONS && submits.length < SUBMITS_PER_MIN) {
      const i = next++;
      const r = records[i]!;
      r.phase = "submitting";
      r.intentAt = now;
      r.firstSubmitAt = now;
      journal.write(i, r);
      call("submit");
      submits.push(now);
      r.phase = "inflight";
      r.actionId = `${hex(`action ${i}`).slice(0, 8)}-0000-4000-8000-${hex(`a${i}`).slice(0, 12)}`;
      r.actionIds = [r.actionId];
      r.actionStatus = "Pending";
      clock.advance(300);
      journal.write(i, r);
      const pickupAt = clock.now() + 5 * S + random() * 15 * S;
      active.push({ i, pickupAt, doneAt: pickupAt + MIN + random() * 5 * MIN, collectAt: null });
    }
    if (next < devices && active.length >= SESSIONS && now - lastWait >= MIN) {
      lastWait = now;
      recorder.event({ type: "waiting", reason: "sessionCap", untilMs: lastPoll + POLL_MS });
    }
    if (clock.now() - lastPoll >= POLL_MS) {
      lastPoll = clock.now();
      call("poll");
      for (const a of active) {
        const r = records[a.i]!;
        if (a.collectAt !== null) continue;
        if (clock.now() >= a.doneAt) {
          r.phase = "collecting";
          r.actionStatus = "Succeeded";
          journal.write(a.i, r);
          a.collectAt = clock.now() + 2 * S + random() * 6 * S;
        } else if (clock.now() >= a.pickupAt && r.actionStatus === "Pending") {
          r.actionStatus = "InProgress";
          journal.write(a.i, r);
        }
      }
    }
    for (let k = active.length - 1; k >= 0; k--) {
      const a = active[k]!;
      if (a.collectAt === null || clock.now() < a.collectAt) continue;
      for (let c = 0; c < 3; c++) {
        call("link");
        call("download");
      }
      finish(a);
      active.splice(k, 1);
    }
    clock.advance(S);
  }
  const runState: RunState = {
    cancelled: false,
    finishedAt: new Date(clock.now()).toISOString(),
    apiCalls: counts,
  };
  journal.writeRun(runState);
  journal.compact(records, runState);
  journal.close();
  const report = buildReport({
    plan,
    records,
    outDir,
    cancelled: false,
    finishedAt: runState.finishedAt,
    folderOf: (i) => folders[i]!,
    apiCalls: { ...counts },
  });
  report.unresolved = [];
  report.warnings = [];
  return { outDir, report, serviceMs: clock.now() - start };
}
