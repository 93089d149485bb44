/**
 * `mde-lr`: the command line front end. Thin glue: commander parses, the commands call the core
 * (runbook, plan, run, api) and map outcomes to exit codes — 0 every device succeeded, 1 the run
 * finished and something failed, 2 invalid input or configuration (nothing submitted), 3 sign-in
 * or permission failure.
 */
import { Command, CommanderError, Option } from "commander";
import { collectMachine } from "./collect.js";
import { reportFailure } from "./failure.js";
import { type CliIo, processIo } from "./io.js";

const ENV_HELP = `
Connection (flags win over the environment):
  MDE_TENANT_ID, MDE_CLIENT_ID      app registration (tenant and client ids)
  MDE_CLIENT_SECRET                  client secret (only from the environment, never a flag)
  MDE_CLIENT_CERTIFICATE             PEM file with private key and certificate
  MDE_ACCESS_TOKEN                   a ready-made access token, not refreshed
  MDE_CLOUD, MDE_REGION              public | gcc | gcc-high | dod; us | eu | uk | au | swa | ina | aea
  MDE_API_URL, MDE_AUTHORITY_HOST    explicit endpoints (e.g. a local emulator)
  MDE_CA_FILE                        extra CA certificate(s) to trust (PEM)
  NO_COLOR                           no colours in the output (FORCE_COLOR: colours without a terminal)

Exit codes: 0 every device succeeded, 1 the run finished and something failed,
2 invalid input or configuration (nothing submitted), 3 sign-in or permission failure.

Try it with no tenant:  mde-lr run examples/runbooks/triage.yaml --emulator
`;

function withConnectionOptions(cmd: Command, emulator: boolean): Command {
  cmd
    .option("--api-url <url>", "MDE API base URL (MDE_API_URL)")
    .option("--authority-host <url>", "Entra sign-in host (MDE_AUTHORITY_HOST)")
    .option("--tenant-id <id>", "directory (tenant) id (MDE_TENANT_ID)")
    .option("--client-id <id>", "application (client) id (MDE_CLIENT_ID)")
    .option("--client-certificate <file>", "PEM with private key and certificate (MDE_CLIENT_CERTIFICATE)")
    .option("--cloud <name>", "public | gcc | gcc-high | dod (MDE_CLOUD)")
    .option("--region <geo>", "geo API host: us | eu | uk | au | swa | ina | aea (MDE_REGION)")
    .option("--ca-file <file>", "extra CA certificate(s) to trust, PEM (MDE_CA_FILE)");
  if (emulator) {
    cmd
      .option("--emulator", "use the built-in MDE emulator with a demo fleet instead of a tenant")
      .addOption(
        new Option("--emulator-scale <n>", "emulator service ms per real ms (speeds up the demo)").default(
          undefined,
        ),
      );
  }
  return cmd.option("--json", "machine-readable JSON on stdout");
}

// Each command's module is loaded by its action only: `run` must not pay for the emulator (node-forge),
// and `validate` must not pay for the HTTP client. Errors surface unchanged through parseAsync.
const commands = {
  run: () => import("./commands/run.js"),
  plan: () => import("./commands/plan.js"),
  validate: () => import("./commands/validate.js"),
  library: () => import("./commands/library.js"),
  emulator: () => import("./commands/emulator.js"),
  report: () => import("./commands/report.js"),
};

