/**
 * The repository's own stack (Pulumi.yaml → examples/pulumi/index.ts), loaded the way Pulumi's Node.js
 * language host loads a TypeScript program: its ts-node selection (the project's, else the vendored
 * 7.0.1) and TypeScript, the compiler options from Pulumi.yaml's `tsconfig`, with stack config set and
 * the engine mocked. Checks the program compiles, reads its config and declares the right resources.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { assertBuilt, NODE, REPO } from "./program.js";

interface Registered {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
}

const BOOT = `
const fs = require("node:fs");
const path = require("node:path");
// Resolve like the language host: from the project directory (the cwd), not from this temp file.
const fromProject = require("node:module").createRequire(path.join(process.cwd(), "Pulumi.yaml"));
const pulumi = fromProject("@pulumi/pulumi");
const tsutils = fromProject("@pulumi/pulumi/tsutils");
const [outFile, project, tsconfig, main, configJson] = process.argv.slice(2);
const captured = [];
pulumi.runtime.setMocks(
  {
    newResource(args) {
      captured.push({ type: args.type, name: args.name, inputs: args.inputs });
      return { id: args.name + "-id", state: args.inputs };
    },
    call(args) {
      return args.inputs;
    },
  },
  project,
  "dev",
  false,
);
pulumi.runtime.setAllConfig(JSON.parse(configJson));
// As @pulumi/pulumi/cmd/run does for \`typescript: true\` (non-ESM projects).
const { tsnodeRequire, typescriptRequire } = tsutils.typeScriptRequireStrings();
const compilerOptions = tsutils.loadTypeScriptCompilerOptions(tsconfig);
fromProject(tsnodeRequire).register({
  compiler: typescriptRequire,
  transpileOnly: compilerOptions.noCheck,
  project: tsconfig,
  skipProject: !fs.existsSync(tsconfig),
  compilerOptions: { target: "ES2020", module: "nodenext", moduleResolution: "nodenext", sourceMap: "true", ...compilerOptions },
});
require(path.resolve(main));
process.on("beforeExit", () => fs.writeFileSync(outFile, JSON.stringify(captured)));
`;

const RUNBOOK = `name: stack-test
comment: IR-9 stack
targets:
  tags: [Finance]
commands:
  - runScript: collect.ps1
    args: -All
  - getFile: 'C:\\Temp\\out.zip'
library:
  - path: scripts/collect.ps1
    description: process list
    hasParameters: true
options:
  timeout: 20m
  canary: 1
`;

let runbookFile: string;
const temps: string[] = [];
let project: {
  name: string;
  main: string;
  runtime: { options: { tsconfig: string } };
  config: Record<string, unknown>;
};

beforeAll(() => {
  assertBuilt();
  project = parse(fs.readFileSync(path.join(REPO, "Pulumi.yaml"), "utf8"));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mde-lr-runbook-"));
  temps.push(dir);
  fs.mkdirSync(path.join(dir, "scripts"));
  fs.writeFileSync(path.join(dir, "scripts", "collect.ps1"), "Get-Process");
  runbookFile = path.join(dir, "stack-test.yaml");
  fs.writeFileSync(runbookFile, RUNBOOK);
});

afterAll(() => {
  for (const dir of temps) fs.rmSync(dir, { recursive: true, force: true });
});

function runStack(config: Record<string, string>): Registered[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mde-lr-stack-"));
  temps.push(dir);
  const boot = path.join(dir, "boot.js");
  const out = path.join(dir, "captured.json");
  fs.writeFileSync(boot, BOOT);
  // Project config defaults apply as the engine would apply them.
  const defaults: Record<string, string> = {};
  for (const [key, spec] of Object.entries(project.config)) {
    const d = (spec as { default?: unknown }).default;
    if (d !== undefined) defaults[`${project.name}:${key}`] = typeof d === "string" ? d : JSON.stringify(d);
  }
  const r = spawnSync(
    NODE,
    [
      boot,
      out,
      project.name,
      project.runtime.options.tsconfig,
      project.main,
      JSON.stringify({ ...defaults, ...config }),
    ],
    { cwd: REPO, encoding: "utf8" },
  );
  if (r.status !== 0 || !fs.existsSync(out))
    throw new Error(`stack program failed (exit ${r.status}):\n${r.stderr}${r.stdout}`);
  return JSON.parse(fs.readFileSync(out, "utf8")) as Registered[];
}

describe("the Pulumi.yaml stack", () => {
  it("declares typed config with descriptions, in the namespace the provider reads, and no credential defaults", () => {
    expect(project.name).toBe("mde");
    expect(project.main).toBe("examples/pulumi/index.ts");
    for (const [key, spec] of Object.entries(project.config)) {
      expect(spec, key).toMatchObject({ type: expect.any(String), description: expect.any(String) });
    }
    expect((project.config.runbook as { default?: unknown }).default).toBeUndefined();
    for (const secret of ["clientSecret", "clientCertificate", "accessToken"]) {
      expect(project.config[secret], secret).toBeUndefined();
    }
  });

  it("runs a runbook: its library files, then the collection depending on them", () => {
    const regs = runStack({ "mde:runbook": runbookFile, "mde:trigger": "2026-11-23" });
    const lib = regs.find((r) => r.type === "pulumi-nodejs:dynamic/mde:LibraryFile");
    const col = regs.find((r) => r.type === "pulumi-nodejs:dynamic/mde:LiveResponseCollection");
    expect(lib?.name).toBe("collect.ps1");
    expect(lib?.inputs).toMatchObject({
      fileName: "collect.ps1",
      description: "process list",
      hasParameters: true,
    });
    // Relative to the program directory, where the provider host reads it.
    expect(path.resolve(REPO, String(lib?.inputs.path))).toBe(
      path.join(path.dirname(runbookFile), "scripts", "collect.ps1"),
    );
    expect(col?.name).toBe("stack-test");
    expect(col?.inputs).toMatchObject({
      name: "stack-test",
      targets: { tags: ["Finance"] },
      commands: [{ runScript: "collect.ps1", args: "-All" }, { getFile: "C:\\Temp\\out.zip" }],
      comment: "IR-9 stack",
      triggers: ["2026-11-23"],
      outputRoot: "mde-lr-out/pulumi",
      options: { timeout: "20m", canary: 1 },
    });
    expect(typeof col?.inputs.__provider).toBe("string");
  });

  it("refuses a runbook with errors, naming the file, line and field", () => {
    const bad = path.join(path.dirname(runbookFile), "bad.yaml");
    fs.writeFileSync(bad, "name: bad\ntargets: { tags: [x] }\ncommands:\n  - getFile: 42\n");
    expect(() => runStack({ "mde:runbook": bad })).toThrow(
      /bad\.yaml[\s\S]*commands\[0\]\.getFile: [^\n]*line 4/,
    );
  });

  it("lets stack config replace the runbook's targets with device ids", () => {
    const ids = ["a".repeat(40), "b".repeat(40)];
    const regs = runStack({
      "mde:runbook": "examples/runbooks/triage.yaml",
      "mde:machineIds": JSON.stringify(ids),
    });
    const col = regs.find((r) => r.type === "pulumi-nodejs:dynamic/mde:LiveResponseCollection");
    expect(col?.inputs.machineIds).toEqual(ids);
    expect(col?.inputs.targets).toBeUndefined();
  });
});
