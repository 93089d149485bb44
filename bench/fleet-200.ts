/**
 * The orchestrator's 200-device figure: one whole run (`startRun`, real client, emulator over loopback
 * HTTP) on a scaled clock, measured in service time against the quota lower bound
 *
 *   T* = max(N / 10 per min, N·d / S, N·k / 1,500 per h) + first session
 *
 * (N devices, d mean session length as the emulator ran it, S session cap, k result-bearing steps per
 * device), plus the tighter bound of the best possible schedule when submissions are the binding quota
 * (bursts of 10 per rolling minute: the last device is submitted at ⌈N/10⌉−1 minutes, then runs one
 * session). Also: API calls by kind (ours and as the service counted them), 429s, wall time in real seconds.
 *
 *   node_modules/.bin/esbuild bench/fleet-200.ts --bundle --platform=node --format=esm \
 *     --packages=external --outfile=node_modules/.cache/mde-lr/fleet-200.mjs
 *   node_modules/.bin/node node_modules/.cache/mde-lr/fleet-200.mjs \
 *     [--devices=200] [--scale=60] [--command-ms=60000] [--sessions=25] [--out=bench/results/fleet-200.json]
 *
 * Keep the scale moderate (≤ 100): every real millisecond of latency or event-loop delay counts `scale`
 * times as service time, so at ×300 the figure measures this machine's CPU, not the scheduler.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createMdeClient } from "../shared/api/client.js";
import { ScaledClock } from "../shared/clock.js";
import { startEmulator } from "../shared/emulator/index.js";
import type { DeviceSpec, EmulatorRecord } from "../shared/emulator/types.js";
import { startRun } from "../shared/run/index.js";
import { parseRunbook } from "../shared/runbook/index.js";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

function arg(name: string, fallback: number): number {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  return hit ? Number(hit.slice(name.length + 3)) : fallback;
}

const N = arg("devices", 200);
const SCALE = arg("scale", 60);
const COMMAND_MS = arg("command-ms", 60_000);
const SESSIONS = arg("sessions", 25);
const K = 2; // runScript + getFile
const outFile =
  process.argv.find((a) => a.startsWith("--out="))?.slice(6) ??
  path.join("bench", "results", "fleet-200.json");

function routeKind(method: string, p: string): string {
  if (p.includes("/runliveresponse")) return "submit";
  if (p.includes("GetLiveResponseResultDownloadLink")) return "link";
  if (/\/cancel$/.test(p)) return "cancel";
  if (p.startsWith("/api/machineactions")) return "poll";
  if (p.startsWith("/api/machines")) return "machines";
  if (p.startsWith("/api/libraryfiles")) return "library";
  if (p.startsWith("/blob/")) return "download";
  return `${method} ${p.split("?")[0]}`;
}

async function main(): Promise<void> {
  const clock = new ScaledClock({ scale: SCALE });
  const devices: DeviceSpec[] = Array.from({ length: N }, (_, i) => ({
    computerDnsName: `bench-${String(i).padStart(4, "0")}.corp.contoso.com`,
    osPlatform: "Windows11",
    machineTags: ["Bench"],
    commandDurationMs: COMMAND_MS,
    scripts: { "collect.ps1": { exitCode: 0, stdout: `collected ${i}\n`.repeat(20) } },
    files: { "C:\\Windows\\Temp\\triage.zip": Buffer.alloc(64 * 1024, i % 251) },
  }));
  const emu = await startEmulator({
    clock,
    seed: 200,
    devices,
    library: [{ fileName: "collect.ps1", content: "Get-Process" }],
    limits: { concurrentSessions: SESSIONS },
  });
  const api = createMdeClient({
    apiUrl: emu.url,
    accessToken: emu.issueToken({ lifetimeMs: 48 * HOUR }),
    clock,
    env: {},
  });
  // tmpfs when there is one: the figure is about the scheduler, not the disk.
  const base = process.platform === "linux" ? "/dev/shm" : tmpdir();
  const outDir = mkdtempSync(path.join(base, "mde-fleet-200-"));
  const runbook = parseRunbook(
    `name: bench-fleet-200
targets: { tags: [Bench] }
commands:
  - runScript: collect.ps1
  - getFile: 'C:\\Windows\\Temp\\triage.zip'
options: { maxDevices: ${N}, maxConcurrentSessions: ${SESSIONS}, pollInterval: 10, timeout: 2h }
`,
    { baseDir: outDir },
  );

  let lastDoneAt = 0;
  const realStart = performance.now();
  const t0 = clock.now();
  const report = await startRun(
    {
      api,
      clock,
      onEvent: (e) => {
        if (e.type === "deviceDone") lastDoneAt = clock.now();
      },
    },
    { runbook, baseDir: outDir, outDir },
  );
  const t1 = clock.now();
  const realS = (performance.now() - realStart) / 1000;

  const records = emu.records;
  const submitsAt = new Map<string, number>();
  const finalAt = new Map<string, number>();
  let firstSubmit = Number.POSITIVE_INFINITY;
  for (const r of records) {
    if (r.kind === "submit") {
      submitsAt.set(r.actionId, r.at);
      firstSubmit = Math.min(firstSubmit, r.at);
    }
    if (r.kind === "status" && ["Succeeded", "Failed", "TimeOut", "Cancelled"].includes(r.status)) {
      finalAt.set(r.actionId, r.at);
    }
  }
  const sessions = [...submitsAt.entries()]
    .map(([id, at]) => ({ at, len: (finalAt.get(id) ?? at) - at }))
    .sort((a, b) => a.at - b.at);
  const d = sessions.reduce((s, x) => s + x.len, 0) / Math.max(1, sessions.length);
  const firstSession = sessions[0]?.len ?? 0;
  const lastSession = sessions.at(-1)?.len ?? 0;
  const terms = {
    submissionsMs: (N / 10) * MINUTE,
    sessionsMs: (N * d) / SESSIONS,
    callsMs: ((N * K) / 1500) * HOUR,
  };
  const tStar = Math.max(terms.submissionsMs, terms.sessionsMs, terms.callsMs) + firstSession;
  const binding = Object.entries(terms)
    .sort((a, b) => b[1] - a[1])[0]![0]
    .replace(/Ms$/, "");
  const tBurst = (Math.ceil(N / 10) - 1) * MINUTE + lastSession;

  const serviceCalls: Record<string, number> = {};
  let calls429 = 0;
  for (const r of records as readonly EmulatorRecord[]) {
    if (r.kind !== "call") continue;
    const kind = routeKind(r.method, r.path);
    serviceCalls[kind] = (serviceCalls[kind] ?? 0) + 1;
    if (r.status === 429) calls429++;
  }

  const runMs = lastDoneAt - firstSubmit;
  const result = {
    bench: "fleet-200",
    command: "see the header of bench/fleet-200.ts",
    at: new Date().toISOString(),
    node: process.version,
    devices: N,
    scale: SCALE,
    commandMs: COMMAND_MS,
    sessionCap: SESSIONS,
    resultStepsPerDevice: K,
    status: report.status,
    counts: report.counts,
    serviceMinutes: {
      startRunToReturn: (t1 - t0) / MINUTE,
      planning: (firstSubmit - t0) / MINUTE,
      firstSubmitToLastDeviceDone: runMs / MINUTE,
      meanSession: d / MINUTE,
      firstSession: firstSession / MINUTE,
      tStar: tStar / MINUTE,
      tBurstSchedule: tBurst / MINUTE,
      terms: Object.fromEntries(Object.entries(terms).map(([k, v]) => [k, v / MINUTE])),
    },
    binding,
    ratioToTStar: runMs / tStar,
    /** Only meaningful when submissions bind. */
    ratioToBurstSchedule: runMs / tBurst,
    callsByKind: report.apiCalls,
    serviceCallsByKind: serviceCalls,
    responses429: calls429,
    realSeconds: realS,
  };
  await api.close();
  await emu.close();
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(path.dirname(outFile), { recursive: true });
  writeFileSync(outFile, `${JSON.stringify(result, null, 2)}\n`);
  console.log(JSON.stringify(result, null, 2));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
