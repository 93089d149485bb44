/**
 * Property-based fuzzing of the runbook parser: generated documents (mostly plausible, with hostile
 * values, wrong types, unknown keys and raw text mutations) must either parse to a sane Runbook or be
 * rejected with a ValidationError whose every issue names a field path — never crash otherwise.
 * FUZZ_RUNS raises the count (scripts/fuzz-runbook.mjs runs 10,000+).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { ValidationError } from "../../shared/errors.js";
import { parseRunbook, parseSteps } from "../../shared/runbook/index.js";
import type { Runbook } from "../../shared/runbook/types.js";

const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined;

const hostileString = fc.oneof(
  fc.constantFrom(
    "..\\..\\Windows\\System32\\config\\SAM",
    "../../etc/passwd",
    "C:\\Windows\\Temp\\x.zip",
    "c:",
    "D:\\",
    "\\\\server\\share\\file.txt",
    "\\\\?\\C:\\very\\long",
    "a\u0000b",
    "\u0000",
    "",
    " ",
    "\t\n",
    "CON",
    "nul.ps1",
    "COM1.exe",
    "LPT9",
    "AUX.txt",
    "x".repeat(300),
    "y".repeat(40_000),
    "'quoted'",
    '"double"',
    "-Arg 'it''s' \"x\"",
    "line1\nline2",
    "line1\r\nline2",
    "$(rm -rf /)",
    "; Remove-Item C:\\ -Recurse",
    "ünïcødé.ps1",
    "emoji-😀.ps1",
    "a/b.ps1",
    "a\\b.ps1",
    ".",
    "..",
    "...",
    "collect.ps1",
    "tool.exe",
    "45m",
    "0",
    "-1",
    "1e309",
    "NaN",
    "30s",
    "2h",
    "1.5h",
    "wait",
    "fail",
    "skip",
    "1E5BC9D7E413DDD7902C2932E418702B84D0CC07",
  ),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 40 }),
);

const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  { depthSize: "small" },
  hostileString,
  fc.integer({ min: -5, max: 100_000 }),
  fc.double({ noNaN: false }),
  fc.boolean(),
  fc.constant(null),
  fc.array(hostileString, { maxLength: 3 }),
  fc.dictionary(hostileString, hostileString, { maxKeys: 3 }),
);

const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined, freq: 3 });
const valueOr = <T>(arb: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 4, arbitrary: arb }, { weight: 1, arbitrary: anyValue });

const stepArb = fc.oneof(
  fc.record({ putFile: valueOr(hostileString) }),
  fc.record(
    { runScript: valueOr(hostileString), args: maybe(valueOr(hostileString)) },
    { requiredKeys: ["runScript"] },
  ),
  fc.record({ getFile: valueOr(hostileString) }),
  fc.dictionary(fc.constantFrom("putFile", "runScript", "getFile", "args", "extra"), anyValue, {
    maxKeys: 3,
  }),
  anyValue,
);

const durationArb = fc.oneof(
  fc.integer({ min: -10, max: 400_000 }),
  fc.constantFrom("30s", "45m", "2h", "1.5h", "0s", "72h", "73h", "10", " 5 m ", "5min", "PT5M"),
  anyValue,
);

const optionsArb = fc.record(
  {
    timeout: durationArb,
    pollInterval: durationArb,
    onActiveSession: valueOr(fc.constantFrom("wait", "fail")),
    onIneligible: valueOr(fc.constantFrom("skip", "fail")),
    maxConcurrentSessions: valueOr(fc.integer({ min: -1, max: 60 })),
    maxDevices: valueOr(fc.integer({ min: -1, max: 200 })),
    canary: valueOr(fc.integer({ min: -1, max: 60 })),
    limits: valueOr(
      fc.record(
        {
          submitPerMinute: valueOr(fc.integer({ min: 0, max: 20 })),
          callsPerMinute: valueOr(fc.integer({ min: 0, max: 200 })),
          callsPerHour: valueOr(fc.integer({ min: 0, max: 2000 })),
        },
        { requiredKeys: [] },
      ),
    ),
    [`${"timout"}`]: anyValue,
  },
  { requiredKeys: [] },
);

const documentArb = fc.record(
  {
    name: valueOr(fc.constantFrom("triage-ir-1234", "x", "a.b_c-d")),
    comment: valueOr(hostileString),
    targets: valueOr(
      fc.record(
        {
          machineIds: valueOr(
            fc.array(
              valueOr(
                fc.string({
                  unit: fc.constantFrom(..."0123456789abcdefABCDEF"),
                  minLength: 40,
                  maxLength: 40,
                }),
              ),
              { maxLength: 3 },
            ),
          ),
          computerNames: valueOr(fc.array(hostileString, { maxLength: 3 })),
          tags: valueOr(fc.array(hostileString, { maxLength: 3 })),
          filter: valueOr(hostileString),
          extra: anyValue,
        },
        { requiredKeys: [] },
      ),
    ),
    commands: valueOr(fc.array(stepArb, { maxLength: 6 })),
    library: valueOr(
      fc.array(
        valueOr(
          fc.record(
            {
              path: valueOr(hostileString),
              description: valueOr(hostileString),
              parametersDescription: valueOr(hostileString),
              hasParameters: valueOr(fc.boolean()),
            },
            { requiredKeys: ["path"] },
          ),
        ),
        { maxLength: 3 },
      ),
    ),
    options: valueOr(optionsArb),
    unexpected: anyValue,
  },
  { requiredKeys: [] },
);

/** Mostly valid documents whose values are hostile strings: exercises the accept path and normalisation. */
const plausibleDocArb = fc.record(
  {
    name: fc.constantFrom("triage-ir-1234", "x", "a.b_c-d"),
    comment: hostileString,
    targets: fc.record({
      tags: fc.array(fc.constantFrom("Finance", "HR", "ir 1234", "a'b"), { minLength: 1, maxLength: 2 }),
      computerNames: fc.array(fc.constantFrom("ws-001.contoso.com", "O'Brien-PC", "x"), { maxLength: 2 }),
    }),
    commands: fc.array(
      fc.oneof(
        fc.record({ putFile: fc.constantFrom("tool.exe", "a.ps1", "CON.exe", "x y.exe") }),
        fc.record({ runScript: fc.constantFrom("collect.ps1", "b.ps1", "..", "nul"), args: hostileString }),
        fc.record({ getFile: hostileString }),
      ),
      { minLength: 1, maxLength: 6 },
    ),
    library: fc.array(
      fc.record({
        path: fc.oneof(hostileString, fc.constantFrom("../scripts/a.ps1", "b.ps1")),
        hasParameters: fc.boolean(),
      }),
      { maxLength: 2 },
    ),
    options: fc.record(
      {
        timeout: fc.constantFrom("30s", "45m", "2h", 90, "72h"),
        pollInterval: fc.constantFrom(1, 10, "15s"),
        canary: fc.integer({ min: 0, max: 3 }),
        maxDevices: fc.integer({ min: 1, max: 100 }),
      },
      { requiredKeys: [] },
    ),
  },
  { requiredKeys: ["name", "targets", "commands"] },
);

