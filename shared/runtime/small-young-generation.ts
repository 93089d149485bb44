/**
 * Keeps V8's young generation at its initial size for the life of the process. Imported for its side
 * effect, first, by the processes this package owns (bin/mde-lr.js, the action's two steps) and by the
 * benchmarks that stand in for them; never by the library's index, because a host that embeds the
 * library (a Pulumi host, a user's service) owns its own heap.
 *
 * Why: every socket read and every gunzip output is a fresh 64 KiB ArrayBuffer (no public API reads or
 * inflates into a reused one). Their JS wrappers are tiny, so a new space that module loading and a
 * busy run have grown to 8–64 MiB per semi-space goes seconds without a scavenge, and the dead buffers
 * wait for V8's external-memory trigger (a mark-compact per ~64 MiB of them). A new space that stays at
 * 1 MiB is scavenged every ~1 MiB of wrappers and frees them early. Measured (bench/README.md, *Memory
 * at scale*): a 1 GiB GetFile through `mde-lr` peaks at 118–119 MiB instead of 160–166, at the same rate;
 * fleet runs keep a young generation of 2 MiB instead of 128 MiB committed, at the same wall / T*.
 *
 * How: `--semi-space-growth-factor` is read each time V8 grows the new space, so setting it at run time
 * (unlike `--max-semi-space-size`, read once at start) takes effect for every later growth; hence it
 * must run before the rest of the program loads. A test (test/runtime) checks that the Node we ship
 * on still honours it. A user's own young-generation flags win: nothing is set when NODE_OPTIONS or
 * the command line already names one, and MDE_LR_V8_DEFAULTS=1 leaves V8 as it is.
 */
import { setFlagsFromString } from "node:v8";

const YOUNG_GENERATION_FLAG = /--(max-|min-)?semi[-_]space|--semi[-_]space[-_]growth|--max-young/;

function userChoseYoungGeneration(): boolean {
  if (process.env["MDE_LR_V8_DEFAULTS"] === "1") return true;
  const given = [...process.execArgv, process.env["NODE_OPTIONS"] ?? ""].join(" ");
  return YOUNG_GENERATION_FLAG.test(given);
}

if (!userChoseYoungGeneration()) setFlagsFromString("--semi-space-growth-factor=1");
