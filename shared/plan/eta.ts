/**
 * How long a run should take given the service's quotas (mde-api.md §3.2):
 *
 *   T* = max( N / submitPerMinute  min,          submissions are the scarcest call
 *             N · d / S,                         S sessions at once, each about d long
 *             N · k / callsPerHour  h,           polls + result links against the hourly quota
 *             N · k / callsPerMinute min,        ... and the per-minute quota
 *             (m − 1) · d )                      a device runs its m actions one after another
 *        + d                                     the last session still has to run
 *        + d if a canary goes first              the fan-out waits for the canary's session
 *
 * N = machine actions, k = quota-counted calls per action (polls over d, one status read at the end,
 * one result link per RunScript/GetFile command), d = assumed session length.
 *
 * d is an assumption, not a measurement: ASSUMED_SESSION_BASE_SECONDS for the session to be picked
 * up by the device plus ASSUMED_COMMAND_SECONDS per command. Real sessions range from under a minute
 * (small scripts on online devices) to the 10-minute RunScript limit; offline devices queue for hours.
 */
import type { Limits, RunbookOptions } from "../runbook/types.js";
import type { EtaEstimate } from "./types.js";

export const ASSUMED_SESSION_BASE_SECONDS = 60;
export const ASSUMED_COMMAND_SECONDS = 60;

export interface CallsPerAction {
  polls: number;
  links: number;
}

export function assumedSessionSeconds(commands: number): number {
  return ASSUMED_SESSION_BASE_SECONDS + ASSUMED_COMMAND_SECONDS * commands;
}

export function estimateEta(
  devices: readonly { actions: readonly { commands: readonly { type: string }[] }[] }[],
  options: Pick<RunbookOptions, "pollIntervalMs" | "maxConcurrentSessions" | "canary">,
  /** The quotas the run will enforce (the runbook's stated limits over the client's). */
  limits: Limits,
): EtaEstimate & { calls: CallsPerAction } {
  const actions = devices.flatMap((d) => d.actions);
  const n = actions.length;
  const commands = actions.reduce((sum, a) => sum + a.commands.length, 0);
  const d = n === 0 ? 0 : assumedSessionSeconds(commands / n);
  const pollSeconds = options.pollIntervalMs / 1000;
  const polls = n === 0 ? 0 : Math.ceil(d / pollSeconds) + 1;
  const links =
    n === 0
      ? 0
      : actions.reduce((sum, a) => sum + a.commands.filter((c) => c.type !== "PutFile").length, 0) / n;
  const k = polls + links;
  const { submitPerMinute, callsPerMinute, callsPerHour } = limits;
  const maxActionsPerDevice = Math.max(0, ...devices.map((dev) => dev.actions.length));

  const terms: [string, number][] = [
    ["submissions", (n / submitPerMinute) * 60],
    ["sessions", (n * d) / options.maxConcurrentSessions],
    ["hourlyCalls", ((n * k) / callsPerHour) * 3600],
    ["minuteCalls", ((n * k) / callsPerMinute) * 60],
    ["perDevice", Math.max(0, maxActionsPerDevice - 1) * d],
  ];
  let [bottleneck, longest] = terms[0]!;
  for (const [name, value] of terms) {
    if (value > longest) [bottleneck, longest] = [name, value];
  }
  return {
    seconds: n === 0 ? 0 : Math.ceil(longest + d + (options.canary > 0 ? d : 0)),
    bottleneck: n === 0 ? "none" : bottleneck,
    assumedSessionSeconds: Math.round(d),
    assumptions: [
      `session length d = ${ASSUMED_SESSION_BASE_SECONDS}s + ${ASSUMED_COMMAND_SECONDS}s per command (assumed; real sessions vary, offline devices queue)`,
      `${options.maxConcurrentSessions} concurrent sessions, ${submitPerMinute} submissions/min, ${callsPerMinute} calls/min, ${callsPerHour} calls/h`,
      `poll every ${pollSeconds}s; result downloads use signed storage URLs and are not counted against the API quotas`,
      options.canary > 0
        ? `the ${options.canary} canary device(s) run first: one session length before the fan-out`
        : "no canary",
    ],
    calls: { polls, links },
  };
}
