/**
 * The one place that knows every secret shape. Everything that may end up in a log, an error message,
 * a report or state passes through `redact`. Literal secrets (client secrets, assertions, tokens, SAS URLs)
 * are registered at run time; listeners (the GitHub Action's `core.setSecret`) hear about each one.
 */

const MASK = "***";
/** Shorter literals would mask ordinary words; real secrets are far longer. */
const MIN_LITERAL_LENGTH = 6;

/**
 * Known literals, each with the number of signed (SAS) links still using it; credentials are kept for
 * the life of the process (PERMANENT). A fleet run fetches one link per result (15,000 in a 5,000-device
 * 3-step run, ~1.5 KiB of literals each): keeping them all made the redactor the largest thing a run
 * retained per device, and every `redact()` walks the list. A link's literals are released once the
 * download that used it ended (`releaseSasUrl`); the patterns below still mask any signed URL or `sig=`
 * value after that, only no longer as one whole `***`.
 */
const literals = new Map<string, number>();
const PERMANENT = Number.POSITIVE_INFINITY;
let sortedLiterals: string[] = [];
/**
 * Sorting on every registration made registering quadratic: a big run registers four literals per
 * result link (tens of thousands), while redaction is rare. So sort lazily, on the next `redact`.
 */
let sortedDirty = false;
const listeners = new Set<(secret: string) => void>();

/** Counts one more use of `value`; true when it was not known before (listeners are then told). */
function addLiteral(value: string, uses: number): boolean {
  if (value.length < MIN_LITERAL_LENGTH) return false;
  const known = literals.get(value);
  literals.set(value, known === undefined ? uses : known + uses);
  return known === undefined;
}

function tell(added: readonly string[]): void {
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

/** `value` and its URL-encoded form. */
function forms(value: string): string[] {
  return [...new Set([value, encodeURIComponent(value)])];
}

/** Adds a literal secret (and its URL-encoded form) to the redactor and tells every listener. */
export function registerSecret(value: string | undefined | null): void {
  if (!value) return;
  tell(forms(value).filter((form) => addLiteral(form, PERMANENT)));
}

/** The literals of a signed URL: the URL and its `sig` value, raw and encoded (see registerSasUrl). */
function sasForms(url: string): string[] {
  const out = forms(url);
  try {
    const sig = new URL(url).searchParams.get("sig");
    if (sig) out.push(...forms(sig), ...forms(encodeURIComponent(sig)));
  } catch {
    // Not a URL: the literal forms above are all we can do.
  }
  return [...new Set(out)];
}

/**
 * Registers a signed (SAS) URL: the whole URL and its `sig` value, raw and decoded, so the signature
 * stays masked however it is later printed. Each registration is one use, ended by `releaseSasUrl`;
 * a URL nobody releases stays registered for the life of the process.
 */
export function registerSasUrl(url: string): void {
  tell(sasForms(url).filter((form) => addLiteral(form, 1)));
}

/**
 * Ends one use of a signed URL registered with `registerSasUrl`: once no use is left, its literals
 * leave the list (a literal also registered as a secret stays). Listeners keep what they were told.
 */
export function releaseSasUrl(url: string): void {
  for (const form of sasForms(url)) {
    const uses = literals.get(form);
    if (uses === undefined || uses === PERMANENT) continue;
    if (uses > 1) literals.set(form, uses - 1);
    else {
      literals.delete(form);
      sortedDirty = true;
    }
  }
}

/** Subscribes to secrets as they are registered; already-known secrets are replayed first. Returns an unsubscribe. */
export function onSecretRegistered(listener: (secret: string) => void): () => void {
  for (const secret of literals.keys()) {
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
    sortedLiterals = [...literals.keys()].sort((a, b) => b.length - a.length);
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
