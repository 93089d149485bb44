/**
 * Property: whatever a workflow puts in the action's inputs (`INPUT_*`), reading them and turning
 * `runbook`/`commands` into a runbook either succeeds or fails with a ValidationError/InputError whose
 * every issue names a field — no other exception, no crash — and no credential value is echoed in an
 * error. Used by test/fuzz/action-inputs.test.ts (small count in `npm test`) and by
 * `npm run chaos -- --fuzz 10000` (the CI-independent count).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import fc from "fast-check";
import { stringify } from "yaml";
import { type Env, inputKey, readInputs } from "../../action/inputs.js";
import { loadActionRunbook } from "../../action/runbook-source.js";
import { InputError, ValidationError } from "../../shared/errors.js";
import { HOSTILE_ARGS, HOSTILE_DEVICE_PATHS, REJECTED_DEVICE_PATHS } from "../chaos/harness/hostile.js";

export const ACTION_INPUTS = [
  "runbook",
  "commands",
  "machine-ids",
  "cloud",
  "region",
  "api-url",
  "auth",
  "tenant-id",
  "client-id",
  "client-secret",
  "client-certificate",
  "access-token",
  "audience",
  "output-dir",
  "upload-artifact",
  "artifact-name",
  "retention-days",
  "fail-on",
  "dry-run",
] as const;

const hex40 = fc.string({ unit: fc.constantFrom(..."0123456789abcdef"), minLength: 40, maxLength: 40 });
const guid = fc.uuid();
const junk = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: "grapheme", maxLength: 20 }),
  fc.constantFrom(
    "",
    " ",
    "\n",
    "true",
    "FALSE",
    "0",
    "-1",
    "1e3",
    "null",
    "~",
    "[]",
    "{}",
    "\u0000",
    "../../etc/passwd",
  ),
);

const deviceText = fc.oneof(
  fc.constantFrom(...HOSTILE_DEVICE_PATHS, ...REJECTED_DEVICE_PATHS),
  fc.string({ maxLength: 30 }),
);
const stepValue = fc.oneof(
  fc.record({ getFile: deviceText }),
  fc.record({ runScript: fc.oneof(fc.constantFrom("triage.ps1", "a b.ps1", "../x.ps1", ""), fc.string()) }),
  fc.record({
    runScript: fc.constantFrom("collect.ps1", "x.sh"),
    args: fc.oneof(fc.constantFrom(...HOSTILE_ARGS), fc.string(), fc.integer(), fc.constant(null)),
  }),
  fc.record({ putFile: fc.oneof(fc.constantFrom("tool.exe", "con", "a/b", ""), fc.string()) }),
  fc.dictionary(fc.constantFrom("getFile", "runScript", "putFile", "args", "path", "other"), fc.jsonValue(), {
    maxKeys: 3,
  }),
  fc.jsonValue({ maxDepth: 2 }),
);
const stepsYaml = fc.oneof(
  fc.array(stepValue, { maxLength: 6 }).map((steps) => stringify(steps)),
  fc.jsonValue({ maxDepth: 3 }).map((v) => stringify(v)),
  fc.constantFrom(
    "- getFile: [a, b]",
    "- : :",
    "&a [*a]",
    "- runScript: x\n  args: |\n    multi\n    line",
    "{{{{",
    "- !!binary AAAA",
  ),
  junk,
);

const runbookDoc = fc.record(
  {
    name: fc.oneof(fc.constantFrom("triage", "bad name!", ""), fc.string({ maxLength: 20 })),
    comment: fc.oneof(fc.string({ maxLength: 40 }), fc.constant(null)),
    targets: fc.oneof(
      fc.record(
        { machineIds: fc.array(fc.oneof(hex40, fc.string({ maxLength: 10 })), { maxLength: 3 }) },
        { requiredKeys: [] },
      ),
      fc.record(
        {
          tags: fc.array(fc.string({ maxLength: 10 }), { maxLength: 2 }),
          filter: fc.string({ maxLength: 30 }),
        },
        { requiredKeys: [] },
      ),
      fc.jsonValue({ maxDepth: 2 }),
    ),
    commands: fc.array(stepValue, { maxLength: 5 }),
    library: fc.array(
      fc.record(
        {
          path: fc.oneof(
            fc.constantFrom("../../../etc/passwd", "/etc/shadow", "lib/x.ps1"),
            fc.string({ maxLength: 20 }),
          ),
          description: fc.string({ maxLength: 10 }),
        },
        { requiredKeys: [] },
      ),
      { maxLength: 2 },
    ),
    options: fc.dictionary(
      fc.constantFrom(
        "timeout",
        "pollInterval",
        "onActiveSession",
        "maxConcurrentSessions",
        "maxDevices",
        "canary",
        "limits",
        "bogus",
      ),
      fc.oneof(fc.jsonValue({ maxDepth: 1 }), fc.constantFrom("30s", "2h", "0", -5, 1e12, "wait", "fail")),
      { maxKeys: 4 },
    ),
    unknownKey: fc.jsonValue({ maxDepth: 1 }),
  },
  { requiredKeys: [] },
);

interface FuzzCase {
  inputs: Partial<Record<(typeof ACTION_INPUTS)[number], string>>;
  oidc: boolean;
}

/** Valid credentials and targets, so the runbook/commands layers behind readInputs get reached. */
function runbookFocused(workspaceRunbook: string): fc.Arbitrary<FuzzCase> {
  return fc.record({
    inputs: fc.oneof(
      fc.record({
        runbook: fc.oneof(
          fc.constant(workspaceRunbook),
          runbookDoc.map((d) => `# inline\n${stringify(d)}`),
          fc.jsonValue({ maxDepth: 3 }).map((v) => `# inline\n${stringify(v)}`),
        ),
        "access-token": fc.string({ minLength: 8, maxLength: 30 }).map((s) => `tOkEn-${s}`),
      }),
      fc.record({
        commands: stepsYaml,
        "machine-ids": fc.array(hex40, { minLength: 1, maxLength: 3 }).map((a) => a.join("\n")),
        "access-token": fc.string({ minLength: 8, maxLength: 30 }).map((s) => `tOkEn-${s}`),
      }),
    ),
    oidc: fc.constant(false),
  });
}