/** Raw-text mutations on a serialised document: truncation, a flipped character, an inserted tab or quote. */
const textArb = fc.oneof(
  { weight: 4, arbitrary: documentArb.map((d) => stringify(d)) },
  { weight: 3, arbitrary: plausibleDocArb.map((d) => stringify(d)) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(
        documentArb,
        fc.nat(),
        fc.constantFrom("", "\t", "'", '"', ":", "- ", "{", "[", "&a", "*a", "\u0000", "\n  "),
      )
      .map(([d, pos, insert]) => {
        const text = stringify(d);
        const at = text.length === 0 ? 0 : pos % text.length;
        return insert === "" ? text.slice(0, at) : text.slice(0, at) + insert + text.slice(at + 1);
      }),
  },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 200 }) },
);

const FIELD_PATH = /^(?:[A-Za-z_$][\w$]*|\[".*"\])(?:\.[A-Za-z_$][\w$]*|\[\d+\]|\[".*"\])*$/s;

const tally = { accepted: 0, rejected: 0 };

function checkOutcome(run: () => unknown, check: (value: unknown) => void): void {
  let value: unknown;
  try {
    value = run();
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    tally.rejected++;
    expect(err.issues.length).toBeGreaterThan(0);
    for (const issue of err.issues) {
      expect(issue.path).toMatch(FIELD_PATH);
      expect(issue.message.length).toBeGreaterThan(0);
    }
    return;
  }
  tally.accepted++;
  check(value);
}

function checkRunbook(value: unknown): void {
  const rb = value as Runbook;
  expect(rb.commands.length).toBeGreaterThan(0);
  for (const s of rb.commands) {
    const text = s.type === "PutFile" ? s.fileName : s.type === "RunScript" ? s.scriptName : s.path;
    expect(text).not.toContain("\u0000");
    expect(text.trim().length).toBeGreaterThan(0);
    if (s.type !== "GetFile") expect(text).toMatch(/^[A-Za-z0-9._-]+$/);
    if (s.type === "RunScript" && s.args !== null) {
      expect(s.args).not.toContain("\u0000");
      expect(s.args).not.toMatch(/[\r\n]/);
    }
  }
  expect(rb.options.pollIntervalMs).toBeGreaterThanOrEqual(1000);
  expect(rb.options.timeoutMs).toBeGreaterThan(rb.options.pollIntervalMs);
  expect(Number.isFinite(rb.options.timeoutMs)).toBe(true);
  expect(JSON.parse(JSON.stringify(rb))).toEqual(rb);
}

describe("runbook parser fuzz", () => {
  it(`never crashes and names a field path for every rejection (${RUNS} documents)`, () => {
    tally.accepted = 0;
    tally.rejected = 0;
    fc.assert(
      fc.property(textArb, (text) =>
        checkOutcome(() => parseRunbook(text, { baseDir: "/repo" }), checkRunbook),
      ),
      { numRuns: RUNS, ...(SEED !== undefined ? { seed: SEED } : {}) },
    );
    if (process.env.FUZZ_RUNS) console.log(`fuzz: ${tally.accepted} accepted, ${tally.rejected} rejected`);
    // Both outcomes must actually be exercised, or the generator has drifted into testing nothing.
    expect(tally.rejected).toBeGreaterThan(RUNS / 10);
    expect(tally.accepted).toBeGreaterThan(0);
  });

  it("keeps accepted device paths exactly as written", () => {
    fc.assert(
      fc.property(hostileString, (path) => {
        checkOutcome(
          () =>
            parseRunbook(stringify({ name: "x", targets: { tags: ["t"] }, commands: [{ getFile: path }] })),
          (value) => expect((value as Runbook).commands[0]).toEqual({ type: "GetFile", path }),
        );
      }),
      { numRuns: Math.min(RUNS, 1000) },
    );
  });

  it(`parseSteps never crashes on arbitrary values (${RUNS} values)`, () => {
    fc.assert(
      fc.property(fc.oneof(fc.array(stepArb, { maxLength: 6 }), anyValue), (value) =>
        checkOutcome(
          () => parseSteps(value, "commands"),
          (steps) => expect(Array.isArray(steps)).toBe(true),
        ),
      ),
      { numRuns: RUNS },
    );
  });
});
