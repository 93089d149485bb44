/**
 * Ctrl-C / SIGTERM: the first one aborts the run context (the orchestrator stops submitting,
 * cancels this run's unfinished actions and writes the report); a second one exits at once.
 */
import { CancelledError } from "../errors.js";
import { type CliIo, paint } from "./io.js";

export interface Interrupts {
  readonly signal: AbortSignal;
  dispose(): void;
}

/** Exit code after a second interrupt: the shell convention 128 + SIGINT. */
export const FORCED_EXIT_CODE = 130;

export function handleInterrupts(
  io: CliIo,
  what = "cancelling this run's unfinished actions and writing the report",
): Interrupts {
  const controller = new AbortController();
  const onSignal = (name: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      io.err(
        `\n${paint(io, "red", "mde-lr:")} ${name} again: exiting now; \`mde-lr resume <dir>\` or \`mde-lr cancel <dir>\` picks the run up\n`,
      );
      process.exit(FORCED_EXIT_CODE);
    }
    io.err(`\n${paint(io, "yellow", "mde-lr:")} ${name}: ${what} (press Ctrl-C again to exit immediately)\n`);
    controller.abort(new CancelledError(`interrupted by ${name}`));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    },
  };
}
