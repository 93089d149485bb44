/**
 * Artifact upload through the real @actions/artifact client against the local results-service fake
 * and Azurite blob storage; the uploaded zip is downloaded back and opened.
 */
import { existsSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listUploadFiles, uploadOutputFolder } from "../../action/artifact.js";
import { type ResultsService, startResultsService } from "./harness/results-service.js";
import { readZip } from "./harness/zip.js";

let service: ResultsService;
const env = {
  GITHUB_REPOSITORY: "contoso/ir",
  GITHUB_RUN_ID: "77",
  GITHUB_SERVER_URL: "http://github.localhost",
};

beforeAll(async () => {
  service = await startResultsService();
  Object.assign(process.env, {
    ACTIONS_RUNTIME_TOKEN: service.runtimeToken,
    ACTIONS_RESULTS_URL: service.url,
    NO_PROXY: "127.0.0.1,localhost",
    ...env,
  });
});
afterAll(async () => {
  await service?.close();
});

function outputFolder(): string {
  const root = mkdtempSync(path.join(tmpdir(), "mde-art-"));
  const out = path.join(root, "out");
  mkdirSync(path.join(out, "devices", "ws1", "step-2"), { recursive: true });
  writeFileSync(path.join(out, "report.json"), '{"schemaVersion":1}');
  writeFileSync(path.join(out, "devices", "ws1", "step-2", "C_Windows_Temp_a.zip"), "collected bytes");
  writeFileSync(path.join(out, ".journal"), "dotfiles are uploaded too");
  writeFileSync(path.join(root, "secret.txt"), "runner file");
  symlinkSync(path.join(root, "secret.txt"), path.join(out, "devices", "link.txt"));
  writeFileSync(path.join(out, "devices", "bad:name.txt"), "x");
  // A sibling whose name shares the prefix: the client's own root check would accept it.
  mkdirSync(path.join(root, "out2"));
  writeFileSync(path.join(root, "out2", "other.txt"), "not ours");
  return out;
}

describe("artifact upload", { timeout: 120_000 }, () => {
  it("uploads the output folder as one zip, without symlinks or names the service rejects", async () => {
    const out = outputFolder();
    const listed = listUploadFiles(out);
    expect(listed.skipped).toEqual([
      { path: "devices/bad:name.txt", reason: "name has characters the artifact service rejects" },
      { path: "devices/link.txt", reason: "symbolic link" },
    ]);
    const outcome = await uploadOutputFolder({ name: "lr-results-1", root: out, retentionDays: 3, env });
    expect(outcome.ok).toBe(true);
    if (!outcome.ok) return;
    expect(outcome.url).toBe(`http://github.localhost/contoso/ir/actions/runs/77/artifacts/${outcome.id}`);
    const zip = readZip(await service.download("lr-results-1"));
    expect([...zip.keys()].sort()).toEqual([
      ".journal",
      "devices/ws1/step-2/C_Windows_Temp_a.zip",
      "report.json",
    ]);
    expect(zip.get("devices/ws1/step-2/C_Windows_Temp_a.zip")?.toString()).toBe("collected bytes");
    const stored = service.artifacts.find((a) => a.name === "lr-results-1");
    const days = (Date.parse(stored?.expiresAt ?? "") - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(2.9);
    expect(days).toBeLessThan(3.1);
  });

  it("a name clash says which name and how to fix it, and keeps the results on disk", async () => {
    const out = outputFolder();
    expect((await uploadOutputFolder({ name: "clash", root: out, retentionDays: 1, env })).ok).toBe(true);
    const second = await uploadOutputFolder({ name: "clash", root: out, retentionDays: 1, env });
    expect(second.ok).toBe(false);
    if (second.ok) return;
    expect(second.message).toContain('An artifact named "clash" already exists');
    expect(second.message).toContain("artifact-name");
    expect(second.message).toContain(`kept on disk at ${out}`);
    expect(existsSync(path.join(out, "report.json"))).toBe(true);
  });

  it("a quota error is reported as such and loses nothing", async () => {
    const out = outputFolder();
    service.failNextCreate(403, {
      code: "resource_exhausted",
      msg: "Artifact storage quota has been hit: insufficient usage",
    });
    const outcome = await uploadOutputFolder({ name: "quota", root: out, retentionDays: 1, env });
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.message).toContain("quota");
    expect(outcome.message).toContain(`kept on disk at ${out}`);
  });
});
