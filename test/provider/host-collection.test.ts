/**
 * LiveResponseCollection end to end: the real dynamic-provider host, driven over gRPC in engine order
 * (configure → check → create → diff → update → read → delete), with the `__provider` text a program
 * run produced, against the emulator over loopback. Credentials reach the provider only as stack config.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { startEmulator } from "../../shared/emulator/index.js";
import type { DeviceSpec, EmulatorHandle } from "../../shared/emulator/types.js";
import type { MachineReport, RunReport } from "../../shared/report/types.js";
import { HostCallError, type Props, ProviderHost } from "./host.js";
import { assertBuilt, makeProgramDir, removeProgramDir, runProgram } from "./program.js";

const TYPE = "pulumi-nodejs:dynamic/mde:LiveResponseCollection";
const id = (c: string) => c.repeat(40);
const device = (c: string, name: string, extra: Partial<DeviceSpec> = {}): DeviceSpec => ({
  id: id(c),
  computerDnsName: `${name}.contoso.com`,
  osPlatform: "Windows11",
  scripts: { "collect.ps1": { exitCode: 0, stdout: `hello from ${name}` } },
  files: { "C:\\Temp\\out.txt": `data from ${name}` },
  ...extra,
});
const OK1 = device("1", "ok1");
const OK2 = device("2", "ok2");
const BAD = device("3", "bad", { scripts: { "collect.ps1": { fail: true, stderr: "access denied" } } });
const LATE = device("4", "late", { offline: true });
const GONE = device("5", "gone", { offline: true });
const AWAY = device("6", "away", { offline: true });

let emu: EmulatorHandle;
let host: ProviderHost;
let dir: string;
let provider: string;
/** What the resource class added for custody in the program (pulumi.getProject()/getStack()). */
let pulumiContext: unknown;
/** Every properties object the host answered with, for the secrets check. */
const answers: Props[] = [];

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");
const urn = (name: string) => host.urn(TYPE, name);
const machines = (props: Props) => props.machines as MachineReport[];
const submits = () => emu.records.filter((r) => r.kind === "submit");
const reportIn = (props: Props) =>
  JSON.parse(fs.readFileSync(path.join(dir, String(props.outputDir), "report.json"), "utf8")) as RunReport;

function declaration(extra: Props): Props {
  return {
    commands: [{ runScript: "collect.ps1" }, { getFile: "C:\\Temp\\out.txt" }],
    comment: "INC-1",
    pollInterval: 1,
    ...extra,
    __provider: provider,
  };
}

async function checked(name: string, news: Props): Promise<Props> {
  const { inputs, failures } = await host.check(urn(name), {}, news);
  expect(failures).toEqual([]);
  return inputs;
}

async function create(name: string, inputs: Props): Promise<{ id: string; properties: Props }> {
  const r = await host.create(urn(name), inputs);
  answers.push(r.properties);
  return r;
}

beforeAll(async () => {
  assertBuilt();
  emu = await startEmulator({
    devices: [OK1, OK2, BAD, LATE, GONE, AWAY],
    library: [{ fileName: "collect.ps1", content: "Get-Process" }],
    defaultCommandDurationMs: 200,
    pickupDelayMs: 100,
  });
  dir = makeProgramDir();
  const [reg] = runProgram(dir, [
    {
      kind: "LiveResponseCollection",
      name: "p",
      args: { machineIds: [OK1.id], commands: [{ getFile: "C:\\a" }] },
    },
  ]);
  provider = String(reg?.inputs.__provider);
  pulumiContext = reg?.inputs.pulumiContext;
  // Only stack config: no MDE_* variables leak in from the test environment.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("MDE_")));
  host = await ProviderHost.start(dir, { env });
  await host.configure(
    {
      "mde:apiUrl": emu.url,
      "mde:authorityHost": emu.authorityHost,
      "mde:tenantId": emu.demoApp.tenantId,
      "mde:clientId": emu.demoApp.clientId,
      "mde:clientSecret": emu.demoApp.clientSecret,
      "mde:caPem": emu.caPem,
      "proj:unrelated": "ignored",
    },
    ["mde:clientSecret"],
  );
});

afterAll(async () => {
  await host?.stop();
  await emu?.close();
  if (dir) removeProgramDir(dir);
});

