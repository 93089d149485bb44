/**
 * Tells the runner which values to mask. `::add-mask::` applies to later lines only and matches a
 * single line, so a multi-line secret (a PEM key) is masked line by line, and every encoding a secret
 * can appear in (URL-encoded, the bare `sig` of a SAS URL) is masked too.
 */

const PEM_FENCE = /^-----(BEGIN|END) [A-Z0-9 ]+-----$/;

/** Every form of `value` that might be printed: lines, URL-encoded form, SAS signature. */
export function secretVariants(value: string): string[] {
  const out = new Set<string>();
  const add = (v: string | null | undefined) => {
    const t = v?.trim();
    if (t && !PEM_FENCE.test(t)) out.add(t);
  };
  const lines = value.split(/\r?\n/);
  if (lines.length > 1) for (const line of lines) add(line);
  else add(value);
  if (lines.length === 1) {
    add(encodeURIComponent(value.trim()));
    const sig = sasSignature(value.trim());
    if (sig) {
      add(sig);
      add(encodeURIComponent(sig));
    }
  }
  return [...out];
}

function sasSignature(value: string): string | null {
  if (!/^https?:\/\//i.test(value)) return null;
  try {
    return new URL(value).searchParams.get("sig");
  } catch {
    return null;
  }
}

/** Masks each new variant once; returns the function to call for every secret. */
export function createMasker(setSecret: (value: string) => void): (value: string) => void {
  const done = new Set<string>();
  return (value: string) => {
    for (const v of secretVariants(value)) {
      if (done.has(v)) continue;
      done.add(v);
      setSecret(v);
    }
  };
}
