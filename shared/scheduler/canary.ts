/**
 * Canary: the first `canary` devices run alone; the rest are held until every canary device succeeded,
 * and are not run at all when one did not.
 */
import type { FleetState } from "./state.js";

export function checkCanary(s: FleetState): void {
  if (s.canaryCount === 0 || s.heldCount === 0) return;
  let allDone = true;
  let failed: number | null = null;
  // Held devices exist only past the canary indexes, so every canary device is known here.
  for (let i = 0; i < Math.min(s.canaryCount, s.records.length); i++) {
    const r = s.records[i]!;
    if (r.phase !== "done") allDone = false;
    else if (r.status !== "succeeded" && failed === null) failed = i;
  }
  if (failed !== null) {
    const who = s.plan.devices[failed]!;
    for (let i = s.canaryCount; i < s.records.length; i++) {
      if (s.records[i]!.phase !== "held") continue;
      s.finish(i, "cancelled", {
        code: "CanaryFailed",
        message: `not run: canary device ${who.computerDnsName ?? who.machineId} did not succeed (${s.records[failed]!.status}), so the run did not fan out`,
      });
    }
    return;
  }
  if (!allDone) return;
  for (let i = s.canaryCount; i < s.records.length; i++) {
    if (s.records[i]!.phase === "held") s.setPhase(i, "queued");
  }
}
