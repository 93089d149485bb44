/**
 * Seeded chaos scenario generator: one integer → a fleet, a runbook, a fault mix and a kill schedule.
 * Everything the invariant checker needs to know about "what should have happened" is kept here
 * (device ids, the exact bytes of every collectable file, which steps exist).
 */
import { createHash } from "node:crypto";
import { stringify } from "yaml";
import type {
  BehaviourUpdate,
  DeviceSpec,
  FaultSpec,
  MachineField,
  ScriptBehaviour,
} from "../../../shared/emulator/types.js";
import { HOSTILE_ARGS, HOSTILE_DEVICE_PATHS, HOSTILE_TEXT } from "./hostile.js";
import { Rng } from "./random.js";

export type ChaosStep =
  | { type: "PutFile"; fileName: string }
  | { type: "RunScript"; scriptName: string; args: string | null }
  | { type: "GetFile"; path: string };

/** Fault kinds as counted in the figures (the emulator's own `fault` records add their own labels). */
export type PlannedFault =
  | "throttleStorm"
  | "throttleStormNoRetryAfter"
  | "serverErrors"
  | "connectionResets"
  | "truncatedBodies"
  | "slowBodies"
  | "shortLinkValidity"
  | "tokenExpiry"
  | "busyDevice"
  | "offlinePastTimeout"
  | "offlineThenOnline"
  | "failingCommand"
  | "missingFile"
  | "hostilePath"
  | "sigkill"
  | "sigterm"
  // Capture-driven service behaviours (shared/real-captures), drawn from their own stream:
  /** O2: actions linger InProgress after their last command, so our cancels can race the completion. */
  | "cancelRace"
  /** O2: someone else cancels our action after its commands completed. */
  | "cancelledByOther"
  /** D5: machine entities leave optional fields out or null. */
  | "sparseMachine"
  /** R5: osVersion is a release name (20H2) on Windows 10 devices. */
  | "releaseName"
  /** The docs' older service SAS links instead of R3's user-delegation ones. */
  | "serviceSasLinks"
  /** The older fixed 7-digit timestamps instead of the captured 2–7. */
  | "fixed7Timestamps"
  /** `JSON.stringify` transcripts on some scripts (the captured layout is the default). */
  | "compactTranscript"
  /**
   * docs #5907: a duplicate submission answered with the existing (someone else's) action. Excluded by
   * default (DEFAULT_EXCLUDED) until the client checks a returned action is its own (issue 13 point 3).
   */
  | "duplicateReturnsExisting";

/**
 * Families drawn but not switched on unless a caller asks (`exclude: []`, or for `npm run chaos`
 * `CHAOS_INCLUDE=duplicateReturnsExisting`, comma-separated).
 */
export const DEFAULT_EXCLUDED: readonly PlannedFault[] = ["duplicateReturnsExisting"].filter(
  (kind) => !(process.env.CHAOS_INCLUDE ?? "").split(",").includes(kind),
) as PlannedFault[];

export interface LibraryFileSpec {
  fileName: string;
  content: string;
}

export interface ForeignSession {
  machineId: string;
  scriptName: string;
}

export interface ChaosScenario {
  seed: number;
  devices: DeviceSpec[];
  /** Files already in the Live Response library when the run starts. */
  library: LibraryFileSpec[];
  /** Files the runbook's `library:` section syncs (written next to the runbook). */
  runbookLibrary: LibraryFileSpec[];
  steps: ChaosStep[];
  runbookName: string;
  /** Runbook YAML, relative library paths under `lib/`. */
  runbookYaml: string;
  onActiveSession: "wait" | "fail";
  timeoutMs: number;
  pollIntervalMs: number;
  /** Faults for `startEmulator({faults})`; throttle storm times are offsets from the run's start. */
  faults: FaultSpec;
  /** Capture-driven service behaviours for `startEmulator({behaviour})`. */
  behaviour: BehaviourUpdate;
  linkValidityMs: number;
  planned: PlannedFault[];
  /** Live responses someone else starts before the run (the run must wait for or report them, never cancel them). */
  foreign: ForeignSession[];
  /** Real ms after each (re)start at which the driver SIGKILLs the process; one entry per planned kill. */
  killDelaysMs: number[];
  /** When set, the kill comes after the process's n-th API call instead (the delay is then a fallback). */
  killAfterCalls: (number | null)[];
  /** The SIGTERM comes after this many API calls of the last process (sigtermAfterMs is the fallback). */
  sigtermAfterCalls: number | null;
  /** End with SIGTERM at this real ms (the run must cancel its own unfinished actions) instead of resuming to the end. */
  sigtermAfterMs: number | null;
  /** CLI runs with `--json` (else the human output, and the report is read from the folder). */
  jsonOutput: boolean;
  /** Expected sha256 of the original bytes of each (machineId, device path) GetFile can collect. */
  fileSha256: Map<string, string>;
}

