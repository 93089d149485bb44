/**
 * Live response actions (mde-api.md §4.1, §5.1, §7.6–7.10). State is computed lazily from timestamps
 * against the emulator clock, so a ScaledClock at any scale works and 5,000 idle actions cost nothing:
 * each action holds a plan (when it starts, when each command ends and how); reading it at time t
 * yields the entity the API shows then. Records of the transitions are emitted as time is observed.
 *
 * Choices where the docs are silent (§8): a queued action whose device never came online ends `TimeOut`
 * at the queue window (§8.1); a RunScript running past the timeout fails that command at the timeout
 * mark (§7.10); commands after a failed one stay `Created` with null times (§8.8); a running command
 * keeps `Created` with its `startTime` set until it ends (no in-progress value is documented).
 *
 * From the captures: a PutFile/RunScript naming a file the library lacks is accepted and fails when it
 * runs (R1); an action may stay InProgress a while after its last command ended, so a cancel can race
 * the completion and leave it Cancelled with every command Completed and downloadable (O2).
 */
import { randomUUID } from "node:crypto";
import type { Device } from "./machines.js";
import type { Prng } from "./prng.js";
import type { RecordLog } from "./records.js";
import type { Stamp } from "./time.js";
import type {
  DeviceFile,
  EmulatorLimits,
  ScriptBehaviour,
  ServiceBehaviour,
  TranscriptLayout,
} from "./types.js";

export interface SubmittedCommand {
  type: "PutFile" | "RunScript" | "GetFile";
  params: { key: string; value: string }[];
}

export type ResultSource =
  | {
      kind: "transcript";
      scriptName: string;
      behaviour: ScriptBehaviour;
      deviceName: string;
      /** The device's (or the service's) layout; a script's own `transcriptLayout` wins (blob.ts). */
      layout: TranscriptLayout;
    }
  | { kind: "file"; path: string; content: DeviceFile };

interface PlannedCommand {
  startAt: number;
  endAt: number;
  status: "Completed" | "Failed";
  error?: string;
  result?: ResultSource;
}

interface Plan {
  startAt: number;
  commands: PlannedCommand[];
  /** When the last command ended. */
  commandsEndAt: number;
  /** When the action turns final: `commandsEndAt`, or later with a completion lag (O2). */
  endAt: number;
  status: "Succeeded" | "Failed";
}

type Event =
  | { at: number; kind: "status"; status: string }
  | { at: number; kind: "command"; index: number; status: string }
  | { at: number; kind: "cancel"; requestor: string };

export interface Action {
  id: string;
  device: Device;
  requestor: string;
  comment: string | null;
  createdAt: number;
  commands: SubmittedCommand[];
  /** When the device picks the action up; null while it waits for an offline device. */
  pickupAt: number | null;
  deadline: number;
  plan: Plan | null;
  cancel?: { at: number; requestor: string; comment: string | null };
  events: Event[] | null;
  emitted: number;
  /** The entity once final: it never changes again, and polling re-reads it constantly. */
  finalEntity?: Record<string, unknown>;
}

export interface LifecycleSettings {
  limits: EmulatorLimits;
  behaviour: ServiceBehaviour;
  defaultCommandDurationMs: number;
  pickupDelayMs: number;
  /** Whether the library holds a file (R1: checked when the command is planned to run). */
  libraryHas(name: string): boolean;
  stamp: Stamp;
  /** Seeded draws (completion lag per action). */
  rng: Prng;
}

/** Who cancels when `DeviceSpec.cancelledByOther` gives no requestor: an analyst, not an app (O2). */
export const OTHER_CANCELLER = "analyst@contoso.com";

const FINAL = new Set(["Succeeded", "Failed", "TimeOut", "Cancelled"]);

export function param(command: SubmittedCommand, key: string): string | undefined {
  return command.params.find((p) => p.key === key)?.value;
}

function findFile(files: Map<string, DeviceFile>, path: string): DeviceFile | undefined {
  // Windows paths are case-insensitive; the map is keyed by lower-cased path.
  return files.get(path.toLowerCase());
}

