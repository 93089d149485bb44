/** `mde-lr validate <runbook>`: schema + normalisation checks, offline (no connection). */
import { packSteps } from "../../plan/pack.js";
import { loadRunbook } from "../../runbook/index.js";
import type { CliIo } from "../io.js";
import { renderValidation } from "../render.js";

export async function validateCommand(io: CliIo, path: string, flags: { json?: boolean }): Promise<number> {
  const runbook = await loadRunbook(path);
  const actions = packSteps(runbook.commands);
  if (flags.json)
    io.out(`${JSON.stringify({ ok: true, valid: true, runbook, actionsPerDevice: actions }, null, 2)}\n`);
  else io.out(renderValidation(io, path, runbook, actions));
  return 0;
}