export interface ScenarioOptions {
  maxDevices?: number;
  maxSteps?: number;
  /** Probability that each fault family is switched on in a run. */
  faultRate?: number;
  /** Upper bound for a kill delay, real ms (runs are short at high clock scale). */
  maxKillDelayMs?: number;
  /** Fault families never switched on (e.g. while a bug they expose is open). Default DEFAULT_EXCLUDED. */
  exclude?: readonly PlannedFault[];
}

const SCRIPT_POOL = ["triage.ps1", "collect.ps1", "memdump.ps1", "netstat.ps1", "persist.ps1"];
const TOOL_POOL = ["procdump.exe", "autorunsc.exe", "tool-a.bin", "tool_b.dat"];
const PLAIN_PATHS = [
  "C:\\Windows\\Temp\\collect.zip",
  "C:\\Windows\\System32\\drivers\\etc\\hosts",
  "C:\\Users\\alice\\AppData\\Local\\Temp\\dump.dmp",
  "C:\\ProgramData\\evidence\\triage.json",
  "/var/log/syslog",
  "/tmp/collect.tar",
];
/** Runbook args are one command line (the parser refuses line breaks and NUL); the rest are fuzz material. */
const RUNBOOK_SAFE_ARGS = HOSTILE_ARGS.filter(
  (a) => !a.includes("\n") && !a.includes("\r") && !a.includes("\u0000"),
);
const SECOND = 1000;
const MINUTE = 60 * SECOND;

export function fileKey(machineId: string, path: string): string {
  return `${machineId}\u0000${path}`;
}

function randomText(rng: Rng, maxLen: number): string {
  const len = rng.int(0, maxLen);
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789 \n\t-_.:/\\\"'{}[],";
  let out = "";
  for (let i = 0; i < len; i++) out += alphabet[rng.int(0, alphabet.length - 1)];
  return out;
}

function randomBytes(rng: Rng, maxLen: number): Uint8Array {
  const len = rng.chance(0.1) ? 0 : rng.int(1, maxLen);
  const out = new Uint8Array(len);
  for (let i = 0; i < len; i++) out[i] = rng.int(0, 255);
  return out;
}

function generateSteps(rng: Rng, maxSteps: number): ChaosStep[] {
  const count = rng.int(1, maxSteps);
  const steps: ChaosStep[] = [];
  const usedPaths = new Set<string>();
  const usedTools = new Set<string>();
  for (let i = 0; i < count; i++) {
    const r = rng.next();
    if (r < 0.2 && usedTools.size < TOOL_POOL.length) {
      const fileName = rng.pick(TOOL_POOL.filter((t) => !usedTools.has(t)));
      usedTools.add(fileName);
      steps.push({ type: "PutFile", fileName });
    } else if (r < 0.6) {
      // The step number in the args keeps every step distinct, so "same command twice" means "same step twice".
      const hostile = rng.chance(0.2) ? ` ${rng.pick(RUNBOOK_SAFE_ARGS)}` : "";
      steps.push({ type: "RunScript", scriptName: rng.pick(SCRIPT_POOL), args: `-Step ${i + 1}${hostile}` });
    } else {
      let path = rng.chance(0.35) ? rng.pick(HOSTILE_DEVICE_PATHS) : rng.pick(PLAIN_PATHS);
      if (usedPaths.has(path)) path = `C:\\Windows\\Temp\\step-${i + 1}.bin`;
      usedPaths.add(path);
      steps.push({ type: "GetFile", path });
    }
  }
  return steps;
}

