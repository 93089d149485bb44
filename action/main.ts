// Entry point of the action's main step (bundled to dist/main.js).
// First, before anything else loads: see shared/runtime/small-young-generation.ts.
import "../shared/runtime/small-young-generation.js";
import { runMainStep } from "./main-step.js";

await runMainStep();
