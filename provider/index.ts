/**
 * Pulumi dynamic resources for mde-live-response (`import { LiveResponseCollection, LibraryFile } from
 * "mde-live-response/provider"`). Needs `@pulumi/pulumi` (an optional peer dependency) in the program.
 */
export type { LiveResponseCollectionArgs } from "./collection.js";
export { LiveResponseCollection } from "./collection.js";
export { collectionProvider } from "./collectionProvider.js";
export { fromRunbook, type RunbookResources } from "./fromRunbook.js";
export type { LibraryFileArgs } from "./libraryFile.js";
export { LibraryFile } from "./libraryFile.js";
export { libraryFileProvider } from "./libraryFileProvider.js";
export { CONFIG_NAMESPACE, SETTING_KEYS } from "./settings.js";
export type {
  CollectionOutputs,
  CollectionState,
  LibraryFileOutputs,
  LibraryFileState,
  StepInput,
  TargetsInput,
} from "./types.js";
