/**
 * Pure diffs over the declaration only. The serialized `__provider` text is never compared: it changes
 * with every package upgrade, and comparing it would re-run every collection after `npm update`.
 */
import { canonicalJson } from "./plain.js";
import type {
  CollectionInputs,
  CollectionState,
  DiffResult,
  LibraryFileInputs,
  LibraryFileState,
} from "./types.js";

/** What the collection does and where: a change means a new run. */
const COLLECTION_REPLACE_KEYS = ["targets", "machineIds", "commands", "comment", "triggers"] as const;
/** How a run is watched: a change is recorded without re-running anything. */
const COLLECTION_UPDATE_KEYS = [
  "name",
  "timeout",
  "detachAfter",
  "onActiveSession",
  "maxDevices",
  "pollInterval",
  "options",
  "outputRoot",
] as const;

function changed(a: unknown, b: unknown): boolean {
  return canonicalJson(a) !== canonicalJson(b);
}

export function diffCollection(olds: Partial<CollectionState>, news: CollectionInputs): DiffResult {
  const replaces = COLLECTION_REPLACE_KEYS.filter((k) => changed(olds[k], news[k]));
  const updates = COLLECTION_UPDATE_KEYS.filter((k) => changed(olds[k], news[k]));
  if (replaces.length === 0) return { changes: updates.length > 0 };
  // A run still pending holds a session on its devices; the new run would meet ActiveRequestAlreadyExists
  // on each of them, so the old run is cancelled (deleted) first. A finished run's delete is a no-op and
  // keeping it until the new run exists keeps its results in state if the new run fails to start.
  return { changes: true, replaces, deleteBeforeReplace: olds.status === "pending" };
}

const LIBRARY_UPDATE_KEYS = [
  "contentSha256",
  "description",
  "parametersDescription",
  "hasParameters",
] as const;

export function diffLibraryFile(olds: Partial<LibraryFileState>, news: LibraryFileInputs): DiffResult {
  if (changed(olds.fileName, news.fileName)) return { changes: true, replaces: ["fileName"] };
  // `path` and `content` are compared through contentSha256: moving the same bytes from an inline
  // string to a file is not a change.
  return { changes: LIBRARY_UPDATE_KEYS.some((k) => changed(olds[k], news[k])) };
}
