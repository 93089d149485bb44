/**
 * RunScript transcripts (mde-api.md §4.6): `{"script_name","exit_code","script_output","script_errors"}`.
 * Microsoft's own example is not strict JSON (raw line breaks inside strings, `\u0000` padding, sometimes
 * cut short), so strict JSON.parse is tried first and a tolerant scanner recovers the rest. Never throws.
 * Returned text keeps everything except NUL padding; the raw bytes stay on disk untouched.
 */
import type { ScriptTranscript } from "./types.js";

// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL padding is exactly what we strip.
const NUL = /\u0000/g;

export function parseTranscript(input: string | Uint8Array): ScriptTranscript {
  const text = (typeof input === "string" ? input : Buffer.from(input).toString("utf8")).replace(
    /^\uFEFF/,
    "",
  );
  const strict = tryStrict(text);
  if (strict) return strict;
  return tolerant(text);
}

function fromObject(o: Record<string, unknown>, strict: boolean): ScriptTranscript {
  const str = (v: unknown): string =>
    typeof v === "string" ? v.replace(NUL, "") : v == null ? "" : String(v);
  const exit = o.exit_code;
  return {
    scriptName: typeof o.script_name === "string" ? o.script_name.replace(NUL, "") : null,
    exitCode:
      typeof exit === "number" && Number.isFinite(exit)
        ? exit
        : typeof exit === "string" && /^-?\d+$/.test(exit.trim())
          ? Number(exit)
          : null,
    stdout: str(o.script_output),
    stderr: str(o.script_errors),
    strict,
  };
}

function tryStrict(text: string): ScriptTranscript | undefined {
  try {
    const v: unknown = JSON.parse(text);
    if (v && typeof v === "object" && !Array.isArray(v))
      return fromObject(v as Record<string, unknown>, true);
  } catch {
    // fall through to the tolerant scanner
  }
  return undefined;
}

/**
 * Scans for `"key": value` pairs. A string ends at an unescaped quote followed by `,` + next key, `}` or
 * the end; other quotes and raw control characters are kept as text. A truncated string ends at EOF.
 */
function tolerant(text: string): ScriptTranscript {
  const out: Record<string, unknown> = {};
  const keyRe = /"([A-Za-z_]+)"\s*:\s*/g;
  let m: RegExpExecArray | null = keyRe.exec(text);
  while (m !== null) {
    const key = m[1] as string;
    let pos = keyRe.lastIndex;
    if (text[pos] === '"') {
      const [value, end] = readString(text, pos + 1);
      if (!(key in out)) out[key] = value;
      pos = end;
    } else {
      const lit = /^(-?\d+(?:\.\d+)?|null|true|false)/.exec(text.slice(pos, pos + 40));
      if (lit && !(key in out)) {
        const l = lit[1] as string;
        out[key] = l === "null" ? null : l === "true" ? true : l === "false" ? false : Number(l);
      }
      pos += lit ? (lit[1] as string).length : 0;
    }
    keyRe.lastIndex = pos;
    m = keyRe.exec(text);
  }
  if (Object.keys(out).length === 0) {
    // Not even key-shaped: keep the whole body as output so nothing is lost.
    return { scriptName: null, exitCode: null, stdout: text.replace(NUL, ""), stderr: "", strict: false };
  }
  return fromObject(out, false);
}

const ESCAPES: Record<string, string> = {
  '"': '"',
  "\\": "\\",
  "/": "/",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
};

/** What may follow a closing quote: the next key, the closing brace (NUL padding allowed) or the end. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL padding may follow the closing quote.
const STRING_END = /[\s\u0000]*(,[\s\u0000]*"[A-Za-z_]+"[\s\u0000]*:|}|$)/y;

function readString(text: string, start: number): [string, number] {
  let s = "";
  let i = start;
  while (i < text.length) {
    const ch = text[i] as string;
    if (ch === "\\") {
      const next = text[i + 1];
      if (next === undefined) return [s, text.length];
      if (next === "u" && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
        s += String.fromCharCode(Number.parseInt(text.slice(i + 2, i + 6), 16));
        i += 6;
        continue;
      }
      s += ESCAPES[next] ?? next;
      i += 2;
      continue;
    }
    if (ch === '"') {
      STRING_END.lastIndex = i + 1;
      if (STRING_END.test(text)) return [s, i + 1];
    }
    s += ch;
    i++;
  }
  return [s, text.length];
}
