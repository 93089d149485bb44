import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { writeFileAtomicSync } from "../../shared/results/safe-fs.js";
import { tempDir } from "../run/helpers.js";

describe("writeFileAtomicSync with text in pieces", () => {
  it("writes exactly the UTF-8 of the joined pieces, whatever their sizes and characters", () => {
    const dir = tempDir("safe-fs-pieces");
    // One- to four-byte characters; pieces from empty to larger than the write buffer (256 KiB) once encoded.
    const unit = fc.constantFrom("a", "\n", "é", "€", "😀", "<");
    const piece = fc.oneof(
      { weight: 8, arbitrary: fc.string({ unit, maxLength: 300 }) },
      { weight: 1, arbitrary: fc.integer({ min: 40_000, max: 120_000 }).map((n) => "€".repeat(n)) },
    );
    let n = 0;
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 60 }), (pieces) => {
        const file = path.join(dir, `out-${n++}.txt`);
        writeFileAtomicSync(file, pieces.values());
        expect(readFileSync(file).equals(Buffer.from(pieces.join(""), "utf8"))).toBe(true);
      }),
      { numRuns: 60 },
    );
    // Nothing left behind but the files themselves.
    expect(readdirSync(dir).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  it("leaves no file and no temp file when the pieces throw part way", () => {
    const dir = tempDir("safe-fs-throw");
    const file = path.join(dir, "report.json");
    function* pieces(): Generator<string> {
      yield "x".repeat(300_000);
      throw new Error("bad entry");
    }
    expect(() => writeFileAtomicSync(file, pieces())).toThrow("bad entry");
    expect(readdirSync(dir)).toEqual([]);
  });
});
