/**
 * The one place that knows every secret shape. Everything that may end up in a log, an error message,
 * a report or state passes through `redact`. Literal secrets (client secrets, assertions, tokens, SAS URLs)
 * are registered at run time; listeners (the GitHub Action's `core.setSecret`) hear about each one.
 */

const MASK = "***";
/** Shorter literals would mask ordinary words; real secrets are far longer. */
const MIN_LITERAL_LENGTH = 6;

const literals = new Set<string>();
let sortedLiterals: string[] = [];
/**
 * Sorting on every registration made registering quadratic: a big run registers four literals per
 * result link (tens of thousands), while redaction is rare. So sort lazily, on the next `redact`.
 */
let sortedDirty = false;
const listeners = new Set<(secret: string) => void>();

function addLiteral(value: string): boolean {
  if (value.length < MIN_LITERAL_LENGTH || literals.has(value)) return false;
  literals.add(value);
  return true;
}

/** Adds a literal secret (and its URL-encoded form) to the redactor and tells every listener. */
export function registerSecret(value: string | undefined | null): void {
  if (!value) return;
  const added: string[] = [];
  for (const form of new Set([value, encodeURIComponent(value)])) {
    if (addLiteral(form)) added.push(form);
  }
  if (added.length === 0) return;
  sortedDirty = true;
  for (const secret of added) {
    for (const listener of listeners) {
      try {
        listener(secret);
      } catch {
        // A failing listener must not break the caller that just received a secret.
      }
    }
  }
}

/**
 * Registers a signed (SAS) URL: the whole URL and its `sig` value, raw and decoded, so the signature
 * stays masked however it is later printed.
 */
export function registerSasUrl(url: string): void {
  registerSecret(url);
  try {
    const sig = new URL(url).searchParams.get("sig");
    if (sig) {
      registerSecret(sig);
      registerSecret(encodeURIComponent(sig));
    }
  } catch {
    // Not a URL: the literal registration above is all we can do.
  }
}

/** Subscribes to secrets as they are registered; already-known secrets are replayed first. Returns an unsubscribe. */
export function onSecretRegistered(listener: (secret: string) => void): () => void {
  for (const secret of literals) {
    try {
      listener(secret);
    } catch {
      // See registerSecret.
    }
  }
  listeners.add(listener);
  return () => listeners.delete(listener);
}

const PATTERNS: [RegExp, (...m: string[]) => string][] = [
  // Whole signed URLs (any URL whose query carries sig=), raw or URL-encoded inside another string.
  [/\bhttps?:\/\/[^\s"'<>?]+\?[^\s"'<>]*\bsig=[^\s"'<>]*/gi, (m) => `${sasBase(m)}?${MASK}`],
  [/\bhttps?%3A%2F%2F[^\s"'<>&]*?%3F[^\s"'<>&]*?sig%3D[^\s"'<>&]*/gi, () => MASK],
  // Authorization headers, whatever the scheme.
  [
    /(\bauthorization["']?\s*[:=]\s*["']?)(?:(bearer|basic)\s+)?[^\s"',;]+/gi,
    (_m, p, s) => `${p}${s ? `${s} ` : ""}${MASK}`,
  ],
  [/\b(bearer\s+)[A-Za-z0-9\-._~+/]+=*/gi, (_m, p) => `${p}${MASK}`],
  // JWTs (header.payload.signature; unsigned tokens have an empty third segment).
  [/\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g, () => MASK],
  // Form fields and JSON properties that carry credentials.
  [
    /\b(client_secret|client_assertion|access_token|refresh_token|assertion)=[^&\s"']*/gi,
    (_m, k) => `${k}=${MASK}`,
  ],
  [
    /("(?:client_secret|clientSecret|client_assertion|clientAssertion|access_token|accessToken|refresh_token)"\s*:\s*")(?:[^"\\]|\\.)*"/gi,
    (_m, p) => `${p}${MASK}"`,
  ],
  // Stray SAS signatures (raw or URL-encoded), e.g. a query string without its URL.
  [/\b(sig(?:=|%3D))[^&\s"'<>]+/gi, (_m, p) => `${p}${MASK}`],
];

function sasBase(url: string): string {
  const q = url.indexOf("?");
  return q < 0 ? url : url.slice(0, q);
}

/** Masks every known secret and secret-shaped value in `text`. */
export function redact(text: string): string {
  if (sortedDirty) {
    // Longest first so a secret containing another is masked whole.
    sortedLiterals = [...literals].sort((a, b) => b.length - a.length);
    sortedDirty = false;
  }
  let out = text;
  for (const secret of sortedLiterals) {
    if (out.includes(secret)) out = out.split(secret).join(MASK);
  }
  for (const [pattern, replacement] of PATTERNS) {
    out = out.replace(pattern, replacement);
  }
  return out;
}

/** A message for an unknown thrown value, redacted. */
export function redactError(error: unknown): string {
  if (error instanceof Error) return redact(error.message);
  return redact(String(error));
}
