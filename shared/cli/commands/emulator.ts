/**
 * `mde-lr emulator`: the local MDE emulator with the demo fleet, until Ctrl-C. Prints the MDE_*
 * variables that point the CLI (or the action, or a script) at it. The demo app's client secret is
 * written to a private env file (mode 0600) rather than printed, like any other secret.
 */
import { chmod, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Clock, ScaledClock, systemClock } from "../../clock.js";
import { InputError } from "../../errors.js";
import { CLOCK_ORIGIN_ENV, CLOCK_SCALE_ENV, parseScale, startDemoEmulator } from "../connect.js";
import { type CliIo, paint } from "../io.js";

export interface EmulatorFlags {
  port?: string;
  host?: string;
  scale?: string;
  json?: boolean;
}

function parsePort(value: string | undefined): number {
  if (value === undefined) return 0;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65_535) {
    throw new InputError("--port", `expected a port number from 0 (any free port) to 65535, got "${value}"`);
  }
  return n;
}

export async function emulatorCommand(io: CliIo, flags: EmulatorFlags): Promise<number> {
  const port = parsePort(flags.port);
  const scale = parseScale(flags.scale, "--scale");
  const realOrigin = Date.now();
  const clock: Clock = scale === 1 ? systemClock : new ScaledClock({ scale, realOrigin });
  const emu = await startDemoEmulator({ port, clock, ...(flags.host ? { host: flags.host } : {}) });
  try {
    const dir = await mkdtemp(join(tmpdir(), "mde-emulator-"));
    await chmod(dir, 0o700);
    const caFile = join(dir, "ca.pem");
    await writeFile(caFile, emu.caPem, { mode: 0o600 });
    const vars: Record<string, string> = {
      MDE_API_URL: emu.url,
      MDE_AUTHORITY_HOST: emu.authorityHost,
      MDE_TENANT_ID: emu.demoApp.tenantId,
      MDE_CLIENT_ID: emu.demoApp.clientId,
      MDE_CA_FILE: caFile,
      ...(scale !== 1 ? { [CLOCK_SCALE_ENV]: String(scale), [CLOCK_ORIGIN_ENV]: String(realOrigin) } : {}),
    };
    const envFile = join(dir, "env");
    const lines = [...Object.entries(vars), ["MDE_CLIENT_SECRET", emu.demoApp.clientSecret]].map(
      ([k, v]) => `${k}=${v}`,
    );
    await writeFile(envFile, `${lines.join("\n")}\n`, { mode: 0o600 });

    if (flags.json) {
      io.out(`${JSON.stringify({ ok: true, ...vars, envFile, devices: emu.state.machineIds().length })}\n`);
    } else {
      io.out(
        [
          `${paint(io, "green", "MDE emulator running")} with the demo fleet (${emu.state.machineIds().length} devices)` +
            (scale !== 1 ? `, ${scale}× service time` : ""),
          "",
          "Point mde-lr at it from another shell:",
          "",
          ...Object.entries(vars).map(([k, v]) => `  export ${k}=${v}`),
          `  set -a; . ${envFile}; set +a     # also sets MDE_CLIENT_SECRET (kept out of this output)`,
          "",
          "then e.g.  mde-lr run examples/runbooks/triage.yaml",
          "Press Ctrl-C to stop.",
          "",
        ].join("\n"),
      );
    }
    await new Promise<void>((resolveStop) => {
      const stop = () => {
        process.off("SIGINT", stop);
        process.off("SIGTERM", stop);
        resolveStop();
      };
      process.on("SIGINT", stop);
      process.on("SIGTERM", stop);
    });
    if (!flags.json) io.err("emulator stopped\n");
    return 0;
  } finally {
    await emu.close();
  }
}
