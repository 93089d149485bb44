/**
 * Sizes V8's heap for a small footprint for the life of the process. Imported for its side effect,
 * first, by the processes this package owns (bin/mde-lr.js, the action's two steps) and by the
 * benchmarks that stand in for them; never by the library's index, because a host that embeds the
 * library (a Pulumi host, a user's service) owns its own heap.
 *
 * Two settings, both read by V8 at run time (unlike `--max-semi-space-size` or
 * `--initial-old-space-size`, read once at start), so they hold from the moment this module runs:
 *
 * 1. `--semi-space-growth-factor=1`: the young generation stays at its initial 1 MiB per semi-space.
 *    Every socket read and every gunzip output is a fresh ArrayBuffer (no public API reads or inflates
 *    into a reused one). Their JS wrappers are tiny, so a new space that module loading and a busy run
 *    have grown to 8–64 MiB goes seconds without a scavenge and the dead buffers wait for V8's
 *    external-memory trigger. Measured (bench/README.md, *Memory at scale*): a 1 GiB GetFile through
 *    `mde-lr` peaks at 118–119 MiB instead of 160–166, at the same rate.
 * 2. `--optimize-for-size`, one second after start: V8 grows the old generation in small steps and
 *    collects before it grows.
 *    With (1), short-lived objects of a busy fleet run are promoted sooner, and V8's first old-space
 *    limit let that garbage (and the buffers it holds) reach ~40 MiB before the first mark-compact;
 *    the process's RSS never comes back from that high-water mark. Measured in the fleet benchmark
 *    (5,000 devices): peak RSS 170 → 145 MiB (1 step, by machine id) and 192 → 162 MiB (3 steps),
 *    at the same wall time, for more CPU in the benchmark's ×240–340 accelerated runs (19–26 % →
 *    23–39 % of a core; in a real run the process mostly waits on the service). Its costs, measured
 *    A/B: a 1 GiB download ~10 % slower (less optimised JS on the stream path), and a 15–20 % later
 *    first request when set at start, hence the delay.
 *
 * A user's own flags win: nothing is set when NODE_OPTIONS or the command line already name a flag that
 * sizes the heap, and MDE_LR_V8_DEFAULTS=1 leaves V8 as it is (heap-policy.ts, which also has the one
 * exception: the synchronous writing at the end of a run runs without (2), see reportBurst). A test (test/runtime) checks that the
 * Node we ship on still honours both.
 */
import { setFlagsFromString } from "node:v8";
import { userOwnsHeap } from "./heap-policy.js";

const FAVOUR_SIZE_AFTER_MS = 1_000;

if (!userOwnsHeap()) {
  setFlagsFromString("--semi-space-growth-factor=1");
  // Once the process has lived a second: set at start (or right after loading) it made `mde-lr run`
  // reach its first request 15–20 % later; a second in, start-up is over and a long run has only begun.
  setTimeout(() => setFlagsFromString("--optimize-for-size"), FAVOUR_SIZE_AFTER_MS).unref();
}
