/**
 * The CLI's connection: flags over MDE_* environment variables (resolveConnection), or `--emulator`,
 * which starts the local emulator with the demo fleet in this process and wires the client to it
 * (its URL, its authority, its CA, its clock) so a runbook runs with no tenant at all.
 */
import { createMdeClient, type MdeClient } from "../api/client.js";
import { type Clock, ScaledClock, systemClock } from "../clock.js";
import type { EmulatorHandle } from "../emulator/index.js";
import { InputError } from "../errors.js";

export interface ConnectionFlags {
  apiUrl?: string;
  authorityHost?: string;
  tenantId?: string;
  clientId?: string;
  clientCertificate?: string;
  cloud?: string;
  region?: string;
  caFile?: string;
  emulator?: boolean;
  /** Service ms per real ms for the embedded emulator (default 1: real time). */
  emulatorScale?: string;
}

export interface Connection {
  api: MdeClient;
  clock: Clock;
  emulator: EmulatorHandle | null;
  close(): Promise<void>;
}

/**
 * Environment variables a separately started, time-scaled emulator (`mde-lr emulator --scale N`)
 * prints, so this process's service time agrees with the emulator's.
 */
export const CLOCK_SCALE_ENV = "MDE_LR_CLOCK_SCALE";
export const CLOCK_ORIGIN_ENV = "MDE_LR_CLOCK_ORIGIN";

export function parseScale(value: string | undefined, field: string): number {
  if (value === undefined) return 1;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > 100_000) {
    throw new InputError(
      field,
      `expected a positive number up to 100000 (service ms per real ms), got "${value}"`,
    );
  }
  return n;
}

export function clockFromEnv(env: Record<string, string | undefined>): Clock {
  const raw = env[CLOCK_SCALE_ENV];
  if (raw === undefined || raw.trim() === "") return systemClock;
  const scale = parseScale(raw, CLOCK_SCALE_ENV);
  const originRaw = env[CLOCK_ORIGIN_ENV];
  const origin = originRaw === undefined ? Number.NaN : Number(originRaw);
  if (!Number.isFinite(origin)) {
    throw new InputError(
      CLOCK_ORIGIN_ENV,
      `must be the real epoch ms the emulator printed with ${CLOCK_SCALE_ENV}`,
    );
  }
  return new ScaledClock({ scale, realOrigin: origin });
}

export async function startDemoEmulator(options: {
  port?: number;
  host?: string;
  clock: Clock;
}): Promise<EmulatorHandle> {
  // Loaded on demand: the emulator (node-forge for its TLS) is start-up weight every tenant run would pay.
  const { demoEmulatorOptions, startEmulator } = await import("../emulator/index.js");
  return startEmulator({
    ...demoEmulatorOptions(),
    clock: options.clock,
    ...(options.port !== undefined ? { port: options.port } : {}),
    ...(options.host !== undefined ? { host: options.host } : {}),
  });
}

/**
 * The flags that pick a tenant, and the connection option each sets. --ca-file has none: it goes in
 * as MDE_CA_FILE so the one CA-file reader in settings checks it.
 */
const TENANT_FLAGS: readonly { flag: keyof ConnectionFlags; name: string; option?: TenantOption }[] = [
  { flag: "apiUrl", name: "--api-url", option: "apiUrl" },
  { flag: "authorityHost", name: "--authority-host", option: "authorityHost" },
  { flag: "tenantId", name: "--tenant-id", option: "tenantId" },
  { flag: "clientId", name: "--client-id", option: "clientId" },
  { flag: "clientCertificate", name: "--client-certificate", option: "clientCertificatePath" },
  { flag: "cloud", name: "--cloud", option: "cloud" },
  { flag: "region", name: "--region", option: "region" },
  { flag: "caFile", name: "--ca-file" },
];

type TenantOption =
  | "apiUrl"
  | "authorityHost"
  | "tenantId"
  | "clientId"
  | "clientCertificatePath"
  | "cloud"
  | "region";

function tenantOptions(flags: ConnectionFlags): Partial<Record<TenantOption, string>> {
  const options: Partial<Record<TenantOption, string>> = {};
  for (const { flag, option } of TENANT_FLAGS) {
    const value = flags[flag];
    if (option && typeof value === "string") options[option] = value;
  }
  return options;
}

export async function connect(
  flags: ConnectionFlags,
  env: Record<string, string | undefined>,
): Promise<Connection> {
  if (flags.emulator) {
    const clash = TENANT_FLAGS.find(({ flag }) => flags[flag] !== undefined);
    if (clash) {
      throw new InputError(
        "--emulator",
        `can't be combined with ${clash.name}: drop ${clash.name} to use the local emulator, or drop --emulator to use that tenant`,
      );
    }
    const scale = parseScale(flags.emulatorScale, "--emulator-scale");
    const clock: Clock = scale === 1 ? systemClock : new ScaledClock({ scale });
    const emu = await startDemoEmulator({ clock });
    try {
      // Sign in like a real app would (client secret through the emulator's Entra), not a minted token,
      // so the run exercises token refresh too. Explicit options win over any MDE_* in the environment.
      const api = createMdeClient({ ...emu.connectionOptions(), env: {} });
      return {
        api,
        clock,
        emulator: emu,
        close: async () => {
          await api.close();
          await emu.close();
        },
      };
    } catch (err) {
      await emu.close();
      throw err;
    }
  }

  if (flags.emulatorScale !== undefined) {
    throw new InputError(
      "--emulator-scale",
      "only applies with --emulator; add --emulator or drop --emulator-scale",
    );
  }
  const clock = clockFromEnv(env);
  const options = tenantOptions(flags);
  const clientEnv = flags.caFile !== undefined ? { ...env, MDE_CA_FILE: flags.caFile } : env;
  let api: MdeClient;
  try {
    api = createMdeClient({ ...options, clock, env: clientEnv });
  } catch (err) {
    if (err instanceof InputError && err.field === "credential") {
      throw new InputError(
        "credential",
        "no credentials configured: set MDE_TENANT_ID, MDE_CLIENT_ID and MDE_CLIENT_SECRET (or MDE_CLIENT_CERTIFICATE, " +
          "or MDE_ACCESS_TOKEN), or pass --emulator to try it locally with the demo fleet",
        { cause: err },
      );
    }
    throw err;
  }
  return { api, clock, emulator: null, close: () => api.close() };
}
