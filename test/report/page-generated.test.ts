import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
// @ts-expect-error: a plain .mjs build script without type declarations
import { GENERATED_PAGE_PATH, generateReportPage } from "../../scripts/gen-report-page.mjs";
import { cutExcerpt } from "../../shared/report/html/data.js";
import { jsonForScriptChunks } from "../../shared/report/html/escape.js";
import { jsonForScript } from "../../shared/report/html/render.js";

describe("report.html's bundled script", () => {
  it("matches its source (run `node scripts/gen-report-page.mjs` after editing shared/report/html/page/)", async () => {
    expect(readFileSync(GENERATED_PAGE_PATH as string, "utf8")).toBe(
      await (generateReportPage as () => Promise<string>)(),
    );
  });
});

describe("data in the page", () => {
  it("cannot close its script element or start markup, and parses back to the same value", () => {
    const value = { s: "</script><!-- <script>x</script> & \u2028\u2029 ]]>", n: [1, null] };
    const text = jsonForScript(value);
    expect(text).not.toMatch(/[<>&\u2028\u2029]/);
    expect(JSON.parse(text)).toEqual(value);
  });

  it("is the same text written a device at a time as all at once", () => {
    const text = fc.string({
      unit: fc.constantFrom("a", "<", ">", "&", "\u2028", "\u2029", '"', "\\", "é", "😀", "\n"),
    });
    const device = fc.record({
      machineId: text,
      n: fc.integer(),
      spans: fc.array(fc.integer()),
      x: fc.jsonValue(),
    });
    fc.assert(
      fc.property(fc.record({ run: fc.jsonValue(), devices: fc.array(device), s: text }), (value) => {
        const pieces = [...jsonForScriptChunks(value, 2)];
        expect(pieces.join("")).toBe(jsonForScript(value));
        // Written a device at a time: no piece holds two devices.
        expect(pieces.length).toBeGreaterThanOrEqual(value.devices.length);
      }),
    );
  });

  it("cuts excerpts by their cost in the page, never inside a character", () => {
    expect(cutExcerpt("abcdef", 4)).toEqual({ text: "abcd", cut: true });
    expect(cutExcerpt("abc", 4)).toEqual({ text: "abc", cut: false });
    // `<` costs 6 characters once escaped.
    expect(cutExcerpt("a<b", 6)).toEqual({ text: "a", cut: true });
    expect(cutExcerpt("ab😀c", 3)).toEqual({ text: "ab", cut: true });
    expect(cutExcerpt(null, 4)).toEqual({ text: null, cut: false });
  });
});
