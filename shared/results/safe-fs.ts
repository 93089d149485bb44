/**
 * File-system writes for the output folder that never follow a symlink and never leave a half-written
 * file under its final name: temp file opened exclusively (O_EXCL fails on an existing name, symlink
 * included), fsync, rename over the final name (rename replaces a symlink, it does not write through it).
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import { InputError } from "../errors.js";
import { resolveInside } from "./paths.js";

const EXCL_FLAGS = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL;
const NOFOLLOW = fs.constants.O_NOFOLLOW ?? 0;

/** Create `root` (may already exist) and refuse it when it is a symlink or not a folder. */
export function ensureOutputRoot(root: string): string {
  const abs = path.resolve(root);
  fs.mkdirSync(abs, { recursive: true });
  const st = fs.lstatSync(abs);
  if (st.isSymbolicLink() || !st.isDirectory()) {
    throw new InputError("outDir", `${abs} must be a real folder, not a symlink or a file`);
  }
  return abs;
}

/**
 * Create each folder of `relative` under `root`, refusing any component that is a symlink (a planted
 * link in a reused output folder would otherwise redirect evidence elsewhere). Returns the absolute path.
 */
export function ensureFolderInside(root: string, relative: string): string {
  const target = resolveInside(root, relative);
  let current = path.resolve(root);
  for (const part of path.relative(current, target).split(path.sep)) {
    current = path.join(current, part);
    try {
      fs.mkdirSync(current);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const st = fs.lstatSync(current);
    if (st.isSymbolicLink() || !st.isDirectory()) {
      throw new InputError("outDir", `${current} must be a real folder, not a symlink or a file`);
    }
  }
  return target;
}

/**
 * Text pieces are encoded into one buffer of this size and written when it fills. Encoding each piece
 * straight into a reused buffer (instead of joining pieces into a string first) lets every piece die
 * young: a joined string lives until its write, survives the scavenges in between and is promoted, so
 * at 5,000 devices each document written at the end of a run left its whole size as old-space garbage
 * (the end-of-run RSS peak, bench/README.md).
 */
const WRITE_BUFFER_BYTES = 256 * 1024;
/** UTF-8 takes at most 3 bytes per UTF-16 code unit (a surrogate pair: 4 bytes for 2 units). */
const MAX_UTF8_PER_UNIT = 3;

/**
 * Write `data` to `absPath` atomically (temp + fsync + rename); `absPath` must already be checked.
 * `data` may come in pieces (e.g. jsonChunks): a large document is then never one string in memory. A
 * piece is encoded on its own, so pieces must not split a surrogate pair (JSON text and lines do not).
 */
export function writeFileAtomicSync(absPath: string, data: string | Uint8Array | Iterable<string>): void {
  const tmp = `${absPath}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  const fd = fs.openSync(tmp, EXCL_FLAGS | NOFOLLOW, 0o644);
  try {
    if (typeof data === "string" || data instanceof Uint8Array) {
      fs.writeSync(fd, typeof data === "string" ? Buffer.from(data, "utf8") : data);
    } else {
      writePieces(fd, data);
    }
    fs.fsyncSync(fd);
  } catch (error) {
    fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw error;
  }
  fs.closeSync(fd);
  fs.renameSync(tmp, absPath);
  fsyncDir(path.dirname(absPath));
}

function writePieces(fd: number, pieces: Iterable<string>): void {
  const buf = Buffer.allocUnsafe(WRITE_BUFFER_BYTES);
  let used = 0;
  for (const piece of pieces) {
    const worst = piece.length * MAX_UTF8_PER_UNIT;
    if (used + worst > buf.length && used > 0) {
      writeAll(fd, buf.subarray(0, used));
      used = 0;
    }
    if (worst > buf.length) writeAll(fd, Buffer.from(piece, "utf8"));
    else used += buf.write(piece, used, "utf8");
  }
  if (used > 0) writeAll(fd, buf.subarray(0, used));
}

/** writeSync until every byte is written (a write may be short). */
function writeAll(fd: number, buf: Buffer): void {
  for (let off = 0; off < buf.length; ) off += fs.writeSync(fd, buf, off, buf.length - off);
}

/** Async twin of writeFileAtomicSync, for result files written while a run is going (never blocks the loop). */
export async function writeFileAtomic(absPath: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${absPath}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  const fh = await fsp.open(tmp, EXCL_FLAGS | NOFOLLOW, 0o644);
  try {
    await fh.writeFile(typeof data === "string" ? Buffer.from(data, "utf8") : data);
    await fh.datasync();
  } catch (error) {
    await fh.close();
    await fsp.rm(tmp, { force: true });
    throw error;
  }
  await fh.close();
  await fsp.rename(tmp, absPath);
}

/** Make a rename durable: fsync the folder entry (not supported everywhere; best effort). */
export function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, fs.constants.O_RDONLY);
    fs.fsyncSync(fd);
  } catch {
    // Some platforms (Windows) cannot open a directory for fsync; the rename itself is still atomic.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** Read at most `maxBytes` from the start of a file (report excerpts), decoding as UTF-8. */
export function readHead(absPath: string, maxBytes: number): { text: string; totalBytes: number } {
  const fd = fs.openSync(absPath, fs.constants.O_RDONLY | NOFOLLOW);
  try {
    const totalBytes = fs.fstatSync(fd).size;
    const buf = Buffer.alloc(Math.min(totalBytes, maxBytes));
    const n = fs.readSync(fd, buf, 0, buf.length, 0);
    return { text: buf.subarray(0, n).toString("utf8"), totalBytes };
  } finally {
    fs.closeSync(fd);
  }
}
