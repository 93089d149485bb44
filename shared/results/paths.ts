/**
 * Names on disk built from device-controlled text (machine ids, computer names, device paths).
 * Everything a device reports is hostile input: a name must never climb out of the output folder,
 * never be a reserved Windows device name, and must be accepted by the GitHub artifact service,
 * which rejects `" : < > | * ? \r \n \ /` anywhere in a path.
 */
import { createHash } from "node:crypto";
import path from "node:path";
import { InputError } from "../errors.js";

/** Windows refuses these as file names, with or without an extension (CON.txt is still CON). */
const RESERVED_WINDOWS = /^(con|prn|aux|nul|clock\$|conin\$|conout\$|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?$/i;

/**
 * Keep letters, digits and a few harmless punctuation marks; everything else (separators, `:`,
 * control and bidi-override characters, quotes, wildcards) becomes `_`. Unicode letters are kept
 * so a Cyrillic or CJK computer name stays readable.
 */
const UNSAFE_CHAR = /[^\p{L}\p{M}\p{N}._\-+=@,()[\]{}~#$%&']/gu;

/** Bytes, not characters: ext4 and NTFS both cap a single name near 255 bytes. */
const MAX_SEGMENT_BYTES = 120;

function shortHash(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 10);
}

function truncateUtf8(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  let out = "";
  let bytes = 0;
  for (const ch of text) {
    const n = Buffer.byteLength(ch);
    if (bytes + n > maxBytes) break;
    out += ch;
    bytes += n;
  }
  return out;
}

/**
 * One safe path segment from arbitrary text. Never empty, never `.`/`..`, no leading dot (the
 * artifact upload skips dotfiles), no trailing dot or space (Windows strips them), no reserved name.
 * Over-long names are cut and given a hash of the original so two long names stay distinct.
 */
export function sanitizeSegment(raw: string, fallback = "unnamed"): string {
  let name = raw.normalize("NFC").replace(UNSAFE_CHAR, "_");
  name = name.replace(/_{2,}/g, "_");
  name = name.replace(/^[.\s_]+/, "").replace(/[.\s_]+$/, "");
  if (name === "") name = fallback;
  if (RESERVED_WINDOWS.test(name)) name = `_${name}`;
  if (Buffer.byteLength(name) > MAX_SEGMENT_BYTES) {
    const suffix = `~${shortHash(raw)}`;
    name = truncateUtf8(name, MAX_SEGMENT_BYTES - suffix.length).replace(/[.\s]+$/, "") + suffix;
  }
  return name;
}

/** Per-device folder: the machine id (40 hex, checked) plus a readable, sanitized computer name. */
export function deviceFolderName(machineId: string, computerDnsName: string | null): string {
  const id = sanitizeSegment(machineId.toLowerCase(), "device");
  if (!computerDnsName) return id;
  const host = sanitizeSegment(computerDnsName, "");
  return host ? `${id}_${host}` : id;
}

/**
 * File name for a GetFile result from the device path: the whole path flattened into one segment
 * (`C:\Windows\Temp\x.zip` → `03-C_Windows_Temp_x.zip`) so the origin stays visible, prefixed by the
 * step number so two steps never collide.
 */
export function getFileResultName(step: number, devicePath: string): string {
  const flattened = devicePath.replace(/[\\/]+/g, "_").replace(/:/g, "");
  return `${stepPrefix(step)}-${sanitizeSegment(flattened, "file")}`;
}

/** Base name (without extension) for a RunScript transcript and its stdout/stderr files. */
export function scriptResultBase(step: number, scriptName: string): string {
  return `${stepPrefix(step)}-${sanitizeSegment(scriptName, "script")}`;
}

function stepPrefix(step: number): string {
  return String(step).padStart(2, "0");
}

/**
 * Resolve `relative` (POSIX separators) under `root` and prove the result stays inside it.
 * Throws instead of clamping: a name that tries to escape is a bug or an attack, never a fallback.
 */
export function resolveInside(root: string, relative: string): string {
  const base = path.resolve(root);
  const target = path.resolve(base, ...relative.split("/"));
  const rel = path.relative(base, target);
  if (rel === "" || rel.startsWith("..") || path.isAbsolute(rel)) {
    throw new InputError("outDir", `refusing to write "${relative}": it resolves outside the output folder`);
  }
  return target;
}

/** POSIX form of a path relative to the output folder (what report.json and the manifest show). */
export function toReportPath(root: string, absolute: string): string {
  return path.relative(path.resolve(root), absolute).split(path.sep).join("/");
}
