/**
 * A default never turns a valid value into an error: options the runbook leaves out adapt to the ones it
 * states; only stated values can contradict each other (and then the error names the field and the fix).
 */
import { describe, expect, it } from "vitest";
import { ValidationError } from "../../shared/errors.js";
import { overrideTargets, parseRunbook } from "../../shared/runbook/index.js";

function runbook(options: string, targets = "tags: [Finance]"): ReturnType<typeof parseRunbook> {
  return parseRunbook(
    `name: d\ntargets: { ${targets} }\ncommands: [{ getFile: 'C:\\x' }]\noptions: { ${options} }\n`,
    {
      baseDir: "/tmp",
    },
  );
}

function issues(options: string, targets?: string): string[] {
  try {
    runbook(options, targets);
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as ValidationError).issues.map((i) => `${i.path}: ${i.message}`);
  }
  return [];
}

const ids = (n: number) => Array.from({ length: n }, (_, i) => `b${i.toString(16).padStart(39, "0")}`);

describe("defaults adapt to stated options", () => {
  it("a short timeout gets a poll interval below it (timeout 5 s → every 1.25 s), also tiny ones", () => {
    expect(runbook("timeout: 5").options).toMatchObject({ timeoutMs: 5_000, pollIntervalMs: 1_250 });
    expect(runbook("timeout: 1").options.pollIntervalMs).toBeLessThan(1_000);
    expect(runbook("timeout: 30m").options.pollIntervalMs).toBe(10_000);
    expect(runbook("timeout: 72h").options.pollIntervalMs).toBe(10_000);
  });

  it("a long stated poll interval gets a timeout that leaves room for polls", () => {
    expect(runbook("pollInterval: 2h").options).toMatchObject({
      pollIntervalMs: 7_200_000,
      timeoutMs: 8 * 3_600_000,
    });
    expect(runbook("pollInterval: 20h").options.timeoutMs).toBe(72 * 3_600_000);
  });

  it("the device cap grows to the ids and names listed, and to a stated canary, unless maxDevices is stated", () => {
    const listed = `machineIds: [${ids(300).join(", ")}]`;
    expect(runbook("timeout: 30m", listed).options.maxDevices).toBe(300);
    expect(runbook("canary: 80").options.maxDevices).toBe(80);
    expect(runbook("timeout: 30m").options.maxDevices).toBe(50);
    expect(issues("maxDevices: 10, canary: 20")).toEqual([
      "options.canary: is larger than options.maxDevices (10); lower canary or raise maxDevices (line 4, column 36)",
    ]);
  });

  it("a front end's machine ids (--machine, machine-ids) lift an unstated cap, never a stated one", () => {
    const rb = runbook("timeout: 30m");
    expect(overrideTargets(rb, ids(120)).options.maxDevices).toBe(120);
    expect(overrideTargets(runbook("maxDevices: 5"), ids(120)).options.maxDevices).toBe(5);
    expect(overrideTargets(rb, [...ids(3), ids(3)[0]!.toUpperCase()]).targets.machineIds).toHaveLength(3);
  });

  it("limits: an unstated one adapts to a stated one; both stated may conflict", () => {
    expect(runbook("limits: { callsPerMinute: 2000 }").options.limits).toEqual({ callsPerMinute: 2000 });
    expect(issues("limits: { callsPerMinute: 2000 }")).toEqual([]);
    expect(issues("limits: { callsPerMinute: 2000, callsPerHour: 1000 }")[0]).toMatch(
      /^options\.limits\.callsPerMinute: is larger than limits\.callsPerHour/,
    );
  });

  it("only stated values conflict: timeout 5 with pollInterval 10 names pollInterval", () => {
    expect(issues("timeout: 5, pollInterval: 10")[0]).toMatch(
      /^options\.pollInterval: must be shorter than options\.timeout/,
    );
    expect(issues("pollInterval: 80h")[0]).toMatch(/^options\.pollInterval: must be shorter than 72h/);
  });

  it("records which options were stated", () => {
    expect(runbook("timeout: 5, canary: 2").options.stated.sort()).toEqual(["canary", "timeout"]);
  });
});
