import { describe, expect, it, vi } from "vitest";
import { redact, registerSasUrl, registerSecret, releaseSasUrl } from "../../shared/redact.js";

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

  it("forgets a link's literals once every use of it is released, and keeps masking its shape", () => {
    const link = (i: number) =>
      `https://acct.blob.core.windows.net/c/${i}/out.gz?se=2026-11-23T10%3A00%3A00Z&sp=r&sig=Rel${i}Sig%2Bx%2Fy%3D`;
    const bareSig = (i: number) => `Rel${i}Sig+x/y=`;
    const sort = vi.spyOn(Array.prototype, "sort");
    try {
      for (let i = 0; i < 5_000; i++) registerSasUrl(link(i));
      redact("sort once");
      const withAll = (sort.mock.contexts.at(-1) as string[]).length;
      // Two uses of link 0 (the link call and its download): one release keeps it whole.
      registerSasUrl(link(0));
      for (let i = 0; i < 5_000; i++) releaseSasUrl(link(i));
      expect(redact(`got ${link(0)} and ${bareSig(0)}`)).toBe("got *** and ***");
      redact("sort again");
      const withOne = (sort.mock.contexts.at(-1) as string[]).length;
      // What the 5,000 links held is gone but link 0's five forms (URL, encoded URL, sig in 3 encodings).
      expect(withAll - withOne).toBe(4_999 * 5);
      releaseSasUrl(link(0));
      // Released: the literal is gone, but the URL and `sig=` patterns still hide the signature.
      for (const shown of [link(1), decodeURIComponent(link(1)), `GET ${encodeURIComponent(link(1))}`]) {
        const masked = redact(shown);
        expect(masked).not.toContain("Rel1Sig");
        expect(masked).not.toMatch(/sig(=|%3D)[^*]/i);
      }
      expect(redact(link(1))).toBe("https://acct.blob.core.windows.net/c/1/out.gz?***");
    } finally {
      sort.mockRestore();
    }
  });

  it("never forgets a credential, even when a link released the same literal", () => {
    const sas = "https://acct.blob.core.windows.net/c/x?sp=r&sig=SharedWithASecret123";
    registerSecret("SharedWithASecret123");
    registerSasUrl(sas);
    releaseSasUrl(sas);
    releaseSasUrl(sas);
    expect(redact("bare SharedWithASecret123 here")).toBe("bare *** here");
  });
});