export function generateScenario(seed: number, options: ScenarioOptions = {}): ChaosScenario {
  const root = new Rng(seed);
  const rngFleet = root.fork("fleet");
  const rngSteps = root.fork("steps");
  const rngFaults = root.fork("faults");
  const rngKills = root.fork("kills");
  // Forked last, so the capture-driven draws leave every earlier stream (and each seed's scenario) as it was.
  const rngCaptures = root.fork("captures");
  const maxDevices = options.maxDevices ?? 8;
  const faultRate = options.faultRate ?? 0.35;
  const planned: PlannedFault[] = [];
  const excluded = new Set(options.exclude ?? DEFAULT_EXCLUDED);
  const drawOn =
    (rng: Rng) =>
    (kind: PlannedFault, p = faultRate): boolean => {
      // Always draw, so excluding a family does not shift the rest of the scenario.
      const yes = rng.chance(p) && !excluded.has(kind);
      if (yes) planned.push(kind);
      return yes;
    };
  const on = drawOn(rngFaults);
  const onCapture = drawOn(rngCaptures);

  const steps = generateSteps(rngSteps, options.maxSteps ?? 5);
  const timeoutMs = rngFaults.int(20, 45) * MINUTE;
  const scriptNames = [...new Set(steps.flatMap((s) => (s.type === "RunScript" ? [s.scriptName] : [])))];
  const toolNames = [...new Set(steps.flatMap((s) => (s.type === "PutFile" ? [s.fileName] : [])))];
  const getPaths = steps.flatMap((s) => (s.type === "GetFile" ? [s.path] : []));
  if (getPaths.some((p) => HOSTILE_DEVICE_PATHS.includes(p))) planned.push("hostilePath");

  const failing = on("failingCommand", faultRate / 2);
  const missing = getPaths.length > 0 && on("missingFile", faultRate / 3);
  const offlinePast = on("offlinePastTimeout", faultRate / 2);
  const offlineThenOnline = on("offlineThenOnline", faultRate / 2);

  const deviceCount = rngFleet.int(1, maxDevices);
  const fileSha256 = new Map<string, string>();
  const devices: DeviceSpec[] = [];
  for (let d = 0; d < deviceCount; d++) {
    const id = rngFleet.hex(40);
    const scripts: Record<string, ScriptBehaviour> = {};
    for (const name of [...scriptNames, "foreign.ps1"]) {
      const behaviour: ScriptBehaviour = {
        exitCode: rngFleet.chance(0.15) ? rngFleet.int(1, 5) : 0,
        stdout: rngFleet.chance(0.15) ? rngFleet.pick(HOSTILE_TEXT) : randomText(rngFleet, 400),
        stderr: rngFleet.chance(0.2) ? randomText(rngFleet, 80) : "",
        durationMs: rngFleet.int(5, 240) * SECOND,
      };
      if (failing && rngFleet.chance(0.35)) behaviour.fail = true;
      if (rngFleet.chance(0.2)) behaviour.nonStrictTranscript = true;
      scripts[name] = behaviour;
    }
    const files: Record<string, Uint8Array> = {};
    for (const p of getPaths) {
      if (missing && rngFleet.chance(0.3)) continue;
      const bytes = randomBytes(rngFleet, rngFleet.chance(0.1) ? 2_000_000 : 20_000);
      files[p] = bytes;
      fileSha256.set(fileKey(id, p), createHash("sha256").update(bytes).digest("hex"));
    }
    const device: DeviceSpec = {
      id,
      computerDnsName: rngFleet.chance(0.1)
        ? `${rngFleet.pick(HOSTILE_TEXT)}.corp`
        : `ws-${seed}-${d}.corp.example`,
      osPlatform: "Windows11",
      healthStatus: "Active",
      onboardingStatus: "Onboarded",
      commandDurationMs: rngFleet.int(2, 90) * SECOND,
      scripts,
      files,
    };
    if (offlinePast && rngFleet.chance(0.4)) device.offline = true;
    else if (offlineThenOnline && rngFleet.chance(0.4)) {
      device.offline = true;
      // onlineAt is an offset from the run's start here; the driver turns it into service time.
      device.onlineAt = rngFleet.int(1, 15) * MINUTE;
    }
    devices.push(device);
  }

  const behaviour = captureVariants(devices, rngCaptures, onCapture, faultRate);

  const faults: FaultSpec = { seed: rngFaults.nextUint32() };
  if (on("serverErrors")) faults.serverErrorRate = rngFaults.int(2, 15) / 100;
  if (on("connectionResets")) faults.connectionResetRate = rngFaults.int(2, 10) / 100;
  if (getPaths.length > 0 || scriptNames.length > 0) {
    if (on("truncatedBodies")) faults.truncatedBodyRate = rngFaults.int(5, 30) / 100;
    if (on("slowBodies")) faults.slowBodyRate = rngFaults.int(5, 30) / 100;
  }
  const storms: { startMs: number; durationMs: number; retryAfter: boolean }[] = [];
  if (on("throttleStorm")) {
    // Offsets from the first process's start (the driver shifts them): loading, signing in and planning
    // take ~0.75 s real (~5 service minutes at ×400) before the first submission.
    storms.push({
      startMs: rngFaults.int(240, 840) * SECOND,
      durationMs: rngFaults.int(60, 240) * SECOND,
      retryAfter: true,
    });
  }
  if (on("throttleStormNoRetryAfter")) {
    storms.push({
      startMs: rngFaults.int(240, 840) * SECOND,
      durationMs: rngFaults.int(45, 180) * SECOND,
      retryAfter: false,
    });
  }
  if (storms.length > 0) faults.throttleStorms = storms;
  // Minutes, not seconds: at ×1000 a loaded machine can stall a process ~0.2 s real (≈ 3 service minutes).
  if (on("tokenExpiry")) faults.tokenLifetimeMs = rngFaults.int(5, 15) * MINUTE;
  // Short enough that links expire across a kill/resume gap or a slow download, long enough that a link
  // used at once is valid even when a loaded machine stalls the worker for ~100 ms real (minutes at ×1000).
  const linkValidityMs = on("shortLinkValidity") ? rngFaults.int(3, 8) * MINUTE : 30 * MINUTE;

  const foreign: ForeignSession[] = [];
  if (on("busyDevice", faultRate / 2)) {
    for (const device of devices) {
      if (device.offline || !device.id) continue;
      const r = rngFaults.next();
      // Someone else's API live response (visible, the run must not cancel it) or a portal session
      // (invisible to the API, §7.20) holding the device for a few minutes.
      if (r < 0.4) foreign.push({ machineId: device.id, scriptName: "foreign.ps1" });
      else if (r < 0.6) device.busyUntil = rngFaults.int(1, 12) * MINUTE;
    }
  }
  const onActiveSession = rngFaults.chance(0.8) ? "wait" : "fail";

  const maxKill = options.maxKillDelayMs ?? 2500;
  const killDelaysMs: number[] = [];
  const kills = rngKills.chance(0.6) ? rngKills.int(1, 3) : 0;
  // Mostly after start-up (a process needs ~0.5 s real to load and sign in), some during it: a kill
  // before run.json exists costs a whole restart and tests little beyond "nothing was submitted".
  // Most kills come after the process's n-th API call (any phase: planning, submitting, polling,
  // collecting), whatever the machine's speed; some at a real-time point during start-up.
  const killAfterCalls: (number | null)[] = [];
  for (let k = 0; k < kills; k++) {
    if (rngKills.chance(0.2)) {
      killDelaysMs.push(rngKills.int(30, 1200));
      killAfterCalls.push(null);
    } else {
      killDelaysMs.push(maxKill * 20);
      killAfterCalls.push(rngKills.int(2, 45));
    }
  }
  if (kills > 0 && excluded.has("sigkill")) {
    killDelaysMs.length = 0;
    killAfterCalls.length = 0;
  }
  if (killDelaysMs.length > 0) planned.push("sigkill");
  let sigtermAfterMs: number | null = null;
  let sigtermAfterCalls: number | null = null;
  if (rngKills.chance(0.1) && !excluded.has("sigterm")) {
    sigtermAfterMs = maxKill * 20;
    sigtermAfterCalls = rngKills.int(3, 40);
    planned.push("sigterm");
  }

  // Scripts and tools live partly in the library already and partly in the runbook's library section.
  const library: LibraryFileSpec[] = [{ fileName: "foreign.ps1", content: "Write-Output foreign\n" }];
  const runbookLibrary: LibraryFileSpec[] = [];
  for (const name of [...scriptNames, ...toolNames]) {
    const spec = {
      fileName: name,
      content: `# ${name} for chaos seed ${seed}\n${randomText(rngSteps, 200)}\n`,
    };
    if (rngSteps.chance(0.5)) library.push(spec);
    else runbookLibrary.push(spec);
  }

  const pollIntervalMs = rngSteps.int(5, 15) * SECOND;
  const runbookName = `chaos-${seed}`;
  const doc = {
    name: runbookName,
    comment: `chaos seed ${seed}`,
    targets: { machineIds: devices.map((d) => d.id as string) },
    commands: steps.map((s) =>
      s.type === "PutFile"
        ? { putFile: s.fileName }
        : s.type === "RunScript"
          ? s.args === null
            ? { runScript: s.scriptName }
            : { runScript: s.scriptName, args: s.args }
          : { getFile: s.path },
    ),
    ...(runbookLibrary.length > 0
      ? { library: runbookLibrary.map((l) => ({ path: `lib/${l.fileName}`, description: "chaos" })) }
      : {}),
    options: {
      timeout: Math.round(timeoutMs / SECOND),
      pollInterval: Math.round(pollIntervalMs / SECOND),
      onActiveSession,
      maxConcurrentSessions: 25,
      maxDevices: Math.max(50, deviceCount),
    },
  };

  return {
    seed,
    devices,
    library,
    runbookLibrary,
    steps,
    runbookName,
    runbookYaml: stringify(doc, { lineWidth: 0 }),
    onActiveSession,
    timeoutMs,
    pollIntervalMs,
    faults,
    behaviour,
    linkValidityMs,
    planned,
    foreign,
    killDelaysMs,
    killAfterCalls,
    sigtermAfterMs,
    sigtermAfterCalls,
    jsonOutput: rngKills.chance(0.7),
    fileSha256,
  };
}

