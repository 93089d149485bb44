/**
 * Run events → step log lines. Progress is throttled (a thousand devices must not flood the log) and
 * every line is redacted, since device text and URLs may carry secrets.
 */
import * as core from "@actions/core";
import { redact } from "../shared/redact.js";
import type { RunEvent } from "../shared/run/types.js";

const PROGRESS_EVERY_MS = 15_000;
/** The UI shows 10 warnings per step; keep room for the grouped failure annotations. */
const MAX_WARNING_ANNOTATIONS = 5;

export function createEventLogger(now: () => number = Date.now): (event: RunEvent) => void {
  let lastProgress = Number.NEGATIVE_INFINITY;
  let warnings = 0;
  const info = (line: string) => core.info(redact(line));
  return (event) => {
    try {
      switch (event.type) {
        case "planned":
          info(
            `Run ${event.runId}: ${event.devices} device(s), ${event.actions} action(s), ${event.skipped} skipped by preflight`,
          );
          break;
        case "submitted":
          info(`Submitted step ${event.step} to ${event.machineId}: action ${event.actionId}`);
          break;
        case "deviceDone":
          info(`Device ${event.machineId}: ${event.status}`);
          break;
        case "collected":
          info(`Collected ${event.file} (${event.bytes} bytes) from ${event.machineId}`);
          break;
        case "waiting":
          info(`Waiting (${event.reason}) until ${new Date(event.untilMs).toISOString()}`);
          break;
        case "progress":
          if (now() - lastProgress >= PROGRESS_EVERY_MS || event.done === event.total) {
            lastProgress = now();
            info(
              `Progress: ${event.done}/${event.total} done, ${event.running} running, ${event.queued} queued, ${event.pending} pending`,
            );
          }
          break;
        case "warning":
          warnings++;
          if (warnings <= MAX_WARNING_ANNOTATIONS) core.warning(redact(event.message));
          else info(`warning: ${event.message}`);
          if (warnings === MAX_WARNING_ANNOTATIONS) {
            info("Further warnings are logged as plain lines (the UI shows only 10 annotations per step).");
          }
          break;
        case "finished":
          info(`Run finished: ${event.status}`);
          break;
        case "status":
          core.debug(redact(`${event.machineId} ${event.actionId}: ${event.status}`));
          break;
      }
    } catch {
      // onEvent must not throw (RunContext contract).
    }
  };
}
