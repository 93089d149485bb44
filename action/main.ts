// Entry point of the action's main step (bundled to dist/main.js).
// First, before anything else loads: see shared/runtime/small-heap.ts.
import "../shared/runtime/small-heap.js";
import { runMainStep } from "./main-step.js";

await runMainStep();