/** D5/R5 fields a chaos device may leave out or null (never `id`; names are not used to target). */
const SPARSE: readonly MachineField[] = [
  "onboardingStatus",
  "healthStatus",
  "osVersion",
  "osBuild",
  "version",
  "osPlatform",
  "agentVersion",
  "lastIpAddress",
  "lastSeen",
  "computerDnsName",
  "rbacGroupName",
  "machineTags",
];

/**
 * The service behaviours the captures showed, switched on per scenario from their own stream: the
 * emulator's `behaviour` plus per-device variants (sparse entities, release names, foreign cancels,
 * transcript layouts).
 */
function captureVariants(
  devices: DeviceSpec[],
  rng: Rng,
  on: (kind: PlannedFault, p?: number) => boolean,
  faultRate: number,
): BehaviourUpdate {
  const behaviour: BehaviourUpdate = {};
  if (on("cancelRace", faultRate / 2)) {
    behaviour.completionLag = {
      rate: rng.int(3, 8) / 10,
      minMs: 5 * SECOND,
      maxMs: rng.int(20, 90) * SECOND,
    };
  }
  if (on("duplicateReturnsExisting", faultRate / 2)) {
    behaviour.duplicateReturnsExisting = { rate: rng.int(3, 10) / 10, status: rng.chance(0.5) ? 201 : 200 };
  }
  if (on("serviceSasLinks", faultRate / 2)) behaviour.linkStyle = "serviceSas";
  if (on("fixed7Timestamps", faultRate / 3)) behaviour.timestampDigits = "fixed7";
  const sparse = on("sparseMachine");
  const release = on("releaseName", faultRate / 2);
  const foreignCancel = on("cancelledByOther", faultRate / 3);
  const compact = on("compactTranscript", faultRate / 2);
  for (const device of devices) {
    // Every draw happens whatever is on, so one family never shifts another's devices.
    const sparseDraw = rng.chance(0.5);
    const absent = SPARSE.filter(() => rng.chance(0.3));
    const nulled = SPARSE.filter((f) => !absent.includes(f) && rng.chance(0.15));
    const releaseDraw = rng.chance(0.5);
    const releasePick = rng.pick([
      { osVersion: "20H2", osBuild: 19042 },
      { osVersion: "21H2", osBuild: 19044 },
      { osVersion: "22H2" }, // no osBuild: the release name is all the client has
    ]);
    const cancelDraw = rng.chance(0.4);
    const afterMs = rng.int(1, 8) * SECOND;
    const compactDraw = rng.chance(0.5);
    if (sparse && sparseDraw) {
      if (absent.length > 0) device.absentFields = absent;
      if (nulled.length > 0) device.nullFields = nulled;
    }
    if (release && releaseDraw) Object.assign(device, { osPlatform: "Windows10", ...releasePick });
    if (foreignCancel && cancelDraw && !device.offline) {
      device.cancelledByOther = {
        requestor: "analyst@contoso.com",
        comment: "chaos: cancelled in the portal",
        afterMs,
      };
    }
    if (compact && compactDraw) device.transcriptLayout = "compact";
  }
  return behaviour;
}
