import { describe, expect, it } from "vitest";
import * as core from "../../shared/index.js";

describe("public index", () => {
  it("exports the entry points the front ends drive", () => {
    const entryPoints = {
      createMdeClient: core.createMdeClient,
      resolveConnection: core.resolveConnection,
      loadRunbook: core.loadRunbook,
      parseRunbook: core.parseRunbook,
      parseSteps: core.parseSteps,
      buildPlan: core.buildPlan,
      startRun: core.startRun,
      resumeRun: core.resumeRun,
      cancelRun: core.cancelRun,
      readReport: core.readReport,
    };
    for (const [name, fn] of Object.entries(entryPoints)) expect(typeof fn, name).toBe("function");
  });

  it("keeps the emulator a separate entry", () => {
    expect(Object.keys(core)).not.toContain("startEmulator");
  });
});