export function buildProgram(io: CliIo, setExit: (code: number) => void): Command {
  const program = new Command("mde-lr")
    .description(
      "Run Microsoft Defender for Endpoint Live Response runbooks: run scripts, collect files, push tools.",
    )
    .addHelpText("after", ENV_HELP)
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) });
  const sub = (cmd: Command) =>
    cmd.exitOverride().configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) });

  withConnectionOptions(
    sub(
      program
        .command("run")
        .description("run a runbook on its devices and collect the results")
        .argument("<runbook>", "runbook YAML file"),
    ),
    true,
  )
    .option("--out <dir>", "output folder (default mde-lr-runs/<name>-<time>)")
    .option(
      "--machine <id>",
      "run on this device id instead of the runbook's targets (repeatable)",
      collectMachine,
    )
    .option(
      "--detach-after <duration>",
      "stop watching after this long (e.g. 15m); the report says pending and `mde-lr resume` finishes",
    )
    .action(async (path: string, opts) => setExit(await (await commands.run()).runCommand(io, path, opts)));

  withConnectionOptions(
    sub(
      program
        .command("plan")
        .description("show devices, actions per device, API calls and an ETA; submits nothing")
        .argument("<runbook>", "runbook YAML file"),
    ),
    true,
  )
    .option(
      "--machine <id>",
      "plan for this device id instead of the runbook's targets (repeatable)",
      collectMachine,
    )
    .action(async (path: string, opts) => setExit(await (await commands.plan()).planCommand(io, path, opts)));

  sub(program.command("validate").description("check a runbook offline (schema, names, options)"))
    .argument("<runbook>", "runbook YAML file")
    .option("--json", "machine-readable JSON on stdout")
    .action(async (path: string, opts) =>
      setExit(await (await commands.validate()).validateCommand(io, path, opts)),
    );

  withConnectionOptions(
    sub(
      program.command("resume").description("re-attach to a run from its output folder and finish it"),
    ).argument("<dir>", "the run's output folder"),
    false,
  )
    .option("--detach-after <duration>", "stop watching again after this long (e.g. 15m)")
    .action(async (dir: string, opts) => setExit(await (await commands.run()).resumeCommand(io, dir, opts)));

  withConnectionOptions(
    sub(
      program
        .command("cancel")
        .description("cancel a run's unfinished actions (only its own) and write the report"),
    ).argument("<dir>", "the run's output folder"),
    false,
  ).action(async (dir: string, opts) => setExit(await (await commands.run()).cancelCommand(io, dir, opts)));

  sub(
    program
      .command("report")
      .description("(re)write report.html for a run's output folder (older runs included)")
      .argument("<dir>", "the run's output folder"),
  )
    .option("--open", "open the page with the system's browser (in a headless session: print its path)")
    .option("--json", "machine-readable JSON on stdout")
    .action(async (dir: string, opts) =>
      setExit(await (await commands.report()).reportCommand(io, dir, opts)),
    );

  const library = sub(program.command("library").description("manage the Live Response library"));
  withConnectionOptions(sub(library.command("list").description("list the library's files")), true).action(
    async (opts) => setExit(await (await commands.library()).libraryListCommand(io, opts)),
  );
  withConnectionOptions(
    sub(
      library
        .command("sync")
        .description("upload a runbook's library files whose content changed, check its steps' names")
        .argument("<runbook>", "runbook YAML file"),
    ),
    true,
  )
    .option("--dry-run", "compare only; upload nothing")
    .action(async (path: string, opts) =>
      setExit(await (await commands.library()).librarySyncCommand(io, path, opts)),
    );
  withConnectionOptions(
    sub(
      library
        .command("delete")
        .description("delete files from the library")
        .argument("<name...>", "library file names"),
    ),
    true,
  ).action(async (names: string[], opts) =>
    setExit(await (await commands.library()).libraryDeleteCommand(io, names, opts)),
  );

  sub(
    program
      .command("emulator")
      .description("start the local MDE emulator with the demo fleet and print how to use it"),
  )
    .option("--port <n>", "API port (0 = any free port)", "0")
    .option("--host <address>", "address to listen on", "127.0.0.1")
    .option("--scale <n>", "service ms per real ms (a time-lapse emulator; clients get the clock variables)")
    .option("--json", "print the settings as one JSON line")
    .action(async (opts) => setExit(await (await commands.emulator()).emulatorCommand(io, opts)));

  return program;
}

export async function main(argv: string[], io: CliIo = processIo()): Promise<number> {
  let exitCode = 0;
  const program = buildProgram(io, (code) => {
    exitCode = code;
  });
  if (argv.length === 0) {
    program.outputHelp();
    return 2;
  }
  try {
    await program.parseAsync(argv, { from: "user" });
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version are successes; every other parse error is bad input.
      return err.code === "commander.helpDisplayed" ||
        err.code === "commander.help" ||
        err.code === "commander.version"
        ? 0
        : 2;
    }
    return reportFailure(io, err, argv.includes("--json"));
  }
}
