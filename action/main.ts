// Entry point of the action's main step (bundled to dist/main.js).
import { runMainStep } from "./main-step.js";

await runMainStep();