function planFor(action: Action, startAt: number, settings: LifecycleSettings): Plan {
  const spec = action.device.spec;
  const files = new Map<string, DeviceFile>();
  for (const [path, content] of Object.entries(spec.files ?? {})) files.set(path.toLowerCase(), content);
  const deviceDuration = spec.commandDurationMs ?? settings.defaultCommandDurationMs;
  const commands: PlannedCommand[] = [];
  let t = startAt;
  const missing = (name: string): PlannedCommand | undefined =>
    settings.behaviour.missingLibraryFile === "failAtCommand" && !settings.libraryHas(name)
      ? {
          startAt: t,
          endAt: t + deviceDuration,
          status: "Failed",
          // R1 shows such an action accepted and later Failed; the command's error text is not captured.
          error: `File ${name} was not found in the live response library`,
        }
      : undefined;
  for (const command of action.commands) {
    let planned: PlannedCommand;
    const libraryName =
      command.type === "PutFile"
        ? param(command, "FileName")
        : command.type === "RunScript"
          ? param(command, "ScriptName")
          : undefined;
    const absent = libraryName !== undefined ? missing(libraryName) : undefined;
    if (absent) {
      planned = absent;
    } else if (command.type === "RunScript") {
      const name = param(command, "ScriptName") ?? "";
      const behaviour = spec.scripts?.[name] ?? spec.scripts?.["*"] ?? {};
      const duration = behaviour.durationMs ?? deviceDuration;
      if (duration > settings.limits.runScriptTimeoutMs) {
        planned = {
          startAt: t,
          endAt: t + settings.limits.runScriptTimeoutMs,
          status: "Failed",
          error: `Script execution exceeded the time limit of ${Math.round(settings.limits.runScriptTimeoutMs / 60_000)} minutes`,
        };
      } else if (behaviour.fail) {
        planned = {
          startAt: t,
          endAt: t + duration,
          status: "Failed",
          error: `Failed to run script ${name}`,
        };
      } else {
        planned = {
          startAt: t,
          endAt: t + duration,
          status: "Completed",
          result: {
            kind: "transcript",
            scriptName: name,
            behaviour,
            deviceName: spec.computerDnsName,
            layout: spec.transcriptLayout ?? settings.behaviour.transcriptLayout,
          },
        };
        for (const [path, content] of Object.entries(behaviour.creates ?? {}))
          files.set(path.toLowerCase(), content);
      }
    } else if (command.type === "GetFile") {
      const path = param(command, "Path") ?? "";
      const content = findFile(files, path);
      planned = content
        ? {
            startAt: t,
            endAt: t + deviceDuration,
            status: "Completed",
            result: { kind: "file", path, content },
          }
        : { startAt: t, endAt: t + deviceDuration, status: "Failed", error: `File not found: ${path}` };
    } else {
      planned = { startAt: t, endAt: t + deviceDuration, status: "Completed" };
    }
    commands.push(planned);
    t = planned.endAt;
    if (planned.status === "Failed") break;
  }
  const failed = commands.some((c) => c.status === "Failed");
  const lag = settings.behaviour.completionLag;
  let endAt = t;
  if (settings.rng.chance(lag.rate)) {
    endAt += lag.minMs + Math.floor(settings.rng.next() * Math.max(0, lag.maxMs - lag.minMs));
  }
  const other = spec.cancelledByOther;
  // The other party's cancel lands after the last command ended, before the action turned final.
  if (other) endAt = Math.max(endAt, t + (other.afterMs ?? 4_000) + 1_000);
  return { startAt, commands, commandsEndAt: t, endAt, status: failed ? "Failed" : "Succeeded" };
}

export class ActionStore {
  private readonly byId = new Map<string, Action>();
  private readonly ordered: Action[] = [];
  /** Non-final actions, for the one-per-device rule and the concurrent-session cap. */
  private readonly active = new Set<Action>();

  constructor(
    private readonly settings: LifecycleSettings,
    private readonly records: RecordLog,
  ) {}

  submit(
    device: Device,
    commands: SubmittedCommand[],
    comment: string | null,
    requestor: string,
    now: number,
  ): Action {
    const spec = device.spec;
    let pickupAt: number | null = now + this.settings.pickupDelayMs;
    if (spec.offline)
      pickupAt =
        spec.onlineAt !== undefined ? Math.max(now, spec.onlineAt) + this.settings.pickupDelayMs : null;
    const action: Action = {
      id: randomUUID(),
      device,
      requestor,
      comment,
      createdAt: now,
      commands,
      pickupAt,
      deadline: now + this.settings.limits.queueWindowMs,
      plan: null,
      events: null,
      emitted: 0,
    };
    this.schedule(action, pickupAt);
    this.byId.set(action.id, action);
    this.ordered.push(action);
    this.active.add(action);
    this.records.add({
      kind: "submit",
      at: now,
      actionId: action.id,
      machineId: device.id,
      comment: comment ?? "",
      commands,
    });
    return action;
  }

