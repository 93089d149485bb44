/**
 * A real run for the report.html tests: startRun against the emulator over loopback, targeted by a
 * machine-id list (with an unknown and a duplicate id), with a canary, a session cap of 2, a device
 * busy with another session, one offline for a while, a failing script, and hostile device text (a
 * computer name and a script output made of `</script>`, tags and event handlers).
 */
import { machineIdFor } from "../../shared/emulator/index.js";
import type { DeviceSpec } from "../../shared/emulator/types.js";
import type { RunReport } from "../../shared/report/types.js";
import { startRun } from "../../shared/run/index.js";
import { type Rig, rig, runbookFrom, tempDir } from "../run/helpers.js";

export const HOSTILE_NAME = `evil</script><img src=x onerror="window.__pwned=1">.corp`;
export const HOSTILE_STDOUT = `</script><img src=x onerror="window.__pwned=2;alert(2)"> <b>bold</b> &amp; \u2028done\n<script>window.__pwned=3</script>\n`;
export const ZIP = "C:\\Temp\\e.zip";
export const UNKNOWN_ID = "ffffffffffffffffffffffffffffffffffffffff";
const MIN = 60_000;

export interface HtmlFleet {
  rig: Rig;
  outDir: string;
  report: RunReport;
  names: Record<"canary" | "ok" | "fail" | "hostile" | "busy" | "offline", string>;
  /** Service ms when the offline device comes online. */
  onlineAt: number;
}

function device(name: string, extra: Partial<DeviceSpec> = {}): DeviceSpec {
  return {
    computerDnsName: name,
    osPlatform: "Windows11",
    scripts: {
      "collect.ps1": {
        exitCode: 0,
        stdout: `collected on ${name}\nline 2`,
        creates: { [ZIP]: `evidence from ${name}` },
      },
    },
    ...extra,
  };
}

export async function runHtmlFleet(): Promise<HtmlFleet> {
  // The clocks start at real now (ScaledClock's default origin), so service times are set from it.
  const now = Date.now();
  const onlineAt = now + 12 * MIN;
  const names = {
    canary: "canary-01.corp.contoso.com",
    ok: "ws-ok-02.corp.contoso.com",
    fail: "ws-fail-03.corp.contoso.com",
    hostile: HOSTILE_NAME,
    busy: "ws-busy-05.corp.contoso.com",
    offline: "ws-offline-06.corp.contoso.com",
  };
  const r = await rig({
    scale: 300,
    defaultCommandDurationMs: 40_000,
    pickupDelayMs: 5_000,
    devices: [
      device(names.canary),
      device(names.ok),
      device(names.fail, {
        scripts: {
          "collect.ps1": {
            exitCode: 2,
            stdout: "starting",
            stderr: "access denied to C:\\Windows\\System32\\config",
          },
        },
      }),
      device(names.hostile, {
        scripts: {
          "collect.ps1": { exitCode: 0, stdout: HOSTILE_STDOUT, creates: { [ZIP]: "hostile zip" } },
        },
      }),
      // Busy until long after its first submission can come (about 2–3 min in, after the canary): at
      // 6 min, a clean-clone CI under load once submitted to it after it was free, and no busy span was
      // drawn. The offline device ends the run later anyway.
      device(names.busy, { busyUntil: now + 10 * MIN }),
      device(names.offline, { offline: true, onlineAt }),
    ],
    library: [{ fileName: "collect.ps1", content: "Write-Output triage" }],
  });
  const ids = Object.values(names).map(machineIdFor);
  const outDir = tempDir("html");
  const runbook = runbookFrom(`
name: html-report-test
comment: "IR-12 report page"
targets:
  machineIds: [${[...ids, UNKNOWN_ID, ids[1]].join(", ")}]
commands:
  - runScript: collect.ps1
  - getFile: '${ZIP}'
options:
  canary: 1
  maxConcurrentSessions: 2
  pollInterval: 10s
  timeout: 2h
`);
  const report = await startRun({ api: r.client, clock: r.emu.clock }, { runbook, baseDir: outDir, outDir });
  return { rig: r, outDir, report, names, onlineAt };
}
