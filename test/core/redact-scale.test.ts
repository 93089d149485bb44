import { describe, expect, it, vi } from "vitest";
import { redact, registerSasUrl, registerSecret } from "../../shared/redact.js";

// A fleet run registers four literals per result link (tens of thousands in a big run) and redacts
// rarely; re-sorting every literal on each registration made the run quadratic (bench/README.md).
describe("registerSecret at fleet scale", () => {
  it("does not sort the known secrets on registration, only on the next redact after a change", () => {
    const sort = vi.spyOn(Array.prototype, "sort");
    try {
      for (let i = 0; i < 200; i++) {
        registerSasUrl(
          `https://acct.blob.core.windows.net/c/${i}/out?se=2026-11-23T10%3A00%3A00Z&sp=r&sig=Sig${i}AbCdEfGh%3D`,
        );
      }
      expect(sort).not.toHaveBeenCalled();
      redact("first redaction after the registrations");
      expect(sort).toHaveBeenCalledTimes(1);
      redact("nothing registered since: no new sort");
      expect(sort).toHaveBeenCalledTimes(1);
    } finally {
      sort.mockRestore();
    }
  });

  it("still masks a secret that contains another one whole", () => {
    registerSecret("lazy-sorted-secret");
    registerSecret("lazy-sorted-secret-and-a-longer-one");
    expect(redact("x lazy-sorted-secret-and-a-longer-one y")).toBe("x *** y");
  });
});
