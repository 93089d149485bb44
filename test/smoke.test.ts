import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";

describe("mde-lr", () => {
  it("prints help and exits 0", () => {
    const r = spawnSync(process.execPath, ["bin/mde-lr.js", "--help"], { encoding: "utf8" });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("Usage: mde-lr");
  });
  it("rejects an unknown command with exit 2", () => {
    const r = spawnSync(process.execPath, ["bin/mde-lr.js", "frobnicate"], { encoding: "utf8" });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("frobnicate");
  });
});
