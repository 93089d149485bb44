/**
 * Where the CLI writes and how: stdout for results (JSON with --json), stderr for progress and
 * errors; colour only on a TTY and never when NO_COLOR is set (https://no-color.org). Everything
 * goes through `redact`, so a secret that slipped into a message still never reaches the terminal.
 * FORCE_COLOR turns colour on where there is no TTY (CI logs that render ANSI); NO_COLOR still wins.
 */
import { redact } from "../redact.js";

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  /** stderr is an interactive terminal: live progress view. */
  readonly interactive: boolean;
  readonly color: boolean;
  readonly env: Record<string, string | undefined>;
  /** Terminal width for tables (80 when unknown). */
  readonly columns: number;
}

export function processIo(env: Record<string, string | undefined> = process.env): CliIo {
  const interactive = process.stderr.isTTY === true && env.TERM !== "dumb";
  const noColor = env.NO_COLOR !== undefined && env.NO_COLOR !== "";
  const forceColor = env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== "" && env.FORCE_COLOR !== "0";
  return {
    out: (text) => process.stdout.write(redact(text)),
    err: (text) => process.stderr.write(redact(text)),
    interactive,
    color: (interactive || forceColor) && !noColor,
    env,
    columns: process.stderr.columns ?? 80,
  };
}

const CODES = {
  red: 31,
  green: 32,
  yellow: 33,
  blue: 34,
  magenta: 35,
  cyan: 36,
  gray: 90,
  bold: 1,
  dim: 2,
} as const;
export type Style = keyof typeof CODES;

export function paint(io: Pick<CliIo, "color">, style: Style, text: string): string {
  return io.color ? `\u001b[${CODES[style]}m${text}\u001b[0m` : text;
}

/** Status words coloured by meaning. */
export function statusStyle(status: string): Style {
  if (/^(succeeded|ok|valid|done)$/i.test(status)) return "green";
  if (/^(failed|timedOut|cancelled|error)$/i.test(status)) return "red";
  if (/^(skipped|partial|pending|warning)$/i.test(status)) return "yellow";
  return "cyan";
}
