/**
 * What a final, collected action means for its device: go on with the device's next action, or the
 * device's final status and the reason a person reads in the report.
 *
 * The device is judged by what its commands did, not only by the action's status: the service can end
 * an action `Cancelled` although every command had `Completed` and its results exist (a cancel racing
 * the completion — ours at a timeout, or someone's in the portal; real-captures O2), and likewise
 * `Failed` / `TimeOut`. Such an action counts as done, with a warning naming who cancelled it and when.
 */
import type { MachineActionStatus } from "../api/types.js";
import type { MachineStatus, ReportError } from "../report/types.js";
import type { DeviceRecord } from "../state/records.js";

export type ActionOutcome =
  | { next: true; warning: string | null }
  | { next: false; status: MachineStatus; error: ReportError | null; warning: string | null };

export interface OutcomeInput {
  /** The action's final status on the service. */
  status: MachineActionStatus;
  record: Pick<DeviceRecord, "actionId" | "cancelRequested" | "steps" | "final">;
  /** Runbook steps the action carried. */
  actionSteps: readonly number[];
  /** The device has another planned action after this one. */
  hasNext: boolean;
  timeoutMs: number;
}

export function actionOutcome(input: OutcomeInput): ActionOutcome {
  const { status, record: r, hasNext, timeoutMs } = input;
  const allCompleted =
    input.actionSteps.length > 0 && input.actionSteps.every((n) => r.steps[String(n)]?.st === "succeeded");
  if (status === "Succeeded" || (allCompleted && !hasNext)) {
    const warning = status === "Succeeded" ? null : raceWarning(input);
    if (hasNext) return { next: true, warning };
    const failedStep = Object.entries(r.steps).find(([, s]) => s.st === "failed");
    if (failedStep) {
      const [n, s] = failedStep;
      return done(
        "failed",
        { code: "CommandFailed", message: `step ${n}: ${s.err.join("; ") || "failed"}` },
        warning,
      );
    }
    return done("succeeded", null, warning);
  }
  // Every command did its work but the service says otherwise, and the device has more to do.
  if (allCompleted && (status === "Failed" || status === "TimeOut"))
    return { next: true, warning: raceWarning(input) };
  if (status === "TimeOut") {
    return done("timedOut", {
      code: "TimeOut",
      message:
        "the service timed the action out (an offline device's queued action expires after the queue window, or a command ran too long)",
    });
  }
  if (status === "Cancelled") {
    // A cancelled action whose commands all completed stops the device here (its later actions are not
    // sent: someone wanted it stopped, or its timeout passed); what ran is kept and said.
    const warning = allCompleted ? raceWarning(input) : null;
    if (r.cancelRequested === "timeout") {
      return done(
        "timedOut",
        {
          code: "Timeout",
          message: `the device's timeout (${Math.round(timeoutMs / 1000)} s) passed; action ${r.actionId} was cancelled`,
        },
        warning,
      );
    }
    return done(
      "cancelled",
      {
        code: "Cancelled",
        message:
          r.cancelRequested === "abort"
            ? `the run was cancelled; action ${r.actionId} was cancelled`
            : `action ${r.actionId} was cancelled outside this run${by(r.final)}`,
      },
      warning,
    );
  }
  const failedCmd = Object.values(r.steps).find((s) => s.a === r.actionId && s.st === "failed");
  return done("failed", {
    code: "ActionFailed",
    message: failedCmd?.err.length ? failedCmd.err.join("; ") : `action ${r.actionId} failed`,
  });
}

/** The service's final status disagrees with the commands: say what happened, and who cancelled when. */
function raceWarning({ status, record: r }: OutcomeInput): string {
  if (status !== "Cancelled") {
    return `action ${r.actionId} ended ${status} although every command completed; the results were collected and count`;
  }
  const who =
    r.cancelRequested === "timeout"
      ? " by this run at the device's timeout"
      : r.cancelRequested === "abort"
        ? " by this run (the run was cancelled)"
        : by(r.final);
  return `action ${r.actionId} was cancelled${who} after every command had completed; the results were collected and count`;
}

function by(final: OutcomeInput["record"]["final"]): string {
  if (!final) return "";
  const who = final.cancelledBy ? ` by ${final.cancelledBy}` : "";
  const when = final.cancelledAt ? ` at ${final.cancelledAt}` : "";
  return `${who}${when}`;
}

function done(
  status: MachineStatus,
  error: ReportError | null,
  warning: string | null = null,
): ActionOutcome {
  return { next: false, status, error, warning };
}
