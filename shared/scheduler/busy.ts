/**
 * Devices held by another live response (ActiveRequestAlreadyExists): look again after a back-off, and
 * try again once the API lists nothing running on the device (a portal session is invisible to the API,
 * so in the end the service decides).
 */
import { errorText, type FleetState } from "./state.js";
import { busyBackoffMs } from "./submit.js";

export class BusyDevices {
  constructor(private readonly s: FleetState) {}

  /** Check every device whose back-off has passed. */
  wake(now: number): void {
    const s = this.s;
    for (const i of [...s.busy]) {
      const r = s.records[i]!;
      if (r.busyUntil !== null && r.busyUntil > now) continue;
      s.busy.delete(i);
      r.busyUntil = null;
      s.spawn(() => this.check(i));
    }
  }

  /** The earliest back-off end (+∞ when no device is busy). */
  nextAt(now: number): number {
    let at = Number.POSITIVE_INFINITY;
    for (const i of this.s.busy) at = Math.min(at, this.s.records[i]!.busyUntil ?? now);
    return at;
  }

  private async check(i: number): Promise<void> {
    const s = this.s;
    const r = s.records[i]!;
    const device = s.plan.devices[i]!;
    let stillBusy = false;
    try {
      const actions = await s.api.listMachineActions(
        { filter: `machineId eq '${device.machineId}' and type eq 'LiveResponse'`, top: 50 },
        { signal: s.signal },
      );
      stillBusy = actions.some((a) => a.status === "Pending" || a.status === "InProgress");
    } catch (error) {
      if (s.aborted) return;
      s.warn(`checking whether ${device.machineId} is free failed: ${errorText(error)}`);
    }
    if (r.phase !== "busy") return;
    if (stillBusy) {
      r.busyCount++;
      r.busyUntil = s.clock.now() + busyBackoffMs(r.busyCount);
      s.busy.add(i);
      s.journal.write(i, r);
      return;
    }
    s.setPhase(i, "queued");
  }
}
