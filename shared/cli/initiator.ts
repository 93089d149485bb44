/**
 * Who runs `mde-lr`: the OS user and the machine, for the run's chain of custody. os.userInfo() throws
 * for a uid with no passwd entry (containers run as an arbitrary uid): the user is then unknown, and the
 * run goes on.
 */
import os from "node:os";
import type { Initiator } from "../custody/types.js";

export function cliInitiator(): Initiator {
  const initiator: Initiator = { kind: "cli" };
  try {
    const user = os.userInfo().username;
    if (user) initiator.user = user;
  } catch {
    // unknown user: recorded as absent, never guessed from the environment
  }
  try {
    const host = os.hostname();
    if (host) initiator.host = host;
  } catch {
    // unknown host
  }
  return initiator;
}
