/** Shared wiring for the emulator-backed core tests. */
import { createMdeClient, type MdeClient, type MdeClientOptions } from "../../shared/api/client.js";
import type { MachineAction } from "../../shared/api/types.js";
import { FINAL_ACTION_STATUSES } from "../../shared/api/types.js";
import type { EmulatorHandle } from "../../shared/emulator/index.js";

export function clientFor(emu: EmulatorHandle, extra: Partial<MdeClientOptions> = {}): MdeClient {
  return createMdeClient({ ...emu.connectionOptions(), env: {}, ...extra });
}

/** Polls until the action is final, on the shared (scaled) clock. */
export async function waitFinal(
  client: MdeClient,
  emu: EmulatorHandle,
  actionId: string,
): Promise<MachineAction> {
  for (let i = 0; i < 500; i++) {
    const a = await client.getMachineAction(actionId);
    if (FINAL_ACTION_STATUSES.has(a.status)) return a;
    await emu.clock.sleep(2_000);
  }
  throw new Error(`action ${actionId} did not finish`);
}
