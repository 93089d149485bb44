import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InputError } from "../../shared/errors.js";
import {
  deviceFolderName,
  getFileResultName,
  resolveInside,
  sanitizeSegment,
  scriptResultBase,
} from "../../shared/results/paths.js";
import { ensureFolderInside, writeFileAtomicSync } from "../../shared/results/safe-fs.js";
import { tempDir } from "../run/helpers.js";

/** Characters the GitHub artifact service rejects in names (separators included). */
const ARTIFACT_FORBIDDEN = /[":<>|*?\r\n\\/]/;

function assertSafeSegment(name: string): void {
  expect(name.length).toBeGreaterThan(0);
  expect(name).not.toMatch(ARTIFACT_FORBIDDEN);
  expect(name).not.toMatch(/^\.|[.\s]$/);
  expect(name).not.toMatch(/^(con|prn|aux|nul|com\d|lpt\d)(\..*)?$/i);
  expect(Buffer.byteLength(name)).toBeLessThanOrEqual(120);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the point is to prove none survive
  expect(name).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e]/);
}

describe("result file names from device paths", () => {
  it.each([
    ["C:\\Windows\\Temp\\triage.zip", "02-C_Windows_Temp_triage.zip"],
    ["/var/log/syslog", "02-var_log_syslog"],
    ["C:\\..\\..\\etc\\passwd", "02-C_.._.._etc_passwd"],
    ["..\\..\\..", "02-file"],
    ["\\\\?\\C:\\x", "02-C_x"],
    ["C:\\temp\\CON", "02-C_temp_CON"],
    ["C:\\a\u0000b\\c", "02-C_a_b_c"],
  ])("%j → %j", (devicePath, expected) => {
    const name = getFileResultName(2, devicePath);
    expect(name).toBe(expected);
    assertSafeSegment(name);
  });

  it("never yields '.', '..', a reserved name, a dotfile or a trailing dot/space", () => {
    for (const raw of [
      ".",
      "..",
      "...",
      " ",
      "CON",
      "con.txt",
      "Nul",
      "COM1",
      "lpt9.log",
      ".bashrc",
      "x. ",
      "a..",
      "",
    ]) {
      const s = sanitizeSegment(raw);
      assertSafeSegment(s);
      expect([".", ".."]).not.toContain(s);
    }
    expect(sanitizeSegment("CON")).toBe("_CON");
    expect(sanitizeSegment("con.txt")).toBe("_con.txt");
  });

  it("cuts very long names and keeps two long names distinct", () => {
    const a = sanitizeSegment(`${"x".repeat(500)}a`);
    const b = sanitizeSegment(`${"x".repeat(500)}b`);
    expect(a).not.toBe(b);
    assertSafeSegment(a);
    const multi = sanitizeSegment("é".repeat(400));
    expect(Buffer.byteLength(multi)).toBeLessThanOrEqual(120);
  });

  it("keeps readable Unicode names but drops bidi overrides", () => {
    expect(sanitizeSegment("сервер-01")).toBe("сервер-01");
    expect(sanitizeSegment("evil\u202Etxt.exe")).toBe("evil_txt.exe");
  });

  it("device folders combine the machine id and a sanitized computer name", () => {
    const id = "a".repeat(40);
    expect(deviceFolderName(id, "ws1.corp.contoso.com")).toBe(`${id}_ws1.corp.contoso.com`);
    expect(deviceFolderName(id, "../../etc")).toBe(`${id}_etc`);
    expect(deviceFolderName(id, null)).toBe(id);
    expect(scriptResultBase(3, "..\\x.ps1")).toBe("03-x.ps1");
  });

  it("property: any device path and computer name stay inside the output folder", () => {
    const root = path.join(tmpdir(), "mde-out-root");
    fc.assert(
      fc.property(
        fc.string({ unit: "binary", maxLength: 300 }),
        fc.string({ maxLength: 80 }),
        (devicePath, host) => {
          const folder = deviceFolderName("b".repeat(40), host);
          const name = getFileResultName(7, devicePath);
          assertSafeSegment(folder);
          assertSafeSegment(name);
          const abs = resolveInside(root, `${folder}/${name}`);
          const rel = path.relative(root, abs);
          expect(rel.startsWith("..")).toBe(false);
          expect(path.isAbsolute(rel)).toBe(false);
          expect(path.dirname(path.dirname(abs))).toBe(root);
        },
      ),
      { numRuns: 500 },
    );
  });

  it("resolveInside refuses anything that escapes", () => {
    expect(() => resolveInside("/tmp/out", "../x")).toThrow(InputError);
    expect(() => resolveInside("/tmp/out", "a/../../x")).toThrow(InputError);
    expect(() => resolveInside("/tmp/out", "/etc/passwd")).not.toThrow(); // "/etc/passwd" split on "/" → relative parts
    expect(resolveInside("/tmp/out", "/etc/passwd")).toBe(path.resolve("/tmp/out/etc/passwd"));
    expect(() => resolveInside("/tmp/out", "")).toThrow(InputError);
  });
});

describe("writes never follow symlinks", () => {
  it("refuses a device folder that is a planted symlink", () => {
    const root = tempDir("symlink");
    const outside = tempDir("outside");
    symlinkSync(outside, path.join(root, "dev"));
    expect(() => ensureFolderInside(root, "dev")).toThrow(/symlink/);
  });

  it("replaces a planted symlink file instead of writing through it", () => {
    const root = tempDir("symfile");
    const outside = tempDir("victim");
    const victim = path.join(outside, "victim.txt");
    writeFileSync(victim, "original");
    mkdirSync(path.join(root, "dev"));
    symlinkSync(victim, path.join(root, "dev", "result.bin"));
    writeFileAtomicSync(path.join(root, "dev", "result.bin"), "evidence");
    expect(readFileSync(victim, "utf8")).toBe("original");
    expect(readFileSync(path.join(root, "dev", "result.bin"), "utf8")).toBe("evidence");
    expect(existsSync(victim)).toBe(true);
  });
});