  /** Plans the action from `pickupAt` (when the device takes it) and the other party's cancel, if any. */
  private schedule(action: Action, pickupAt: number | null): void {
    if (pickupAt === null || pickupAt > action.deadline) return;
    action.plan = planFor(action, pickupAt, this.settings);
    const other = action.device.spec.cancelledByOther;
    if (other && !action.cancel) {
      action.cancel = {
        at: action.plan.commandsEndAt + (other.afterMs ?? 4_000),
        requestor: other.requestor ?? OTHER_CANCELLER,
        comment: other.comment ?? "Cancelled from the portal",
      };
    }
  }

  get(id: string): Action | undefined {
    return this.byId.get(id.toLowerCase());
  }

  all(): readonly Action[] {
    return this.ordered;
  }

  status(action: Action, now: number): string {
    if (action.cancel && action.cancel.at <= now) return "Cancelled";
    const plan = action.plan;
    if (!plan) return now >= action.deadline ? "TimeOut" : "Pending";
    if (now < plan.startAt) return "Pending";
    return now >= plan.endAt ? plan.status : "InProgress";
  }

  isFinal(action: Action, now: number): boolean {
    return FINAL.has(this.status(action, now));
  }

  /** The non-final action on a machine, if any (settles finished ones out of the active set). */
  activeOn(machineId: string, now: number): Action | undefined {
    for (const action of this.activeActions(now)) if (action.device.id === machineId) return action;
    return undefined;
  }

  activeActions(now: number): Action[] {
    const out: Action[] = [];
    for (const action of this.active) {
      if (this.isFinal(action, now)) {
        this.settle(action, now);
        this.active.delete(action);
      } else out.push(action);
    }
    return out;
  }

  /** Service ms until the earliest active action is expected to finish (for Retry-After). */
  soonestEnd(now: number): number | undefined {
    let best: number | undefined;
    for (const action of this.activeActions(now)) {
      const end = action.plan?.endAt;
      if (end !== undefined && (best === undefined || end < best)) best = end;
    }
    return best === undefined ? undefined : Math.max(0, best - now);
  }

  /** Cancels a non-final action at `now` (an earlier scheduled cancel by someone else would have made it final). */
  cancel(action: Action, requestor: string, comment: string | null, now: number): void {
    this.settle(action, now);
    action.cancel = { at: now, requestor, comment };
    action.events = null;
    this.active.delete(action);
    this.settle(action, now);
  }

  /** A device came online: its queued actions get picked up now. */
  deviceOnline(device: Device, now: number): void {
    for (const action of this.activeActions(now)) {
      if (action.device.id !== device.id || action.plan) continue;
      this.settle(action, now);
      action.device = device;
      action.pickupAt = now + this.settings.pickupDelayMs;
      this.schedule(action, action.pickupAt);
      action.events = null;
    }
  }

  /** Result of a command: undefined while it has not completed (or failed / produced nothing). */
  commandResult(
    action: Action,
    index: number,
    now: number,
  ): { state: "missing" | "pending" | "failed" | "none" | "ready"; result?: ResultSource } {
    const command = action.commands[index];
    if (!command) return { state: "missing" };
    const planned = action.plan?.commands[index];
    const cancelAt = action.cancel?.at ?? Number.POSITIVE_INFINITY;
    if (!planned || planned.endAt > now || planned.endAt > cancelAt) return { state: "pending" };
    if (planned.status === "Failed") return { state: "failed" };
    if (!planned.result) return { state: "none" };
    return { state: "ready", result: planned.result };
  }

