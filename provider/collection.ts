import * as pulumi from "@pulumi/pulumi";
import type { MachineReport, MachineStatus, RunStatus } from "../shared/report/types.js";
import { collectionProvider } from "./collectionProvider.js";
import { runNameFrom } from "./runName.js";
import type { StepInput, TargetsInput } from "./types.js";

export interface LiveResponseCollectionArgs {
  /** Devices, as in runbooks: `{ machineIds, computerNames, tags, filter }`. Exactly one of `targets` and `machineIds`. */
  targets?: pulumi.Input<TargetsInput>;
  /** Device ids (40 hex characters): shorthand for `targets: { machineIds }`. */
  machineIds?: pulumi.Input<pulumi.Input<string>[]>;
  /** The runbook step list, same schema and validation: `[{ putFile }, { runScript, args }, { getFile }]`. */
  commands: pulumi.Input<pulumi.Input<StepInput>[]>;
  /** Comment on every machine action (the run id is appended so the run can find its own actions). */
  comment?: pulumi.Input<string>;
  /** Run name in the report and in each action's comment. Default: the resource name. */
  name?: pulumi.Input<string>;
  /**
   * Per device, submission to final state, as in runbooks (`options.timeout`, default 30m): seconds or
   * "30m". Devices past it are cancelled and reported `timedOut`, so it also bounds `pulumi up`, which
   * enforces no timeout of its own for dynamic providers.
   */
  timeout?: pulumi.Input<number | string>;
  /**
   * Stop waiting this long after the last submission and record the run as `pending`; `pulumi refresh`
   * later re-polls and fills in the results. Default: wait until every device is final.
   */
  detachAfter?: pulumi.Input<number | string>;
  /** A device already has a live response session: "wait" (default, as in runbooks) or "fail". */
  onActiveSession?: pulumi.Input<"wait" | "fail">;
  /** Any values; a change re-runs the collection (like @pulumi/command's `triggers`). */
  triggers?: pulumi.Input<unknown[]>;
  /** Refuse to run when the targets resolve to more devices than this. */
  maxDevices?: pulumi.Input<number>;
  /** How often action statuses are polled: seconds or "15s". Default as in runbooks. */
  pollInterval?: pulumi.Input<number | string>;
  /**
   * Further runbook `options`, same schema (canary, maxConcurrentSessions, onIneligible, limits, ...).
   * `timeout`, `pollInterval`, `onActiveSession` and `maxDevices` given above take precedence.
   */
  options?: pulumi.Input<Record<string, unknown>>;
  /** Folder each run's own folder (the `outputDir` output) is made in, relative to the program directory. Default `mde-lr-out/pulumi`. */
  outputRoot?: pulumi.Input<string>;
}

/**
 * One live response collection as a resource: `pulumi up` runs it once; results land in outputs;
 * `pulumi refresh` picks up actions that were still pending; a change to what it runs or where
 * (targets, machineIds, commands, comment, triggers) re-runs it; destroy cancels unfinished actions.
 */
export class LiveResponseCollection extends pulumi.dynamic.Resource {
  declare readonly runId: pulumi.Output<string>;
  declare readonly status: pulumi.Output<RunStatus>;
  declare readonly counts: pulumi.Output<Record<MachineStatus, number>>;
  /** Per device: action ids, status, and per step exit code, stdout/stderr, collected file, sha256, bytes. Secret. */
  declare readonly machines: pulumi.Output<MachineReport[]>;
  /** This run's folder (report.json, summary.md, collected files), relative to the program directory. */
  declare readonly outputDir: pulumi.Output<string>;
  declare readonly startedAt: pulumi.Output<string>;
  declare readonly finishedAt: pulumi.Output<string | null>;

  constructor(name: string, args: LiveResponseCollectionArgs, opts?: pulumi.CustomResourceOptions) {
    // Outputs must be seeded (as undefined) or Pulumi does not expose them (pulumi#2931). Device output
    // is sensitive: `machines` is always a secret output; mergeOptions adds the caller's own to it.
    const props = {
      runId: undefined,
      status: undefined,
      counts: undefined,
      machines: undefined,
      startedAt: undefined,
      finishedAt: undefined,
      outputDir: undefined,
      ...args,
      name: args.name ?? runNameFrom(name),
      // Chain of custody: the dynamic-provider host knows the project (PULUMI_NODEJS_PROJECT) but not
      // the stack, so the program, where both are known, hands them over. Not compared by diff.
      pulumiContext: { project: pulumi.getProject(), stack: pulumi.getStack() },
    };
    super(
      collectionProvider,
      name,
      props,
      pulumi.mergeOptions({ additionalSecretOutputs: ["machines"] }, opts),
      "mde",
      "LiveResponseCollection",
    );
  }
}
