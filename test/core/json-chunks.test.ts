import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { jsonChunks } from "../../shared/results/json-chunks.js";

// report.json and the journal snapshot are written piece by piece; the text must be JSON.stringify's.
describe("jsonChunks", () => {
  const value = fc.letrec((tie) => ({
    any: fc.oneof(
      { depthSize: "small" },
      fc.jsonValue({ maxDepth: 2 }),
      fc.constant(undefined),
      fc.date({ noInvalidDate: true }),
      fc.array(tie("any"), { maxLength: 4 }),
      fc.dictionary(fc.string({ maxLength: 6 }), tie("any"), { maxKeys: 4 }),
    ),
  })).any;

  it("is byte for byte JSON.stringify(value, null, indent) at every depth, compact and indented", () => {
    fc.assert(
      fc.property(
        value.filter((v) => v !== undefined),
        fc.constantFrom(0, 2, 4),
        fc.integer({ min: 0, max: 4 }),
        (v, indent, depth) => {
          expect([...jsonChunks(v, indent, depth)].join("")).toBe(JSON.stringify(v, null, indent));
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it("yields one piece per member of the expanded levels (a report's machines, a snapshot's records)", () => {
    const doc = { seq: 3, machines: Array.from({ length: 1_000 }, (_, i) => ({ i, text: "a\nb" })) };
    const pieces = [...jsonChunks(doc, 2, 2)];
    expect(pieces.length).toBeGreaterThan(2_000);
    expect(Math.max(...pieces.map((p) => p.length))).toBeLessThan(100);
    expect(pieces.join("")).toBe(JSON.stringify(doc, null, 2));
  });

  it("writes what JSON.stringify leaves out or turns into null", () => {
    const odd = {
      a: undefined,
      b: () => 1,
      c: [undefined, () => 1, Symbol("s")],
      d: new Date(0),
      e: {},
      f: [],
    };
    for (const indent of [0, 2]) {
      expect([...jsonChunks(odd, indent, 3)].join("")).toBe(JSON.stringify(odd, null, indent));
    }
  });
});
