/** Escaping for report.html: JSON inside a script element, and text inside HTML. */
import { jsonChunks } from "../../results/json-chunks.js";

const SCRIPT_UNSAFE = /[<>&\u2028\u2029]/g;

/** The escape is per character, so escaping JSON piece by piece gives the same text as all at once. */
function escapeForScript(json: string): string {
  return json.replace(SCRIPT_UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** JSON that is safe inside a `<script>` element (and still JSON.parse-able to the same value). */
export function jsonForScript(value: unknown): string {
  return escapeForScript(JSON.stringify(value));
}

/**
 * `jsonForScript(value)` in pieces, one per member of the outer `depth` levels (see jsonChunks): the
 * page's data for 5,000 devices is ~9 MB, and as one string plus its escaped copy plus its UTF-8 copy it
 * was the peak of a whole run.
 */
export function* jsonForScriptChunks(value: unknown, depth: number): Generator<string> {
  for (const piece of jsonChunks(value, 0, depth)) yield escapeForScript(piece);
}

export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c,
  );
}

/** Bytes one UTF-16 code unit of a JSON string value costs in the page (escapes included). */
export function costInPage(code: number): number {
  if (code === 60 || code === 62 || code === 38 || code === 0x2028 || code === 0x2029) return 6; // \u003c
  if (code === 34 || code === 92) return 2; // \" \\
  if (code < 0x20) return code === 8 || code === 9 || code === 10 || code === 12 || code === 13 ? 2 : 6;
  if (code < 0x80) return 1;
  if (code < 0x800) return 2;
  if (code >= 0xd800 && code < 0xe000) return 2; // half of a 4-byte pair
  return 3;
}
