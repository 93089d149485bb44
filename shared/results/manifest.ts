/**
 * manifest.sha256: chain of custody for every collected file, in the format `sha256sum -c` reads
 * (`<64 hex>  <relative/path>`, two spaces, POSIX separators, sorted). Names come from
 * shared/results/paths.ts, so they never contain a newline or backslash that sha256sum would escape.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import { resolveInside } from "./paths.js";
import { writeFileAtomicSync } from "./safe-fs.js";

export interface ManifestEntry {
  /** Relative to the output folder, POSIX separators. */
  file: string;
  sha256: string;
}

export const MANIFEST_FILE = "manifest.sha256";

export function formatManifest(entries: Iterable<ManifestEntry>): string {
  return [...manifestLines(entries)].join("");
}

/** The manifest a line at a time (15,000 lines for 5,000 devices × 3 files are written, never joined). */
function* manifestLines(entries: Iterable<ManifestEntry>): Generator<string> {
  const sorted = [...entries].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  for (const e of sorted) {
    if (!/^[0-9a-f]{64}$/.test(e.sha256)) throw new Error(`manifest: bad sha256 for ${e.file}`);
    if (/[\r\n\\]/.test(e.file)) throw new Error(`manifest: unsafe file name ${JSON.stringify(e.file)}`);
    yield `${e.sha256}  ${e.file}\n`;
  }
}

export function writeManifest(outDir: string, entries: Iterable<ManifestEntry>): string {
  const abs = resolveInside(outDir, MANIFEST_FILE);
  writeFileAtomicSync(abs, manifestLines(entries));
  return abs;
}

export function parseManifest(text: string): ManifestEntry[] {
  const out: ManifestEntry[] = [];
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const m = /^([0-9a-f]{64}) [ *](.+)$/.exec(line);
    if (!m) throw new Error(`manifest: malformed line ${JSON.stringify(line)}`);
    out.push({ sha256: m[1]!, file: m[2]! });
  }
  return out;
}

/** Stream a file through SHA-256 (for files we write ourselves, e.g. stdout extracts). */
export async function sha256File(absPath: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash("sha256");
  let bytes = 0;
  for await (const chunk of fs.createReadStream(absPath)) {
    const buf = chunk as Buffer;
    bytes += buf.length;
    hash.update(buf);
  }
  return { sha256: hash.digest("hex"), bytes };
}