  private eventsOf(action: Action): Event[] {
    if (action.events) return action.events;
    const events: Event[] = [];
    const plan = action.plan;
    const cutoff = action.cancel?.at ?? Number.POSITIVE_INFINITY;
    if (plan && plan.startAt < action.deadline + 1) {
      events.push({ at: plan.startAt, kind: "status", status: "InProgress" });
      plan.commands.forEach((c, index) => {
        events.push({ at: c.endAt, kind: "command", index, status: c.status });
      });
      events.push({ at: plan.endAt, kind: "status", status: plan.status });
    } else {
      events.push({ at: action.deadline, kind: "status", status: "TimeOut" });
    }
    const kept = events.filter(
      (e) => e.at <= cutoff && !(action.cancel && e.at === cutoff && e.kind === "status"),
    );
    if (action.cancel) {
      kept.push({ at: action.cancel.at, kind: "cancel", requestor: action.cancel.requestor });
      kept.push({ at: action.cancel.at, kind: "status", status: "Cancelled" });
    }
    action.events = kept;
    return kept;
  }

  /** Emits records for every transition up to `now` not yet recorded. */
  settle(action: Action, now: number): void {
    const events = this.eventsOf(action);
    while (action.emitted < events.length) {
      const e = events[action.emitted];
      if (!e || e.at > now) break;
      if (e.kind === "status")
        this.records.add({ kind: "status", at: e.at, actionId: action.id, status: e.status });
      else if (e.kind === "cancel")
        this.records.add({ kind: "cancel", at: e.at, actionId: action.id, requestor: e.requestor });
      else
        this.records.add({
          kind: "command",
          at: e.at,
          actionId: action.id,
          index: e.index,
          status: e.status,
        });
      action.emitted++;
    }
  }

  settleAll(now: number): void {
    for (const action of this.ordered) this.settle(action, now);
  }

  /** The MachineAction entity as the API shows it at `now` (§5.1). */
  entity(action: Action, now: number): Record<string, unknown> {
    if (action.finalEntity) return action.finalEntity;
    this.settle(action, now);
    const status = this.status(action, now);
    const cancelAt = action.cancel && action.cancel.at <= now ? action.cancel.at : Number.POSITIVE_INFINITY;
    const horizon = Math.min(now, cancelAt);
    let lastUpdate = action.createdAt;
    const commands = action.commands.map((command, index) => {
      const planned = action.plan?.commands[index];
      const started = planned !== undefined && planned.startAt <= horizon;
      const ended = planned !== undefined && planned.endAt <= horizon;
      if (started) lastUpdate = Math.max(lastUpdate, planned.startAt);
      if (ended) lastUpdate = Math.max(lastUpdate, planned.endAt);
      return {
        index,
        startTime: started ? this.settings.stamp(planned.startAt) : null,
        endTime: ended ? this.settings.stamp(planned.endAt) : null,
        commandStatus: ended ? planned.status : "Created",
        errors: ended && planned.error ? [planned.error] : [],
        command: { type: command.type, params: command.params.map((p) => ({ key: p.key, value: p.value })) },
      };
    });
    if (status === "TimeOut") lastUpdate = action.deadline;
    else if (status === "Cancelled") lastUpdate = cancelAt;
    else if (action.plan) {
      if (action.plan.startAt <= now) lastUpdate = Math.max(lastUpdate, action.plan.startAt);
      if (action.plan.endAt <= now) lastUpdate = Math.max(lastUpdate, action.plan.endAt);
    }
    const entity: Record<string, unknown> = {
      id: action.id,
      type: "LiveResponse",
      title: null,
      requestor: action.requestor,
      requestorComment: action.comment,
      status,
      machineId: action.device.id,
      computerDnsName: action.device.spec.computerDnsName,
      creationDateTimeUtc: this.settings.stamp(action.createdAt),
      lastUpdateDateTimeUtc: this.settings.stamp(lastUpdate),
      cancellationRequestor: action.cancel && action.cancel.at <= now ? action.cancel.requestor : null,
      cancellationComment: action.cancel && action.cancel.at <= now ? action.cancel.comment : null,
      cancellationDateTimeUtc:
        action.cancel && action.cancel.at <= now ? this.settings.stamp(action.cancel.at) : null,
      errorHResult: status === "Failed" || status === "TimeOut" ? -2147467259 : 0,
      scope: null,
      externalId: null,
      requestSource: "PublicApi",
      relatedFileInfo: null,
      commands,
      troubleshootInfo: null,
    };
    if (FINAL.has(status)) action.finalEntity = entity;
    return entity;
  }
}
