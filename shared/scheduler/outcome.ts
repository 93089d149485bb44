/**
 * What a final, collected action means for its device: go on with the device's next action, or the
 * device's final status and the reason a person reads in the report.
 */
import type { MachineActionStatus } from "../api/types.js";
import type { MachineStatus, ReportError } from "../report/types.js";
import type { DeviceRecord } from "../state/records.js";

export type ActionOutcome =
  | { next: true }
  | { next: false; status: MachineStatus; error: ReportError | null };

export interface OutcomeInput {
  /** The action's final status on the service. */
  status: MachineActionStatus;
  record: Pick<DeviceRecord, "actionId" | "cancelRequested" | "steps">;
  /** The device has another planned action after this one. */
  hasNext: boolean;
  timeoutMs: number;
}

export function actionOutcome({ status, record: r, hasNext, timeoutMs }: OutcomeInput): ActionOutcome {
  if (status === "Succeeded") {
    if (hasNext) return { next: true };
    const failedStep = Object.entries(r.steps).find(([, s]) => s.st === "failed");
    if (failedStep) {
      const [n, s] = failedStep;
      return done("failed", { code: "CommandFailed", message: `step ${n}: ${s.err.join("; ") || "failed"}` });
    }
    return done("succeeded", null);
  }
  if (status === "TimeOut") {
    return done("timedOut", {
      code: "TimeOut",
      message:
        "the service timed the action out (an offline device's queued action expires after the queue window, or a command ran too long)",
    });
  }
  if (status === "Cancelled") {
    if (r.cancelRequested === "timeout") {
      return done("timedOut", {
        code: "Timeout",
        message: `the device's timeout (${Math.round(timeoutMs / 1000)} s) passed; action ${r.actionId} was cancelled`,
      });
    }
    return done("cancelled", {
      code: "Cancelled",
      message:
        r.cancelRequested === "abort"
          ? `the run was cancelled; action ${r.actionId} was cancelled`
          : `action ${r.actionId} was cancelled outside this run`,
    });
  }
  const failedCmd = Object.values(r.steps).find((s) => s.a === r.actionId && s.st === "failed");
  return done("failed", {
    code: "ActionFailed",
    message: failedCmd?.err.length ? failedCmd.err.join("; ") : `action ${r.actionId} failed`,
  });
}

function done(status: MachineStatus, error: ReportError | null): ActionOutcome {
  return { next: false, status, error };
}
