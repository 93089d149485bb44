/** `mde-lr` entry point (placeholder until the runbook issue fills in the commands). */
export async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(
      "Usage: mde-lr <command>\n\nCommands: run, plan, validate, resume, library, emulator\n",
    );
    return 0;
  }
  process.stderr.write(`mde-lr: unknown command "${argv[0]}". Run mde-lr --help.\n`);
  return 2;
}
