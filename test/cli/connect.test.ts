/** The CLI's connection flags reach the client: against the emulator over loopback, no MDE_* but the secret. */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect } from "../../shared/cli/connect.js";
import { startEmulator } from "../../shared/emulator/index.js";
import type { EmulatorHandle } from "../../shared/emulator/types.js";
import { InputError } from "../../shared/errors.js";

let emu: EmulatorHandle;
let tmp: string;
let caFile: string;

beforeAll(async () => {
  emu = await startEmulator();
  tmp = await mkdtemp(join(tmpdir(), "mde-lr-connect-"));
  caFile = join(tmp, "ca.pem");
  await writeFile(caFile, emu.caPem);
}, 60_000);

afterAll(async () => {
  await emu?.close();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

async function inputError(promise: Promise<unknown>): Promise<InputError> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(InputError);
  return err as InputError;
}

describe("connect (CLI flags)", () => {
  it("signs in with --api-url, --authority-host, --tenant-id, --client-id and --ca-file", async () => {
    const conn = await connect(
      {
        apiUrl: emu.url,
        authorityHost: emu.authorityHost,
        tenantId: emu.demoApp.tenantId,
        clientId: emu.demoApp.clientId,
        caFile,
      },
      { MDE_CLIENT_SECRET: emu.demoApp.clientSecret },
    );
    try {
      expect(conn.emulator).toBeNull();
      const machines = await conn.api.listMachines();
      expect(machines.map((m) => m.id).sort()).toEqual([...emu.state.machineIds()].sort());
    } finally {
      await conn.close();
    }
  });

  it("--client-certificate is the certificate path the settings check", async () => {
    const err = await inputError(
      connect(
        {
          tenantId: emu.demoApp.tenantId,
          clientId: emu.demoApp.clientId,
          clientCertificate: join(tmp, "nope.pem"),
        },
        {},
      ),
    );
    expect(err.field).toBe("clientCertificatePath (MDE_CLIENT_CERTIFICATE)");
  });

  it("--emulator refuses every tenant flag, naming it", async () => {
    for (const [flags, name] of [
      [{ region: "eu" }, "--region"],
      [{ cloud: "gcc" }, "--cloud"],
      [{ caFile }, "--ca-file"],
    ] as const) {
      const err = await inputError(connect({ emulator: true, ...flags }, {}));
      expect(err.message).toContain(`can't be combined with ${name}`);
    }
  });
});
