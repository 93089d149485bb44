/** `mde-lr plan <runbook>`: resolve devices, preflight, pack, count calls, estimate time; submits nothing. */
import { buildPlan } from "../../plan/index.js";
import { loadRunbook } from "../../runbook/index.js";
import type { ConnectionFlags } from "../connect.js";
import type { CliIo } from "../io.js";
import { renderPlan } from "../render.js";
import { checkMachineIds, type OutputFlags, withConnection } from "./shared.js";

export async function planCommand(
  io: CliIo,
  path: string,
  flags: ConnectionFlags & OutputFlags & { machine?: string[] },
): Promise<number> {
  const runbook = await loadRunbook(path);
  const machineIds = checkMachineIds(flags.machine);
  return withConnection(io, flags, async ({ api }) => {
    const plan = await buildPlan(api, runbook, { dryRun: true, ...(machineIds ? { machineIds } : {}) });
    if (flags.json) io.out(`${JSON.stringify({ ok: true, plan }, null, 2)}\n`);
    else io.out(renderPlan(io, plan));
    return 0;
  });
}
