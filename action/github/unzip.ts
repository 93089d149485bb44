/**
 * Unpacks a downloaded run-folder artifact into a fresh folder with yauzl. An artifact is data from
 * another workflow run (anyone who can write to the repository's Actions can make one), so no entry may
 * leave the folder: absolute names, `..`, backslashes and symlinks are refused (yauzl checks names too;
 * resolveInside proves containment again), and entry count and size are bounded.
 */
import { createWriteStream, mkdirSync, readdirSync } from "node:fs";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { InputError } from "../../shared/errors.js";
import { resolveInside } from "../../shared/results/paths.js";

export const MAX_ENTRIES = 200_000;
/** Bounds a zip bomb; a run folder this large would not have been uploaded in one job anyway. */
export const MAX_TOTAL_BYTES = 20 * 1024 ** 3;
const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;

export async function extractZipInside(
  zipFile: string,
  dest: string,
): Promise<{ files: number; bytes: number }> {
  mkdirSync(dest, { recursive: true });
  if (readdirSync(dest).length > 0) throw new InputError("resume-from", `${dest} must be an empty folder`);
  // yauzl is CommonJS: its functions are on the namespace's default export once bundled.
  const mod = await import("yauzl");
  const yauzl: typeof mod = (mod as unknown as { default?: typeof mod }).default ?? mod;
  const zip = await yauzl.openPromise(zipFile, {
    lazyEntries: true,
    autoClose: false,
    strictFileNames: true,
    validateEntrySizes: true,
  });
  let files = 0;
  let bytes = 0;
  let count = 0;
  try {
    for await (const entry of zip.eachEntry()) {
      if (++count > MAX_ENTRIES)
        throw new InputError("resume-from", `artifact has more than ${MAX_ENTRIES} entries`);
      const name = entry.fileName;
      if (name.startsWith("/") || name.includes("\\") || name.split("/").some((s) => s === "..")) {
        throw new InputError(
          "resume-from",
          `artifact entry "${name.slice(0, 120)}" would leave the run folder`,
        );
      }
      if (((entry.externalFileAttributes >>> 16) & S_IFMT) === S_IFLNK) {
        throw new InputError("resume-from", `artifact entry "${name.slice(0, 120)}" is a symbolic link`);
      }
      if (name.endsWith("/")) {
        mkdirSync(resolveInside(dest, name.replace(/\/+$/, "")), { recursive: true });
        continue;
      }
      const target = resolveInside(dest, name);
      bytes += entry.uncompressedSize;
      if (bytes > MAX_TOTAL_BYTES)
        throw new InputError("resume-from", "artifact unpacks to more than 20 GiB");
      mkdirSync(path.dirname(target), { recursive: true });
      // `wx`: an entry listed twice must not overwrite the first.
      await pipeline(await zip.openReadStreamPromise(entry), createWriteStream(target, { flags: "wx" }));
      files++;
    }
  } finally {
    zip.close();
  }
  return { files, bytes };
}
