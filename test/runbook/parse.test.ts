import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { InputError, ValidationError } from "../../shared/errors.js";
import { loadRunbook, parseRunbook, parseSteps } from "../../shared/runbook/index.js";

function issuesOf(fn: () => unknown): { path: string; message: string }[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    return (err as ValidationError).issues;
  }
  throw new Error("expected a ValidationError");
}

const ISSUE_EXAMPLE = `
name: triage-ir-1234
comment: "IR-1234 initial triage"
targets:
  machineIds: [1E5BC9D7E413DDD7902C2932E418702B84D0CC07]
  computerNames: [ws-001.contoso.com]
  tags: [ir-1234]
  filter: "healthStatus eq 'Active' and osPlatform eq 'Windows11'"
commands:
  - putFile: tool.exe
  - runScript: collect.ps1
    args: "-Days 7"
  - getFile: 'C:\\Windows\\Temp\\collect.zip'
library:
  - path: scripts/collect.ps1
    description: "Collects triage data"
    parametersDescription: "-Days <n>"
    hasParameters: true
options:
  timeout: 45m
  pollInterval: 10
  onActiveSession: wait
  maxConcurrentSessions: 25
  maxDevices: 50
  canary: 0
  limits:
    submitPerMinute: 10
    callsPerMinute: 100
    callsPerHour: 1500
`;

