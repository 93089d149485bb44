/**
 * `bin/mde-lr.js` without the compile step: the same `main(argv)` from shared/cli, bundled by esbuild
 * (build-worker.ts) so chaos runs and tests always drive the current sources with a fast start-up.
 */
import { main } from "../../../shared/cli/main.js";

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
