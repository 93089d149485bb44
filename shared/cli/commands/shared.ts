/** Pieces the commands share: connection lifetime, --machine parsing, output folders. */
import { join, resolve } from "node:path";
import { InputError } from "../../errors.js";
import { type Connection, type ConnectionFlags, connect } from "../connect.js";
import { type CliIo, paint } from "../io.js";

export interface OutputFlags {
  json?: boolean;
}

export async function withConnection<T>(
  io: CliIo,
  flags: ConnectionFlags & OutputFlags,
  body: (conn: Connection) => Promise<T>,
): Promise<T> {
  const conn = await connect(flags, io.env);
  if (conn.emulator && !flags.json) {
    io.err(
      `${paint(io, "cyan", "emulator:")} using the local MDE emulator with the demo fleet at ${conn.emulator.url}; nothing leaves this machine\n`,
    );
  }
  try {
    return await body(conn);
  } finally {
    await conn.close();
  }
}

const MACHINE_ID = /^[0-9a-fA-F]{40}$/;

export { collectMachine } from "../collect.js";

export function checkMachineIds(ids: string[] | undefined): string[] | undefined {
  if (!ids || ids.length === 0) return undefined;
  for (const id of ids) {
    if (!MACHINE_ID.test(id)) {
      throw new InputError(
        "--machine",
        `"${id}" is not a device id (40 hexadecimal characters); copy it from the device page or \`mde-lr plan\``,
      );
    }
  }
  return ids.map((id) => id.toLowerCase());
}

/** `mde-lr-runs/<runbook>-<UTC yyyymmdd-hhmmss>` under the working folder. */
export function defaultOutDir(runbookName: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
  return resolve(join("mde-lr-runs", `${runbookName}-${stamp}`));
}
