/**
 * The stack in Pulumi.yaml: runs one runbook as a LiveResponseCollection, uploads the library files it
 * needs first, and exports the results. `pulumi up` runs it once; `pulumi refresh` collects what was
 * still pending; changing the runbook's targets/commands/comment (or `mde:trigger`) runs it again.
 *
 * In your own project import from the package instead:
 *   import { fromRunbook, LibraryFile, LiveResponseCollection } from "mde-live-response/provider";
 * (this file uses the built package in this repository: run `npm run build` first).
 */
import * as pulumi from "@pulumi/pulumi";
import { fromRunbook, LibraryFile, LiveResponseCollection } from "../../provider.js";

const config = new pulumi.Config();
const runbook = fromRunbook(config.require("runbook"));
const machineIds = config.getObject<string[]>("machineIds") ?? [];
const detachAfter = config.get("detachAfter");
const trigger = config.get("trigger");

const libraryFiles = runbook.library.map((file) => new LibraryFile(file.fileName, file));

const collection = new LiveResponseCollection(
  runbook.name,
  {
    ...runbook.collection,
    // `machineIds` from stack config overrides the runbook's targets (e.g. one stack per incident).
    ...(machineIds.length > 0 ? { targets: undefined, machineIds } : {}),
    ...(detachAfter ? { detachAfter } : {}),
    ...(trigger ? { triggers: [trigger] } : {}),
    outputRoot: config.get("outputRoot") || "mde-lr-out/pulumi",
  },
  { dependsOn: libraryFiles },
);

export const runId = collection.runId;
export const status = collection.status;
export const counts = collection.counts;
export const outputDir = collection.outputDir;
/** Per device and step: exit codes, stdout/stderr, collected files. Secret: `pulumi stack output machines --show-secrets`. */
export const machines = collection.machines;
export const library = libraryFiles.map((f) => ({ fileName: f.fileName, sha256: f.sha256 }));
