/**
 * Pulumi enforces no timeout on a dynamic provider's create and never passes Ctrl-C to it: the
 * collection's own `timeout` (per device, as in runbooks) is what ends `pulumi up` for a device that
 * never answers. Through the real dynamic-provider host, against the emulator.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator } from "../../shared/emulator/index.js";
import type { EmulatorHandle } from "../../shared/emulator/types.js";
import type { MachineReport } from "../../shared/report/types.js";
import { HostCallError, ProviderHost } from "./host.js";
import { assertBuilt, makeProgramDir, removeProgramDir, runProgram } from "./program.js";

const TYPE = "pulumi-nodejs:dynamic/mde:LiveResponseCollection";
const NEVER = {
  id: "7".repeat(40),
  computerDnsName: "never.contoso.com",
  osPlatform: "Windows11",
  offline: true,
};

let emu: EmulatorHandle;
let host: ProviderHost;
let provider: string;
let token: string;
let dir: string;

beforeAll(async () => {
  assertBuilt();
  emu = await startEmulator({ devices: [NEVER], defaultCommandDurationMs: 200, pickupDelayMs: 100 });
  dir = makeProgramDir();
  const [reg] = runProgram(dir, [
    {
      kind: "LiveResponseCollection",
      name: "p",
      args: { machineIds: [NEVER.id], commands: [{ getFile: "C:\\a" }] },
    },
  ]);
  provider = String(reg?.inputs.__provider);
  token = emu.issueToken();
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("MDE_")));
  host = await ProviderHost.start(dir, { env });
  await host.configure(
    {
      "mde:apiUrl": emu.url,
      "mde:authorityHost": emu.authorityHost,
      "mde:caPem": emu.caPem,
      "mde:accessToken": token,
    },
    ["mde:accessToken"],
  );
});

afterAll(async () => {
  await host?.stop();
  await emu?.close();
  if (dir) removeProgramDir(dir);
});

describe("LiveResponseCollection deadline", () => {
  it("ends create at the per-device timeout: the action is cancelled, the device timedOut, the run recorded", async () => {
    const urn = host.urn(TYPE, "never");
    const news = {
      machineIds: [NEVER.id],
      commands: [{ getFile: "C:\\Temp\\x.txt" }],
      timeout: 3,
      pollInterval: 1,
    };
    const { inputs, failures } = await host.check(urn, {}, { ...news, __provider: provider });
    expect(failures).toEqual([]);
    const error = await host.create(urn, inputs).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(HostCallError);
    const failure = (error as HostCallError).initFailure!;
    const [machine] = failure.properties.machines as MachineReport[];
    expect(machine?.status).toBe("timedOut");
    expect(failure.reasons.join("\n")).toContain("never.contoso.com");
    // The service saw the cancellation of exactly that action: nothing is left queued on the device.
    expect(
      emu.records.filter((r) => r.kind === "cancel").map((r) => r.kind === "cancel" && r.actionId),
    ).toEqual(machine?.actionIds);
    expect(failure.properties.__provider).toBe(provider);
    // Signed in with a bare access token from stack config: it appears nowhere in what the host returned.
    const text = JSON.stringify(failure) + host.output;
    expect(text).not.toContain(token);
    expect(text).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\./);
    expect(text).not.toMatch(/sig=/);
  });
});
