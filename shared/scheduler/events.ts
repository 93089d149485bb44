/** What a run tells its front ends while it works (live views, logs, the action's summary). */

export type WaitReason = "rateLimit" | "sessionCap" | "deviceBusy" | "quota";

export type RunEvent =
  /** The run folder exists: from here on the run can be resumed or cancelled from it. */
  | { type: "started"; runId: string }
  /** A batch of targets resolved: its devices join the run (submissions start while others resolve). */
  | {
      type: "resolved";
      devices: { machineId: string; computerDnsName: string | null }[];
      skipped: number;
      unresolved: { selector: string; value: string; message: string }[];
      /** Estimated run length (seconds) for the devices planned so far (this batch included). */
      etaSeconds: number;
    }
  /** Resolution finished: the run's devices, actions and preflight skips in all, and an ETA. */
  | {
      type: "planned";
      runId: string;
      devices: number;
      actions: number;
      skipped: number;
      /** The planned devices, in plan order. */
      machines?: { machineId: string; computerDnsName: string | null }[];
      /** The plan's estimate of the run's length in seconds (plan/eta.ts). */
      etaSeconds?: number;
    }
  | { type: "submitted"; machineId: string; actionId: string; step: number }
  | { type: "status"; machineId: string; actionId: string; status: string }
  | { type: "collected"; machineId: string; step: number; file: string; bytes: number }
  | { type: "deviceDone"; machineId: string; status: string }
  | { type: "waiting"; reason: WaitReason; untilMs: number }
  | { type: "progress"; done: number; total: number; pending: number; running: number; queued: number }
  | { type: "warning"; message: string }
  | { type: "finished"; status: string };