describe("parseRunbook", () => {
  it("normalises the issue's example", () => {
    const rb = parseRunbook(ISSUE_EXAMPLE, { sourcePath: "rb.yaml", baseDir: "/repo/runbooks" });
    expect(rb.name).toBe("triage-ir-1234");
    expect(rb.comment).toBe("IR-1234 initial triage");
    expect(rb.targets).toEqual({
      machineIds: ["1e5bc9d7e413ddd7902c2932e418702b84d0cc07"],
      computerNames: ["ws-001.contoso.com"],
      tags: ["ir-1234"],
      filter: "healthStatus eq 'Active' and osPlatform eq 'Windows11'",
    });
    expect(rb.commands).toEqual([
      { type: "PutFile", fileName: "tool.exe" },
      { type: "RunScript", scriptName: "collect.ps1", args: "-Days 7" },
      { type: "GetFile", path: "C:\\Windows\\Temp\\collect.zip" },
    ]);
    expect(rb.library).toEqual([
      {
        path: "/repo/runbooks/scripts/collect.ps1",
        fileName: "collect.ps1",
        description: "Collects triage data",
        parametersDescription: "-Days <n>",
        hasParameters: true,
      },
    ]);
    expect(rb.options.timeoutMs).toBe(45 * 60_000);
    expect(rb.options.pollIntervalMs).toBe(10_000);
    expect(rb.options.onIneligible).toBe("skip");
    expect(rb.options.limits).toEqual({ submitPerMinute: 10, callsPerMinute: 100, callsPerHour: 1500 });
    expect(JSON.parse(JSON.stringify(rb))).toEqual(rb);
  });

  it("applies defaults for a minimal runbook", () => {
    const rb = parseRunbook("name: x\ntargets: {tags: [a]}\ncommands: [{getFile: /tmp/a}]\n");
    expect(rb.comment).toBeNull();
    expect(rb.library).toEqual([]);
    expect(rb.options).toMatchObject({
      timeoutMs: 1_800_000,
      pollIntervalMs: 10_000,
      onActiveSession: "wait",
      onIneligible: "skip",
      maxConcurrentSessions: 25,
      maxDevices: 50,
      canary: 0,
    });
  });

  it("parses durations in seconds, s, m and h", () => {
    const base = "name: x\ntargets: {tags: [a]}\ncommands: [{getFile: a}]\noptions:\n";
    expect(parseRunbook(`${base}  timeout: 90\n`).options.timeoutMs).toBe(90_000);
    const short = parseRunbook(`${base}  timeout: 30s\n  pollInterval: 5s\n`).options;
    expect([short.timeoutMs, short.pollIntervalMs]).toEqual([30_000, 5_000]);
    expect(parseRunbook(`${base}  timeout: 2h\n`).options.timeoutMs).toBe(7_200_000);
  });

  it("names the field, what was found and the line for a wrong type", () => {
    const text = "name: x\ntargets: {tags: [a]}\ncommands:\n  - runScript: a.ps1\n  - getFile: [a, b]\n";
    const issues = issuesOf(() => parseRunbook(text));
    expect(issues).toHaveLength(1);
    expect(issues[0]!.path).toBe("commands[1].getFile");
    expect(issues[0]!.message).toMatch(/^expected a device path, got a list/);
    expect(issues[0]!.message).toContain("line 5, column 14");
  });

  it("rejects unknown keys with a suggestion and their position", () => {
    const text = "name: x\ntargets: {tags: [a]}\ncommands: [{getFile: a}]\noptions:\n  timout: 5m\n";
    const issues = issuesOf(() => parseRunbook(text));
    expect(issues).toEqual([
      {
        path: "options.timout",
        message: expect.stringMatching(/unknown key; did you mean "timeout"\?.*line 5, column 3/),
      },
    ]);
  });

  it("reports one message per bad step, without oneOf branch noise", () => {
    const text = [
      "name: x",
      "targets: {tags: [a]}",
      "commands:",
      "  - putFile: a.exe",
      "    getFile: b",
      "  - {}",
      "  - args: -x",
      "",
    ].join("\n");
    const issues = issuesOf(() => parseRunbook(text));
    expect(issues.map((i) => i.path)).toEqual(["commands[0]", "commands[1]", "commands[2]"]);
    expect(issues[0]!.message).toMatch(/putFile and getFile; split it into 2 steps/);
    expect(issues[1]!.message).toMatch(/needs one of putFile, runScript or getFile/);
    expect(issues[2]!.message).toMatch(/args belongs to a runScript step/);
  });

  it("collects every problem at once", () => {
    const text =
      "comment: 5\ntargets: {}\ncommands: []\noptions: {onActiveSession: maybe, pollInterval: 0}\n";
    const issues = issuesOf(() => parseRunbook(text));
    const paths = issues.map((i) => i.path).sort();
    expect(paths).toEqual(["commands", "comment", "name", "options.onActiveSession", "options.pollInterval"]);
    expect(issues.find((i) => i.path === "options.onActiveSession")!.message).toMatch(
      /expected wait or fail, got "maybe"/,
    );
    expect(issues.find((i) => i.path === "name")!.message).toMatch(/is required/);
  });

  it("requires at least one target selector", () => {
    const issues = issuesOf(() => parseRunbook("name: x\ntargets: {tags: []}\ncommands: [{getFile: a}]\n"));
    expect(issues).toEqual([{ path: "targets", message: expect.stringMatching(/at least one selector/) }]);
  });

  it("checks library names: characters, reserved Windows names, duplicates", () => {
    const text = [
      "name: x",
      "targets: {tags: [a]}",
      "commands:",
      "  - putFile: 'tool v2.exe'",
      "  - runScript: CON.ps1",
      "library:",
      "  - path: scripts/a.ps1",
      "  - path: other/A.ps1",
      "  - path: 'scripts/bad name.ps1'",
      "",
    ].join("\n");
    const issues = issuesOf(() => parseRunbook(text));
    expect(issues.map((i) => i.path)).toEqual(["commands[0].putFile"]);
    const after = issuesOf(() => parseRunbook(text.replace("'tool v2.exe'", "tool.exe")));
    expect(after.map((i) => i.path)).toEqual(["commands[1].runScript", "library[1].path", "library[2].path"]);
    expect(after[0]!.message).toMatch(/reserved Windows device name/);
    expect(after[1]!.message).toMatch(/already listed at library\[0\]/);
  });

  it("keeps device paths as written, rejects NUL and empty", () => {
    const ok = parseRunbook(
      "name: x\ntargets: {tags: [a]}\ncommands:\n  - getFile: '\\\\server\\share\\..\\x.log'\n  - getFile: \"C:\\\\a b\\\\c.txt\"\n",
    );
    expect(ok.commands).toEqual([
      { type: "GetFile", path: "\\\\server\\share\\..\\x.log" },
      { type: "GetFile", path: "C:\\a b\\c.txt" },
    ]);
    const nul = issuesOf(() =>
      parseRunbook('name: x\ntargets: {tags: [a]}\ncommands: [{getFile: "a\\0b"}]\n'),
    );
    expect(nul[0]!.path).toBe("commands[0].getFile");
    const empty = issuesOf(() => parseRunbook("name: x\ntargets: {tags: [a]}\ncommands: [{getFile: ''}]\n"));
    expect(empty[0]).toEqual({
      path: "commands[0].getFile",
      message: expect.stringMatching(/expected a device path/),
    });
  });

  it("reports YAML syntax errors and duplicate keys with a position", () => {
    const dup = issuesOf(() =>
      parseRunbook("name: x\nname: y\ntargets: {tags: [a]}\ncommands: [{getFile: a}]\n"),
    );
    expect(dup[0]!.path).toBe("runbook");
    expect(dup[0]!.message).toMatch(/line 2, column 1/);
    const bad = issuesOf(() => parseRunbook("name: [x\n"));
    expect(bad[0]!.message).toMatch(/YAML syntax/);
    expect(issuesOf(() => parseRunbook(""))[0]!.message).toMatch(/is empty/);
    expect(issuesOf(() => parseRunbook("- a\n- b\n"))[0]).toEqual({
      path: "runbook",
      message: expect.stringMatching(/expected .*mapping|got a list/),
    });
  });

  it("rejects cross-field nonsense", () => {
    const base = "name: x\ntargets: {tags: [a]}\ncommands: [{getFile: a}]\noptions:\n";
    expect(issuesOf(() => parseRunbook(`${base}  timeout: 5s\n  pollInterval: 5\n`))[0]!.path).toBe(
      "options.pollInterval",
    );
    expect(issuesOf(() => parseRunbook(`${base}  timeout: 100h\n`))[0]!.message).toMatch(/at most 3 days/);
    expect(issuesOf(() => parseRunbook(`${base}  maxDevices: 2\n  canary: 3\n`))[0]!.path).toBe(
      "options.canary",
    );
    expect(issuesOf(() => parseRunbook(`${base}  maxConcurrentSessions: 80\n`))[0]).toEqual({
      path: "options.maxConcurrentSessions",
      message: expect.stringMatching(/must be <= 50, got the number 80/),
    });
  });
});

