import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { formatManifest, parseManifest, sha256File, writeManifest } from "../../shared/results/manifest.js";
import { tempDir } from "../run/helpers.js";

const hex = (b: string | Buffer) => createHash("sha256").update(b).digest("hex");

describe("manifest.sha256", () => {
  it("is sorted `sha256  path` lines that sha256sum -c accepts, and catches a tampered file", () => {
    const root = tempDir("manifest");
    const files: Record<string, string> = {
      "dev_b/02-C_x.bin": "bytes of x",
      "dev_a/01-collect.ps1.stdout.txt": "stdout text\n",
      "dev_a/01-collect.ps1.transcript.json": '{"exit_code":0}',
    };
    for (const [rel, content] of Object.entries(files)) {
      mkdirSync(path.join(root, path.dirname(rel)), { recursive: true });
      writeFileSync(path.join(root, rel), content);
    }
    writeManifest(
      root,
      Object.entries(files).map(([file, content]) => ({ file, sha256: hex(content) })),
    );
    const check = spawnSync("sha256sum", ["-c", "manifest.sha256"], { cwd: root, encoding: "utf8" });
    expect(check.status, check.stdout + check.stderr).toBe(0);

    writeFileSync(path.join(root, "dev_b/02-C_x.bin"), "tampered");
    const again = spawnSync("sha256sum", ["-c", "manifest.sha256"], { cwd: root, encoding: "utf8" });
    expect(again.status).not.toBe(0);
    expect(again.stdout).toContain("dev_b/02-C_x.bin: FAILED");
  });

  it("round-trips and orders entries by path", () => {
    const text = formatManifest([
      { file: "b/x", sha256: "b".repeat(64) },
      { file: "a/y", sha256: "a".repeat(64) },
    ]);
    expect(text).toBe(`${"a".repeat(64)}  a/y\n${"b".repeat(64)}  b/x\n`);
    expect(parseManifest(text).map((e) => e.file)).toEqual(["a/y", "b/x"]);
  });

  it("refuses names sha256sum would have to escape, and bad hashes", () => {
    expect(() => formatManifest([{ file: "a\nb", sha256: "a".repeat(64) }])).toThrow(/unsafe/);
    expect(() => formatManifest([{ file: "a\\b", sha256: "a".repeat(64) }])).toThrow(/unsafe/);
    expect(() => formatManifest([{ file: "a", sha256: "xyz" }])).toThrow(/sha256/);
  });

  it("hashes a file by streaming it", async () => {
    const root = tempDir("hash");
    const big = Buffer.alloc(3 * 1024 * 1024, 5);
    writeFileSync(path.join(root, "big"), big);
    expect(await sha256File(path.join(root, "big"))).toEqual({ sha256: hex(big), bytes: big.length });
  });
});
