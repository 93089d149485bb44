/** Live response library over multipart (§7.16, §4.7–4.9). */
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { errorCode, type Harness, harness } from "./helpers.js";

let h: Harness;
beforeAll(async () => {
  h = await harness({ limits: { libraryMaxBytes: 64 * 1024 } });
});
afterAll(() => h.emu.close());

async function upload(
  fields: Record<string, string>,
  file: { part?: string; name: string; content: string | Uint8Array },
) {
  const form = new FormData();
  form.append(file.part ?? "File", new Blob([file.content]), file.name);
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  const res = await fetch(`${h.emu.url}/api/libraryfiles`, {
    method: "POST",
    headers: { authorization: `Bearer ${h.token}` },
    body: form,
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

describe("§7.16 library", () => {
  test("§7.16 upload → 200 entity; booleans as strings; list shows it", async () => {
    const r = await upload(
      { Description: "collects", ParametersDescription: "-Path", HasParameters: "true" },
      { name: "collect.ps1", content: "Get-ChildItem" },
    );
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({
      fileName: "collect.ps1",
      sha256: createHash("sha256").update("Get-ChildItem").digest("hex"),
      description: "collects",
      hasParameters: true,
      parametersDescription: "-Path",
      createdBy: h.emu.demoApp.clientId,
    });
    expect(r.json.creationTime).toMatch(/^\d{4}-.*\.\d{1,6}[1-9]Z$/);
    const list = await h.call("GET", "/api/libraryfiles");
    expect(list.json["@odata.context"]).toMatch(/#LibraryFiles$/);
    expect((list.json.value as { fileName: string }[]).map((f) => f.fileName)).toEqual(["collect.ps1"]);
  });

  test("§7.16 lowercase 'file' part is accepted", async () => {
    const r = await upload({}, { part: "file", name: "lower.ps1", content: "x" });
    expect(r.status).toBe(200);
    expect(r.json.hasParameters).toBe(false);
  });

  test("§7.16 name clash without OverrideIfExists → 400 'already exists'; with it → replaced", async () => {
    await upload({}, { name: "dup.ps1", content: "v1" });
    const clash = await upload({ OverrideIfExists: "false" }, { name: "dup.ps1", content: "v2" });
    expect(clash.status).toBe(400);
    expect(String((clash.json.error as { message: string }).message)).toContain("already exists");
    const replaced = await upload({ OverrideIfExists: "true" }, { name: "dup.ps1", content: "v2" });
    expect(replaced.status).toBe(200);
    expect(replaced.json.sha256).toBe(createHash("sha256").update("v2").digest("hex"));
  });

  test("§7.16 over the size limit → 400; bad boolean → 400; missing file part → 400", async () => {
    const big = await upload({}, { name: "big.bin", content: new Uint8Array(64 * 1024 + 1) });
    expect(big.status).toBe(400);
    expect(String((big.json.error as { message: string }).message)).toMatch(/limit/);
    const huge = await upload({}, { name: "huge.bin", content: new Uint8Array(2 * 1024 * 1024) });
    expect(huge.status).toBe(400);
    expect((await upload({ HasParameters: "yes" }, { name: "b.ps1", content: "x" })).status).toBe(400);
    const form = new FormData();
    form.append("Description", "no file");
    const res = await fetch(`${h.emu.url}/api/libraryfiles`, {
      method: "POST",
      headers: { authorization: `Bearer ${h.token}` },
      body: form,
    });
    expect(res.status).toBe(400);
  });

  test("§7.16 delete → 204, then 404", async () => {
    await upload({}, { name: "gone.ps1", content: "x" });
    expect((await h.call("DELETE", "/api/libraryfiles/gone.ps1")).status).toBe(204);
    const again = await h.call("DELETE", "/api/libraryfiles/gone.ps1");
    expect(again.status).toBe(404);
    expect(errorCode(again)).toBe("ResourceNotFound");
    expect(h.emu.state.libraryFileNames()).not.toContain("gone.ps1");
  });
});