describe("loadRunbook", () => {
  it("resolves library paths from the runbook's folder and names a missing file", async () => {
    const dir = await mkdtemp(join(tmpdir(), "rb-"));
    const file = join(dir, "r.yaml");
    await writeFile(
      file,
      "name: x\ntargets: {tags: [a]}\ncommands: [{runScript: a.ps1}]\nlibrary: [{path: ../s/a.ps1}]\n",
    );
    const rb = await loadRunbook(file);
    expect(rb.library[0]!.path).toBe(join(dir, "..", "s", "a.ps1"));
    await expect(loadRunbook(join(dir, "missing.yaml"))).rejects.toThrow(InputError);
    await expect(loadRunbook(join(dir, "missing.yaml"))).rejects.toThrow(/file not found/);
  });
});

describe("parseSteps", () => {
  it("validates a bare step list under the caller's field path", () => {
    expect(parseSteps([{ runScript: "a.ps1", args: "-x 'y'" }], "commands")).toEqual([
      { type: "RunScript", scriptName: "a.ps1", args: "-x 'y'" },
    ]);
    const issues = issuesOf(() => parseSteps([{ getFile: "a" }, { getFile: ["a"] }], "inputs.commands"));
    expect(issues).toEqual([
      {
        path: "inputs.commands[1].getFile",
        message: expect.stringMatching(/^expected a device path, got a list/),
      },
    ]);
    expect(issuesOf(() => parseSteps("getFile: a", "commands"))[0]).toEqual({
      path: "commands",
      message: expect.stringMatching(/expected a list of steps, got "getFile: a"/),
    });
    expect(issuesOf(() => parseSteps([{ putFile: "NUL" }], "commands"))[0]!.path).toBe("commands[0].putFile");
    expect(issuesOf(() => parseSteps([{ runScript: "a.ps1", args: "a\nb" }], "commands"))[0]!.path).toBe(
      "commands[0].args",
    );
  });
});

describe("step issues found by fuzzing and review", () => {
  it("reports a mistyped step kind once, with a suggestion", () => {
    const issues = issuesOf(() => parseSteps([{ runscript: "a.ps1" }], "commands"));
    expect(issues).toEqual([
      {
        path: "commands[0].runscript",
        message: expect.stringMatching(/unknown key; did you mean "runScript"\?/),
      },
    ]);
  });

  it("explains args on a putFile step", () => {
    const issues = issuesOf(() => parseSteps([{ putFile: "tool.exe", args: "-x" }], "commands"));
    expect(issues).toEqual([
      { path: "commands[0].args", message: expect.stringMatching(/belongs to a runScript step/) },
    ]);
  });
});
