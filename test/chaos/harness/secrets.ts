/**
 * The secret harness: scans captured bytes (process output after runner-style masking, report.json,
 * summary.md, artifacts, journal/state, provider outputs) for bearer tokens, client secrets, client
 * assertions, private keys and SAS signatures. Known values are matched exactly (and URL-encoded);
 * unknown ones by shape (JWTs, `sig=` query values, PEM private keys).
 */

export interface SecretFinding {
  source: string;
  kind: string;
  /** A short, already-masked excerpt so the finding itself never prints the secret. */
  excerpt: string;
}

const JWT = /eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g;
// A SAS signature is base64 (often URL-encoded); a redacted one is `***`, `[REDACTED]` or similar.
const SAS_SIG = /(?:[?&]|%3[Ff]|%26|\\u0026)sig(?:=|%3[Dd])([A-Za-z0-9%+/=_-]{8,})/g;
const PRIVATE_KEY = /-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----/g;
const BEARER = /Bearer\s+([A-Za-z0-9._~+/=-]{16,})/gi;

function excerptAround(text: string, index: number, length: number): string {
  const start = Math.max(0, index - 20);
  const before = text.slice(start, index).replace(/\s+/g, " ");
  return `…${before}<${length} chars hidden>…`;
}

export class SecretScanner {
  private readonly known = new Map<string, string>();

  constructor(known: Record<string, string | undefined> = {}) {
    for (const [label, value] of Object.entries(known)) if (value) this.addKnown(label, value);
  }

  addKnown(label: string, value: string): void {
    if (value.length < 6) return; // too short to be a real secret and would match everywhere
    this.known.set(value, label);
    const encoded = encodeURIComponent(value);
    if (encoded !== value) this.known.set(encoded, `${label} (URL-encoded)`);
  }

  knownValues(): string[] {
    return [...this.known.keys()];
  }

  scan(source: string, content: string | Uint8Array): SecretFinding[] {
    const text = typeof content === "string" ? content : Buffer.from(content).toString("latin1");
    const findings: SecretFinding[] = [];
    for (const [value, label] of this.known) {
      const at = text.indexOf(value);
      if (at >= 0) findings.push({ source, kind: label, excerpt: excerptAround(text, at, value.length) });
    }
    for (const m of text.matchAll(JWT)) {
      findings.push({
        source,
        kind: "JWT (bearer token or assertion)",
        excerpt: excerptAround(text, m.index, m[0].length),
      });
    }
    for (const m of text.matchAll(SAS_SIG)) {
      const value = m[1] ?? "";
      if (/\*|redact/i.test(value)) continue;
      findings.push({ source, kind: "SAS sig", excerpt: excerptAround(text, m.index, m[0].length) });
    }
    for (const m of text.matchAll(PRIVATE_KEY)) {
      findings.push({ source, kind: "private key", excerpt: excerptAround(text, m.index, m[0].length) });
    }
    for (const m of text.matchAll(BEARER)) {
      const value = m[1] ?? "";
      if (/\*|redact/i.test(value)) continue;
      findings.push({
        source,
        kind: "Authorization header value",
        excerpt: excerptAround(text, m.index, m[0].length),
      });
    }
    return findings;
  }
}

/**
 * What a GitHub runner shows for a step's output: `::add-mask::value` registers a mask that applies to
 * later lines only (a secret printed before it was masked leaks). Multi-line values are masked per line,
 * as the runner does. The add-mask command lines themselves are not shown.
 */
export function applyRunnerMasking(output: string, preMasked: readonly string[] = []): string {
  const masks = new Set<string>(preMasked.filter((m) => m.length > 0));
  const shown: string[] = [];
  for (const line of output.split(/\r?\n/)) {
    const cmd = /^::add-mask::(.*)$/.exec(line);
    if (cmd) {
      const value = (cmd[1] ?? "").replace(/%0D/g, "\r").replace(/%0A/g, "\n").replace(/%25/g, "%");
      for (const part of value.split(/\r?\n/)) if (part.trim().length > 0) masks.add(part);
      continue;
    }
    let masked = line;
    // Longest first, so a mask that contains another is replaced whole.
    for (const m of [...masks].sort((a, b) => b.length - a.length)) masked = masked.split(m).join("***");
    shown.push(masked);
  }
  return shown.join("\n");
}
