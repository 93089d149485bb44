// Entry point of the action's post step (bundled to dist/post.js).
// First, before anything else loads: see shared/runtime/small-heap.ts.
import "../shared/runtime/small-heap.js";
import { runPostStep } from "./post-step.js";

await runPostStep();
