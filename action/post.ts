// Entry point of the action's post step (bundled to dist/post.js).
import { runPostStep } from "./post-step.js";

await runPostStep();
