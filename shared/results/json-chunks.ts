/**
 * `JSON.stringify(value, null, indent)` in pieces, byte for byte the same text, so a large document
 * (report.json, the journal snapshot: one entry per device) is written entry by entry instead of as one
 * string of tens of MiB plus its UTF-8 copy. The outer `depth` levels of plain objects and arrays are
 * expanded here; anything deeper is one `JSON.stringify` call (re-indented to where it sits).
 */

type Json = unknown;

function isPlainObject(v: object): boolean {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** What JSON.stringify does to a value before writing it: toJSON, and dropping what it cannot write. */
function prepare(holder: string, value: Json): Json {
  const withToJson = value as { toJSON?: (key: string) => Json } | null;
  if (withToJson !== null && typeof withToJson === "object" && typeof withToJson.toJSON === "function") {
    return withToJson.toJSON(holder);
  }
  return value;
}

function omitted(value: Json): boolean {
  return value === undefined || typeof value === "function" || typeof value === "symbol";
}

/**
 * Yields the text of `JSON.stringify(value, null, indent)` (`indent` 0 for the compact form) in
 * pieces: one per member of the outer `depth` levels. `value` must be something JSON.stringify writes
 * (not undefined at the top).
 */
export function* jsonChunks(value: Json, indent: number, depth: number): Generator<string> {
  yield* chunksAt(value, prepare("", value), indent, depth, 0);
}

/** `raw` as found, `value` after its toJSON (called once, as JSON.stringify does). */
function* chunksAt(raw: Json, value: Json, indent: number, depth: number, level: number): Generator<string> {
  const pad = indent > 0 ? `\n${" ".repeat(indent * (level + 1))}` : "";
  const close = indent > 0 ? `\n${" ".repeat(indent * level)}` : "";
  const expand =
    level < depth &&
    value !== null &&
    typeof value === "object" &&
    (Array.isArray(value) || isPlainObject(value));
  if (!expand) {
    // JSON.stringify(raw) calls raw's toJSON itself (a result's own toJSON is not called again).
    const text = JSON.stringify(raw, null, indent) ?? "null";
    yield indent > 0 && level > 0 ? text.replaceAll("\n", `\n${" ".repeat(indent * level)}`) : text;
    return;
  }
  if (Array.isArray(value)) {
    if (value.length === 0) {
      yield "[]";
      return;
    }
    for (let i = 0; i < value.length; i++) {
      yield `${i === 0 ? "[" : ","}${pad}`;
      const item = prepare(String(i), value[i]);
      if (omitted(item)) yield "null";
      else yield* chunksAt(value[i], item, indent, depth, level + 1);
    }
    yield `${close}]`;
    return;
  }
  const record = value as Record<string, Json>;
  let first = true;
  for (const k of Object.keys(record)) {
    const item = prepare(k, record[k]);
    if (omitted(item)) continue;
    yield `${first ? "{" : ","}${pad}${JSON.stringify(k)}${indent > 0 ? ": " : ":"}`;
    first = false;
    yield* chunksAt(record[k], item, indent, depth, level + 1);
  }
  yield first ? "{}" : `${close}}`;
}

/** The pieces, then a final newline (a text file's last line). */
export function* withNewline(pieces: Iterable<string>): Generator<string> {
  yield* pieces;
  yield "\n";
}
