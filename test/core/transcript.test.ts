import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseTranscript } from "../../shared/api/transcript.js";

describe("parseTranscript", () => {
  it("parses strict JSON and strips NUL padding from the output", () => {
    const t = parseTranscript(
      '{"script_name":"a.ps1","exit_code":3,"script_output":"hi\\u0000\\u0000","script_errors":"err"}',
    );
    expect(t).toEqual({ scriptName: "a.ps1", exitCode: 3, stdout: "hi", stderr: "err", strict: true });
  });

  it("recovers Microsoft's non-strict example: raw newline inside the string and NUL padding", () => {
    const raw =
      '{"script_name":"minidump.ps1","exit_code":0,"script_output":"Transcript started, output file is C:\\\\Users\\\\x.txt\r\n' +
      'Dump written "now" to C:\\\\temp\\\\dump.dmp\n\u0000\u0000\u0000","script_errors":""}';
    expect(() => JSON.parse(raw)).toThrow();
    const t = parseTranscript(Buffer.from(raw, "utf8"));
    expect(t.strict).toBe(false);
    expect(t.scriptName).toBe("minidump.ps1");
    expect(t.exitCode).toBe(0);
    expect(t.stdout).toBe(
      'Transcript started, output file is C:\\Users\\x.txt\r\nDump written "now" to C:\\temp\\dump.dmp\n',
    );
    expect(t.stderr).toBe("");
  });

  it("recovers truncated JSON", () => {
    const t = parseTranscript('{"script_name":"b.ps1","exit_code":1,"script_output":"line 1\nline 2 cut sh');
    expect(t).toEqual({
      scriptName: "b.ps1",
      exitCode: 1,
      stdout: "line 1\nline 2 cut sh",
      stderr: "",
      strict: false,
    });
  });

  it("keeps a body that is not JSON at all as output", () => {
    expect(parseTranscript("plain text\u0000")).toEqual({
      scriptName: null,
      exitCode: null,
      stdout: "plain text",
      stderr: "",
      strict: false,
    });
    expect(parseTranscript("")).toMatchObject({ stdout: "", strict: false });
  });

  it("never throws and round-trips strict transcripts", () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        parseTranscript(s);
      }),
    );
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.integer(), (out, err, code) => {
        const json = JSON.stringify({
          script_name: "x.ps1",
          exit_code: code,
          script_output: out,
          script_errors: err,
        });
        const t = parseTranscript(json);
        expect(t.stdout).toBe(out.split("\u0000").join(""));
        expect(t.exitCode).toBe(code);
        // The same content with raw newlines (non-strict) still recovers the text.
        const loose = parseTranscript(json.replace(/\\n/g, "\n"));
        expect(loose.exitCode).toBe(code);
      }),
    );
  });
});
