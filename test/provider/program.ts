/**
 * A Pulumi program run for real (a child Node process with `pulumi.runtime.setMocks`), in a temporary
 * program directory whose node_modules holds this package (symlinked, built lib/): the same way a
 * consumer's `pulumi up` loads `mde-live-response/provider`. What the mock monitor receives, including
 * the serialized `__provider`, is what the engine would store and send to the dynamic-provider host.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export const REPO = path.resolve(__dirname, "../..");
/** Node 24 from the `node` devDependency (the machine's Node may be older). */
export const NODE = fs.existsSync(path.join(REPO, "node_modules/.bin/node"))
  ? path.join(REPO, "node_modules/.bin/node")
  : process.execPath;

/** Fails with the fix when lib/ is missing or older than the sources (the host loads lib/, not TS). */
export function assertBuilt(): void {
  for (const dir of ["provider"]) {
    for (const file of fs.readdirSync(path.join(REPO, dir)).filter((f) => f.endsWith(".ts"))) {
      const js = path.join(REPO, "lib", dir, file.replace(/\.ts$/, ".js"));
      if (!fs.existsSync(js) || fs.statSync(js).mtimeMs < fs.statSync(path.join(REPO, dir, file)).mtimeMs) {
        throw new Error(
          `lib/${dir}/${file.replace(/\.ts$/, ".js")} is missing or stale: run \`npm run build\` (or npm test)`,
        );
      }
    }
  }
}

/** A program directory: node_modules/mde-live-response → this repo, node_modules/@pulumi → ours. */
export function makeProgramDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mde-lr-pulumi-"));
  fs.mkdirSync(path.join(dir, "node_modules"));
  fs.symlinkSync(REPO, path.join(dir, "node_modules/mde-live-response"), "dir");
  fs.symlinkSync(path.join(REPO, "node_modules/@pulumi"), path.join(dir, "node_modules/@pulumi"), "dir");
  fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "program", private: true }));
  return dir;
}

/** Removes a program directory; the symlinks into this repository are unlinked first, never followed. */
export function removeProgramDir(dir: string): void {
  for (const link of ["node_modules/mde-live-response", "node_modules/@pulumi"]) {
    fs.rmSync(path.join(dir, link), { force: true });
  }
  fs.rmSync(dir, { recursive: true, force: true });
}

export interface ResourceSpec {
  kind: "LiveResponseCollection" | "LibraryFile";
  name: string;
  args: Record<string, unknown>;
  opts?: Record<string, unknown>;
}

export interface Registration {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
  /** additionalSecretOutputs as merged by the resource class (seen through a transformation). */
  additionalSecretOutputs: string[];
}

const PROGRAM = `
const fs = require("node:fs");
const pulumi = require("@pulumi/pulumi");
const spec = JSON.parse(fs.readFileSync("spec.json", "utf8"));
const captured = [];
const secretOutputs = {};
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
  "proj",
  "dev",
  false,
);
const provider = require("mde-live-response/provider");
for (const r of spec.resources) {
  const record = (a) => {
    secretOutputs[a.name] = a.opts.additionalSecretOutputs || [];
    return undefined;
  };
  new provider[r.kind](r.name, r.args, { ...(r.opts || {}), transformations: [record] });
}
process.on("beforeExit", () => {
  const out = captured.map((c) => ({ ...c, additionalSecretOutputs: secretOutputs[c.name] || [] }));
  fs.writeFileSync("captured.json", JSON.stringify(out));
});
`;

/** Runs a program declaring `resources` in `dir`; returns what was registered, in order. */
export function runProgram(dir: string, resources: ResourceSpec[]): Registration[] {
  fs.writeFileSync(path.join(dir, "program.js"), PROGRAM);
  fs.writeFileSync(path.join(dir, "spec.json"), JSON.stringify({ resources }));
  fs.rmSync(path.join(dir, "captured.json"), { force: true });
  const r = spawnSync(NODE, ["program.js"], { cwd: dir, encoding: "utf8" });
  if (r.status !== 0 || !fs.existsSync(path.join(dir, "captured.json"))) {
    throw new Error(`program failed (exit ${r.status}):\n${r.stderr}${r.stdout}`);
  }
  return JSON.parse(fs.readFileSync(path.join(dir, "captured.json"), "utf8")) as Registration[];
}
