/**
 * How the processes this package owns size V8's heap: small-heap.ts applies it at start, `reportBurst`
 * wraps a run's end (RunContext.aroundReport). Pure: importing it sets nothing, so a bundle may carry a
 * copy of it.
 */
import { setFlagsFromString } from "node:v8";

/**
 * Flags that size the heap: a user who names one owns the heap (`--optimize-for-size` also shrinks the
 * young generation).
 */
const HEAP_FLAG =
  /--(max-|min-)?semi[-_]space|--semi[-_]space[-_]growth|--max-young|--(no-)?optimize[-_]for[-_]size|--heap[-_]growing|--(max-|initial-)old[-_]space|--(max-|initial-)heap[-_]size/;

/** MDE_LR_V8_DEFAULTS=1, or a heap flag on the command line or in NODE_OPTIONS: leave V8 as it is. */
export function userOwnsHeap(): boolean {
  if (process.env["MDE_LR_V8_DEFAULTS"] === "1") return true;
  return HEAP_FLAG.test([...process.execArgv, process.env["NODE_OPTIONS"] ?? ""].join(" "));
}

/**
 * Runs the synchronous writing at the end of a run (journal snapshot, manifest, report.json, summary.md,
 * report.html) with `--optimize-for-size` off (V8's default), and turns it on again after: over a long
 * run it is what keeps the old generation small (small-heap.ts).
 *
 * Why: that writing allocates short-lived strings as fast as a core can (~100 MB for ~60 MB of files at
 * 5,000 devices). In about half the runs a mark-compact starts during it, in V8's memory-reducing mode
 * (`Mark-Compact (reduce)` in `--trace-gc`), and the trace shows no scavenge for the ~45 ms of that
 * marking while the heap grows 15–20 MiB; RSS keeps the high-water mark. Measured in the fleet
 * benchmark, 5,000 devices × 3 steps, single runs: the end of the run peaked at 158–178 MiB in 5 runs
 * without this (mean 170), at 153–158 in 4 runs with it (mean 155). Not `--no-incremental-marking`,
 * which removed the spike too: set at run time it let a synthetic burst grow the old generation to
 * 920 MB before its first collection (bench/README.md).
 */
export function reportBurst<T>(write: () => T): T {
  if (userOwnsHeap()) return write();
  setFlagsFromString("--no-optimize-for-size");
  try {
    return write();
  } finally {
    setFlagsFromString("--optimize-for-size");
  }
}