function fuzzCase(workspaceRunbook: string): fc.Arbitrary<FuzzCase> {
  return fc.oneof(
    { weight: 1, arbitrary: anyInputs(workspaceRunbook) },
    { weight: 1, arbitrary: runbookFocused(workspaceRunbook) },
  );
}

function anyInputs(workspaceRunbook: string): fc.Arbitrary<FuzzCase> {
  return fc.record({
    inputs: fc.record(
      {
        runbook: fc.oneof(
          fc.constantFrom(workspaceRunbook, "missing.yml", "../outside.yml", "/etc/passwd"),
          runbookDoc.map((d) => `# inline\n${stringify(d)}`),
          junk,
        ),
        commands: stepsYaml,
        "machine-ids": fc.oneof(
          fc
            .array(hex40, { maxLength: 4 })
            .map((a) => a.join(fc.sample(fc.constantFrom(",", "\n", ", "), 1)[0] ?? ",")),
          junk,
        ),
        cloud: fc.oneof(fc.constantFrom("public", "gcc", "gcc-high", "dod", "GCC-High", "china"), junk),
        region: fc.oneof(fc.constantFrom("us", "eu", "uk", "au", "swa", "ina", "aea", "mars"), junk),
        "api-url": fc.oneof(
          fc.constantFrom(
            "http://127.0.0.1:1234",
            "http://evil.example.com",
            "https://api.security.microsoft.com",
            "ftp://x",
            "https://",
          ),
          junk,
        ),
        auth: fc.oneof(fc.constantFrom("auto", "oidc", "secret", "certificate", "token", "OIDC"), junk),
        "tenant-id": fc.oneof(guid, fc.constantFrom("contoso.onmicrosoft.com"), junk),
        "client-id": fc.oneof(guid, junk),
        "client-secret": fc.string({ minLength: 8, maxLength: 30 }).map((s) => `sEcReT-${s}`),
        "client-certificate": fc.oneof(
          fc.constantFrom("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----", "certs/none.pem"),
          fc
            .string({ minLength: 8, maxLength: 20 })
            .map((s) => `-----BEGIN PRIVATE KEY-----\nkEy-${s}\n-----END PRIVATE KEY-----`),
          junk,
        ),
        "access-token": fc.string({ minLength: 8, maxLength: 30 }).map((s) => `tOkEn-${s}`),
        audience: fc.oneof(fc.constantFrom("api://AzureADTokenExchange"), junk),
        "output-dir": fc.oneof(fc.constantFrom("out", "../../escape", "/tmp/x"), junk),
        "upload-artifact": fc.oneof(fc.constantFrom("true", "false", "True"), junk),
        "artifact-name": fc.oneof(
          fc.constantFrom("results", "a:b", "x/y", "name\nnewline", "a".repeat(300)),
          junk,
        ),
        "retention-days": fc.oneof(fc.constantFrom("1", "7", "90", "91", "0", "1.5", "seven"), junk),
        "fail-on": fc.oneof(fc.constantFrom("any", "all", "never", "ALL"), junk),
        "dry-run": fc.oneof(fc.constantFrom("true", "false", "yes"), junk),
      },
      { requiredKeys: [] },
    ),
    oidc: fc.boolean(),
  });
}

