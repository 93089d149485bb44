/**
 * An intent whose outcome is unknown (an ambiguous answer, or a crash between journal and answer): look
 * for the action by its run tag before anything is submitted again, so no device gets a step twice.
 */
import type { MachineAction } from "../api/types.js";
import { hasRunTag, odataTimestamp } from "../state/tag.js";
import { errorText, type FleetState, MINUTE } from "./state.js";

/** Tolerated difference between our clock and the service's when filtering by creation time. */
export const CLOCK_SKEW_MS = 10 * MINUTE;
/** The service may list a just-created action a moment late: how long to wait before looking again. */
const RELOOK_MS = 5_000;

export async function resolveIntent(
  s: FleetState,
  i: number,
  aborting: boolean,
  accept: (action: MachineAction) => void,
): Promise<void> {
  const r = s.records[i]!;
  const device = s.plan.devices[i]!;
  const steps = s.currentSteps(i);
  const since = (r.intentAt ?? s.plan.startedAtMs) - CLOCK_SKEW_MS;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const found = await s.api.listMachineActions(
        {
          filter: `machineId eq '${device.machineId}' and creationDateTimeUtc ge ${odataTimestamp(since)}`,
          top: 10_000,
        },
        aborting ? {} : { signal: s.signal },
      );
      const mine = found.find((a) => hasRunTag(a.requestorComment, s.plan.runId, steps));
      if (mine) {
        accept(mine);
        return;
      }
    } catch (error) {
      if (s.aborted && !aborting) return;
      s.warn(`looking up ${device.machineId}'s submission failed: ${errorText(error)}`);
    }
    if (attempt === 0) {
      try {
        await s.clock.sleep(RELOOK_MS, aborting ? undefined : s.signal);
      } catch {
        return;
      }
    }
  }
  // Not found twice: nothing was created, so the device may be submitted again.
  s.submitting.delete(i);
  r.intentAt = null;
  r.phase = "queued";
  s.journal.write(i, r, true);
  if (aborting) return;
  s.ready.unshift(i);
  s.wake();
}