describe("LiveResponseCollection through the dynamic-provider host", () => {
  it("runs a collection once: create → diff (none, also after a package upgrade) → update → read → delete", async () => {
    const news = declaration({ machineIds: [OK1.id, OK2.id], triggers: ["v1"], name: "ok-run" });
    const inputs = await checked("ok", news);
    const { id: runId, properties: outs } = await create("ok", inputs);

    expect(outs.runId).toBe(runId);
    expect(outs.status).toBe("succeeded");
    expect(outs.__provider).toBe(provider);
    expect(outs.triggers).toEqual(["v1"]);
    const byName = Object.fromEntries(machines(outs).map((m) => [m.computerDnsName, m]));
    for (const name of ["ok1", "ok2"]) {
      const m = byName[`${name}.contoso.com`]!;
      expect(m.status).toBe("succeeded");
      expect(m.actionIds).toHaveLength(1);
      expect(m.commands[0]).toMatchObject({ type: "RunScript", status: "succeeded", exitCode: 0 });
      expect(m.commands[0]?.stdout).toContain(`hello from ${name}`);
      expect(m.commands[1]).toMatchObject({
        type: "GetFile",
        status: "succeeded",
        sha256: sha256(`data from ${name}`),
        bytes: `data from ${name}`.length,
      });
      // The collected file is where the output says, under the program directory.
      const file = path.join(dir, String(outs.outputDir), m.commands[1]!.file!);
      expect(fs.readFileSync(file, "utf8")).toBe(`data from ${name}`);
    }
    expect(String(outs.outputDir)).toMatch(/^mde-lr-out\/pulumi\//);
    expect(fs.existsSync(path.join(dir, String(outs.outputDir), "report.json"))).toBe(true);
    // Custody without the class's pulumiContext (args built by hand, or state from an older version):
    // the host knows the project (PULUMI_NODEJS_PROJECT), not the stack.
    expect(reportIn(outs).custody?.sessions.map((x) => x.initiator)).toEqual([
      { kind: "pulumi", project: "proj" },
    ]);
    expect(reportIn(outs).custody?.runbook).toMatchObject({
      name: "ok-run",
      hashOf: "text",
      label: "LiveResponseCollection args (as JSON)",
      path: null,
    });
    expect(submits()).toHaveLength(2);
    // Progress reaches the Pulumi CLI through the host's console output.
    // (Console output and gRPC answers travel on different pipes: wait for the text, do not assume order.)
    await vi.waitFor(() => {
      expect(host.output).toContain(`mde-live-response ok-run: run ${runId}: 2 device(s)`);
      expect(host.output).toContain(`folder ${outs.outputDir}`);
      expect(host.output).toContain(`mde-live-response ok-run: ${OK1.id} succeeded`);
    });
    // The run name and comment reach the service.
    expect(submits().every((s) => s.kind === "submit" && s.comment.startsWith("INC-1"))).toBe(true);

    // A second `up` with the same declaration, and one after upgrading the package: nothing to do.
    expect((await host.diff(urn("ok"), runId, outs, inputs)).changes).toBe("none");
    const upgraded = { ...inputs, __provider: `${provider}\n// mde-live-response 0.2.0` };
    expect((await host.diff(urn("ok"), runId, outs, upgraded)).changes).toBe("none");

    // Watch settings change in place; the run is not repeated and its results are kept.
    const slower = await checked("ok", { ...news, timeout: "45m" });
    expect(await host.diff(urn("ok"), runId, outs, slower)).toEqual({
      changes: "some",
      replaces: [],
      deleteBeforeReplace: false,
    });
    const updated = await host.update(urn("ok"), runId, outs, slower);
    answers.push(updated);
    expect(updated).toMatchObject({ runId, status: "succeeded", timeout: "45m", outputDir: outs.outputDir });
    expect(updated.machines).toEqual(outs.machines);
    expect(submits()).toHaveLength(2);

    // Refresh of a finished run: the facts come back unchanged.
    const read = await host.read(urn("ok"), runId, updated, slower);
    answers.push(read.properties);
    expect(read.id).toBe(runId);
    expect(read.properties).toEqual(updated);

    // Destroy: results are facts, not infrastructure; nothing is cancelled, the folder stays.
    await host.delete(urn("ok"), runId, updated);
    expect(emu.records.filter((r) => r.kind === "cancel")).toHaveLength(0);
    expect(fs.existsSync(path.join(dir, String(outs.outputDir), "report.json"))).toBe(true);
  });

  it("re-runs on a trigger change: replace = a new run, and the old one's delete is a no-op", async () => {
    const first = await checked("trig", declaration({ machineIds: [OK1.id], triggers: [1] }));
    const a = await create("trig", first);
    const second = await checked("trig", declaration({ machineIds: [OK1.id], triggers: [2] }));
    expect(await host.diff(urn("trig"), a.id, a.properties, second)).toEqual({
      changes: "some",
      replaces: ["triggers"],
      deleteBeforeReplace: false,
    });
    const before = submits().length;
    const b = await create("trig", second);
    await host.delete(urn("trig"), a.id, a.properties);
    expect(b.id).not.toBe(a.id);
    expect(b.properties.status).toBe("succeeded");
    expect(b.properties.outputDir).not.toBe(a.properties.outputDir);
    expect(submits().length).toBe(before + 1);
  });

  it("records a partial failure as partial state: id, everything collected, __provider and reasons", async () => {
    const inputs = await checked("mixed", declaration({ machineIds: [OK2.id, BAD.id] }));
    const error = await host.create(urn("mixed"), inputs).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(HostCallError);
    const failure = (error as HostCallError).initFailure;
    expect(failure).toBeDefined();
    answers.push(failure!.properties);
    expect(failure!.message).toMatch(/1 of 2 devices did not succeed/);
    expect(failure!.id).toBe(failure!.properties.runId);
    // Without __provider a later delete or refresh could not load the provider.
    expect(failure!.properties.__provider).toBe(provider);
    expect(failure!.properties.commands).toEqual(inputs.commands);
    const byId = Object.fromEntries(machines(failure!.properties).map((m) => [m.machineId, m]));
    expect(byId[OK2.id!]?.status).toBe("succeeded");
    expect(byId[OK2.id!]?.commands[0]?.stdout).toContain("hello from ok2");
    expect(byId[BAD.id!]?.status).toBe("failed");
    expect(failure!.reasons.join("\n")).toContain("bad.contoso.com");
    // Nothing pending: deleting the recorded resource cancels nothing.
    await host.delete(urn("mixed"), failure!.id, failure!.properties);
    expect(emu.records.filter((r) => r.kind === "cancel")).toHaveLength(0);
  });

  it("leaves a run pending past detachAfter, and refresh (read) fills in the results later", {
    timeout: 120_000,
  }, async () => {
    // The program's registration carries the project and stack; check keeps them, diff ignores them.
    expect(pulumiContext).toEqual({ project: "proj", stack: "dev" });
    const inputs = await checked(
      "late",
      declaration({ machineIds: [LATE.id], detachAfter: 1, pulumiContext }),
    );
    expect(inputs.pulumiContext).toEqual(pulumiContext);
    const { id: runId, properties: outs } = await create("late", inputs);
    expect(outs.status).toBe("pending");
    // A renamed stack, or state from before pulumiContext existed, is not a change to the collection.
    const { pulumiContext: _old, ...olderState } = outs;
    expect((await host.diff(urn("late"), runId, olderState, inputs)).changes).toBe("none");
    expect(machines(outs)[0]?.status).toBe("pending");
    expect(machines(outs)[0]?.actionIds).toHaveLength(1);

    // Still offline: refresh re-polls and keeps it pending, without failing.
    const still = await host.read(urn("late"), runId, outs, inputs);
    expect(still.properties.status).toBe("pending");

    emu.configure({ devices: [{ ...LATE, offline: false }] });
    let props = still.properties;
    for (let i = 0; i < 20 && props.status === "pending"; i++) {
      const r = await host.read(urn("late"), runId, props, inputs);
      expect(r.id).toBe(runId);
      props = r.properties;
    }
    answers.push(props);
    expect(props.status).toBe("succeeded");
    expect(props.__provider).toBe(provider);
    const m = machines(props)[0]!;
    expect(m.status).toBe("succeeded");
    expect(m.commands[0]?.stdout).toContain("hello from late");
    expect(m.commands[1]?.sha256).toBe(sha256("data from late"));
    // Custody: the `up` that created it, then each refresh that resumed it, all as proj/dev.
    const custody = reportIn(props).custody;
    const roles = custody?.sessions.map((x) => x.role) ?? [];
    expect(roles[0]).toBe("start");
    expect(roles.length).toBeGreaterThanOrEqual(3);
    expect(roles.slice(1).every((r) => r === "resume")).toBe(true);
    for (const x of custody?.sessions ?? []) {
      expect(x.initiator).toEqual({ kind: "pulumi", project: "proj", stack: "dev" });
      expect(x.app).toEqual({
        clientId: emu.demoApp.clientId,
        tenantId: emu.demoApp.tenantId,
        source: "connection",
      });
    }
    expect(custody?.requestors).toEqual([emu.demoApp.clientId]);
    expect(m.commands[1]?.downloadedAt).toEqual(expect.any(String));
  });

  it("cancels this run's unfinished actions on delete, and only those", async () => {
    const inputs = await checked("gone", declaration({ machineIds: [GONE.id], detachAfter: 1 }));
    const { id: runId, properties: outs } = await create("gone", inputs);
    expect(outs.status).toBe("pending");
    const actionId = machines(outs)[0]!.actionIds[0];
    await host.delete(urn("gone"), runId, outs);
    const cancels = emu.records.filter((r) => r.kind === "cancel");
    expect(cancels.map((c) => c.kind === "cancel" && c.actionId)).toEqual([actionId]);
    expect(reportIn(outs).custody?.sessions.map((x) => x.role)).toEqual(["start", "cancel"]);
  });

  it("without the run folder (another machine), refresh keeps the state and destroy still cancels from state", async () => {
    const inputs = await checked("away", declaration({ machineIds: [AWAY.id], detachAfter: 1 }));
    const { id: runId, properties: outs } = await create("away", inputs);
    expect(outs.status).toBe("pending");
    fs.rmSync(path.join(dir, String(outs.outputDir)), { recursive: true });

    const read = await host.read(urn("away"), runId, outs, inputs);
    expect(read.properties).toEqual(outs);
    await vi.waitFor(() => expect(host.output).toContain(`run ${runId} is pending but its folder`));

    const actionId = machines(outs)[0]!.actionIds[0];
    await host.delete(urn("away"), runId, outs);
    expect(emu.records.some((r) => r.kind === "cancel" && r.actionId === actionId)).toBe(true);
  });

  // These spend the tenant's 10 submissions/min quota (one account per host): after the detach tests.
  it("a machine id that does not exist is never a success: status partial, its own entry, up fails naming it", async () => {
    const ghost = id("9");
    const inputs = await checked("ghost", declaration({ machineIds: [OK1.id, ghost] }));
    const error = await host.create(urn("ghost"), inputs).then(
      () => undefined,
      (e: unknown) => e,
    );
    const failure = (error as HostCallError).initFailure;
    expect(failure).toBeDefined();
    answers.push(failure!.properties);
    expect(failure!.properties.status).toBe("partial");
    const entry = machines(failure!.properties).find((m) => m.machineId === ghost);
    expect(entry).toMatchObject({ status: "unresolved", error: { code: "Target.NotFound" } });
    expect(failure!.reasons.join("\n")).toContain(ghost);
    await host.delete(urn("ghost"), failure!.id, failure!.properties);
  });

  it("options.onUnresolved: warn accepts it: the resource is created, status succeeded", async () => {
    const inputs = await checked(
      "ghost-ok",
      declaration({ machineIds: [OK1.id, id("8")], options: { onUnresolved: "warn" } }),
    );
    const r = await create("ghost-ok", inputs);
    expect(r.properties.status).toBe("succeeded");
    expect(
      machines(r.properties)
        .map((m) => m.status)
        .sort(),
    ).toEqual(["succeeded", "unresolved"]);
  });

  it("never answers with a credential, token or signed download link in clear", () => {
    const text = JSON.stringify(answers) + host.output;
    expect(answers.length).toBeGreaterThan(5);
    expect(text).not.toContain(emu.demoApp.clientSecret);
    expect(text).not.toMatch(/sig=|eyJ[A-Za-z0-9_-]{10,}\./);
    expect(text).not.toContain("BEGIN CERTIFICATE");
  });
});