/** The secret-bearing inputs; their values must never appear in an error. */
const SECRET_INPUTS = ["client-secret", "access-token", "client-certificate"] as const;

function checkIssues(error: ValidationError | InputError, secrets: string[], where: string): void {
  const issues =
    error instanceof ValidationError ? error.issues : [{ path: error.field, message: error.message }];
  if (issues.length === 0) throw new Error(`${where}: ValidationError without issues`);
  for (const issue of issues) {
    if (typeof issue.path !== "string" || issue.path.trim() === "" || /[\r\n]/.test(issue.path)) {
      throw new Error(`${where}: issue without a usable field path: ${JSON.stringify(issue)}`);
    }
    if (typeof issue.message !== "string" || issue.message.trim() === "") {
      throw new Error(`${where}: issue ${issue.path} without a message`);
    }
  }
  for (const s of secrets) {
    if (error.message.includes(s)) throw new Error(`${where}: a credential value is echoed in the error`);
  }
}

export interface FuzzCounts {
  cases: number;
  rejectedInputs: number;
  rejectedRunbook: number;
  accepted: number;
}

export function actionInputsProperty(
  workspace: string,
  counts: FuzzCounts,
): fc.IAsyncPropertyWithHooks<[FuzzCase]> {
  mkdirSync(path.join(workspace, "runbooks"), { recursive: true });
  writeFileSync(
    path.join(workspace, "runbooks", "triage.yml"),
    stringify({
      name: "triage",
      targets: { machineIds: ["a".repeat(40)] },
      commands: [{ runScript: "triage.ps1" }],
    }),
  );
  return fc.asyncProperty(fuzzCase("runbooks/triage.yml"), async ({ inputs, oidc }) => {
    const env: Env = {
      GITHUB_WORKSPACE: workspace,
      RUNNER_TEMP: path.join(workspace, "runner-temp"),
      GITHUB_JOB: "fuzz",
    };
    if (oidc) {
      env.ACTIONS_ID_TOKEN_REQUEST_URL = "http://127.0.0.1:9/token?x=1";
      env.ACTIONS_ID_TOKEN_REQUEST_TOKEN = "runner-request-token";
    }
    for (const [name, value] of Object.entries(inputs)) env[inputKey(name)] = value;
    const secrets = SECRET_INPUTS.flatMap((n) => {
      const v = inputs[n]?.trim();
      if (!v || v.length < 12) return [];
      return n === "client-certificate" ? v.split("\n").filter((l) => l.startsWith("kEy-")) : [v];
    });
    counts.cases++;
    let read: ReturnType<typeof readInputs>;
    try {
      read = readInputs(env);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      counts.rejectedInputs++;
      checkIssues(error, secrets, "readInputs");
      for (const issue of error.issues) {
        if (!(ACTION_INPUTS as readonly string[]).includes(issue.path)) {
          throw new Error(`readInputs: issue path ${JSON.stringify(issue.path)} is not an input name`);
        }
      }
      return;
    }
    try {
      await loadActionRunbook(read.runbook, read.machineIds, env, read.workspace);
      counts.accepted++;
    } catch (error) {
      if (!(error instanceof ValidationError) && !(error instanceof InputError)) throw error;
      counts.rejectedRunbook++;
      checkIssues(error, secrets, "loadActionRunbook");
    }
  });
}

export async function runActionInputsFuzz(numRuns: number, seed: number): Promise<FuzzCounts> {
  const workspace = mkdtempSync(path.join(tmpdir(), "mde-fuzz-action-"));
  const counts: FuzzCounts = { cases: 0, rejectedInputs: 0, rejectedRunbook: 0, accepted: 0 };
  try {
    await fc.assert(actionInputsProperty(workspace, counts), { numRuns, seed, endOnFailure: true });
  } finally {
    rmSync(workspace, { recursive: true, force: true });
  }
  return counts;
}
