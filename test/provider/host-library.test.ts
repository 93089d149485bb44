/**
 * LibraryFile end to end through the real dynamic-provider host (gRPC) against the emulator:
 * create uploads, a content change re-uploads (override), refresh detects drift and removal against the
 * library listing, delete removes the file.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMdeClient, type MdeClient } from "../../shared/api/client.js";
import { startEmulator } from "../../shared/emulator/index.js";
import type { EmulatorHandle } from "../../shared/emulator/types.js";
import { HostCallError, type Props, ProviderHost } from "./host.js";
import { assertBuilt, makeProgramDir, removeProgramDir, runProgram } from "./program.js";

const TYPE = "pulumi-nodejs:dynamic/mde:LibraryFile";
const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

let emu: EmulatorHandle;
let api: MdeClient;
let host: ProviderHost;
let dir: string;
let provider: string;
const answers: Props[] = [];

const urn = (name: string) => host.urn(TYPE, name);

async function checked(name: string, news: Props): Promise<Props> {
  const { inputs, failures } = await host.check(urn(name), {}, { ...news, __provider: provider });
  expect(failures).toEqual([]);
  return inputs;
}

async function librarySha(fileName: string): Promise<string | null | undefined> {
  return (await api.listLibraryFiles()).find((f) => f.fileName === fileName)?.sha256;
}

beforeAll(async () => {
  assertBuilt();
  emu = await startEmulator({ library: [{ fileName: "theirs.ps1", content: "someone else's" }] });
  api = createMdeClient({
    apiUrl: emu.url,
    authorityHost: emu.authorityHost,
    tenantId: emu.demoApp.tenantId,
    clientId: emu.demoApp.clientId,
    clientSecret: emu.demoApp.clientSecret,
    caPem: emu.caPem,
    clock: emu.clock,
  });
  dir = makeProgramDir();
  const [reg] = runProgram(dir, [
    { kind: "LibraryFile", name: "p", args: { content: "x", fileName: "x.ps1" } },
  ]);
  provider = String(reg?.inputs.__provider);
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
    },
    ["mde:clientSecret"],
  );
});

afterAll(async () => {
  await host?.stop();
  await api?.close();
  await emu?.close();
  if (dir) removeProgramDir(dir);
});

describe("LibraryFile through the dynamic-provider host", () => {
  it("uploads, re-uploads on a content change, detects drift and removal, and deletes", async () => {
    fs.mkdirSync(path.join(dir, "scripts"), { recursive: true });
    const file = path.join(dir, "scripts/collect.ps1");
    fs.writeFileSync(file, "Get-Process # v1");

    const v1 = await checked("collect", { path: "scripts/collect.ps1", description: "process list" });
    expect(v1).toMatchObject({ fileName: "collect.ps1", contentSha256: sha256("Get-Process # v1") });
    const created = await host.create(urn("collect"), v1);
    answers.push(created.properties);
    expect(created.id).toBe("collect.ps1");
    expect(created.properties).toMatchObject({
      fileName: "collect.ps1",
      sha256: sha256("Get-Process # v1"),
      description: "process list",
      __provider: provider,
    });
    expect(await librarySha("collect.ps1")).toBe(sha256("Get-Process # v1"));
    expect((await host.diff(urn("collect"), "collect.ps1", created.properties, v1)).changes).toBe("none");

    // The file changed on disk: check sees new bytes, diff asks for an update, update re-uploads.
    fs.writeFileSync(file, "Get-Process # v2");
    const v2 = await checked("collect", { path: "scripts/collect.ps1", description: "process list" });
    expect(await host.diff(urn("collect"), "collect.ps1", created.properties, v2)).toEqual({
      changes: "some",
      replaces: [],
      deleteBeforeReplace: false,
    });
    const updated = await host.update(urn("collect"), "collect.ps1", created.properties, v2);
    answers.push(updated);
    expect(updated.sha256).toBe(sha256("Get-Process # v2"));
    expect(await librarySha("collect.ps1")).toBe(sha256("Get-Process # v2"));

    // Someone replaced it in the portal: refresh records what the library holds, so the next up differs.
    await api.uploadLibraryFile({
      fileName: "collect.ps1",
      content: Buffer.from("tampered"),
      description: "process list",
      overrideIfExists: true,
    });
    const drifted = await host.read(urn("collect"), "collect.ps1", updated, v2);
    answers.push(drifted.properties);
    expect(drifted.id).toBe("collect.ps1");
    expect(drifted.properties.sha256).toBe(sha256("tampered"));
    expect(drifted.properties.__provider).toBe(provider);
    expect((await host.diff(urn("collect"), "collect.ps1", drifted.properties, v2)).changes).toBe("some");
    const restored = await host.update(urn("collect"), "collect.ps1", drifted.properties, v2);
    expect(restored.sha256).toBe(sha256("Get-Process # v2"));
    // No drift: refresh changes nothing.
    expect((await host.read(urn("collect"), "collect.ps1", restored, v2)).properties).toEqual(restored);

    // Deleted behind our back: refresh returns no id, so Pulumi drops it and the next up uploads again.
    await api.deleteLibraryFile("collect.ps1");
    expect((await host.read(urn("collect"), "collect.ps1", restored, v2)).id).toBe("");

    const again = await host.create(urn("collect"), v2);
    expect(emu.state.libraryFileNames()).toContain("collect.ps1");
    await host.delete(urn("collect"), again.id, again.properties);
    expect(emu.state.libraryFileNames()).not.toContain("collect.ps1");
    // Deleting what is already gone is fine.
    await host.delete(urn("collect"), again.id, again.properties);
  });

  it("uploads inline content, and replaces (new name) rather than updates on a fileName change", async () => {
    const a = await checked("inline", {
      content: "Write-Output hi",
      fileName: "hi.ps1",
      hasParameters: true,
    });
    const created = await host.create(urn("inline"), a);
    expect(created.properties).toMatchObject({ sha256: sha256("Write-Output hi"), hasParameters: true });
    const b = await checked("inline", {
      content: "Write-Output hi",
      fileName: "hello.ps1",
      hasParameters: true,
    });
    expect((await host.diff(urn("inline"), created.id, created.properties, b)).replaces).toEqual([
      "fileName",
    ]);
    await host.delete(urn("inline"), created.id, created.properties);
  });

  it("refuses to take over a library file it does not manage, naming fileName and the fix", async () => {
    const inputs = await checked("theirs", { content: "mine", fileName: "theirs.ps1" });
    const error = await host.create(urn("theirs"), inputs).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(HostCallError);
    expect((error as HostCallError).initFailure).toBeUndefined();
    expect((error as Error).message).toMatch(/fileName: .*already has a file named theirs\.ps1/);
    expect(await librarySha("theirs.ps1")).toBe(sha256("someone else's"));
  });

  it("falls back to the MDE_* environment for settings missing from stack config", async () => {
    const env = {
      ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("MDE_"))),
      MDE_API_URL: emu.url,
      MDE_AUTHORITY_HOST: emu.authorityHost,
      MDE_TENANT_ID: emu.demoApp.tenantId,
      MDE_CLIENT_ID: emu.demoApp.clientId,
      MDE_CLIENT_SECRET: emu.demoApp.clientSecret,
    };
    const other = await ProviderHost.start(dir, { env });
    try {
      // Only the CA comes from config: env and config combine per setting.
      await other.configure({ "mde:caPem": emu.caPem });
      const inputs = (
        await other.check(urn("env"), {}, { content: "env", fileName: "env.ps1", __provider: provider })
      ).inputs;
      const created = await other.create(urn("env"), inputs);
      expect(created.properties.sha256).toBe(sha256("env"));
      await other.delete(urn("env"), created.id, created.properties);
      expect(emu.state.libraryFileNames()).not.toContain("env.ps1");
    } finally {
      await other.stop();
    }
  });

  it("fails with the missing setting named, as config key and variable", async () => {
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("MDE_")));
    const other = await ProviderHost.start(dir, { env });
    try {
      await other.configure({ "mde:apiUrl": emu.url, "mde:clientSecret": "s3cret-value" }, [
        "mde:clientSecret",
      ]);
      const inputs = (
        await other.check(urn("x"), {}, { content: "x", fileName: "x.ps1", __provider: provider })
      ).inputs;
      const error = await other.create(urn("x"), inputs).then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(error?.message).toMatch(/tenantId \(MDE_TENANT_ID\)/);
      expect(error?.message).not.toContain("s3cret-value");
      expect(other.output).not.toContain("s3cret-value");
    } finally {
      await other.stop();
    }
  });

  it("never answers with a credential in clear", () => {
    const text = JSON.stringify(answers) + host.output;
    expect(text).not.toContain(emu.demoApp.clientSecret);
    expect(text).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\./);
  });
});
