/**
 * LibraryFile implementation, loaded by libraryFileProvider inside the dynamic-provider host.
 *
 * Stable interface: every stack's state holds a serialized libraryFileProvider that requires this file by
 * package path and calls these exports by name (readSettings, check, diff, create, read, update, remove).
 * Keep the path, the names and the signatures, or older stacks cannot refresh or destroy.
 */
import type { LibraryFile as LibraryEntity } from "../shared/api/types.js";
import { InputError, MdeApiError, NotFoundError } from "../shared/errors.js";
import { checkLibraryFile, libraryContent, sha256Hex } from "./checkLibraryFile.js";
import { connect } from "./connect.js";
import { diffLibraryFile } from "./diff.js";
import { toPlain } from "./plain.js";
import type { ProviderSettings } from "./settings.js";
import type {
  CheckResult,
  DiffResult,
  LibraryFileInputs,
  LibraryFileOutputs,
  LibraryFileState,
} from "./types.js";

export { readSettings } from "./settings.js";

export async function check(
  _olds: Record<string, unknown>,
  news: Record<string, unknown>,
): Promise<CheckResult<LibraryFileInputs>> {
  return checkLibraryFile(news);
}

export async function diff(
  _id: string,
  olds: Record<string, unknown>,
  news: Record<string, unknown>,
): Promise<DiffResult> {
  return diffLibraryFile(olds as Partial<LibraryFileState>, news as unknown as LibraryFileInputs);
}

function outputsOf(entity: LibraryEntity): LibraryFileOutputs {
  return {
    sha256: entity.sha256,
    creationTime: entity.creationTime ?? null,
    lastUpdatedTime: entity.lastUpdatedTime ?? null,
    createdBy: entity.createdBy ?? null,
  };
}

async function upload(settings: ProviderSettings, inputs: LibraryFileInputs, overrideIfExists: boolean) {
  const content = libraryContent(inputs);
  const api = connect(settings);
  let entity: LibraryEntity;
  try {
    entity = await api.uploadLibraryFile({
      fileName: inputs.fileName,
      content,
      ...(inputs.description !== undefined ? { description: inputs.description } : {}),
      ...(inputs.parametersDescription !== undefined
        ? { parametersDescription: inputs.parametersDescription }
        : {}),
      ...(inputs.hasParameters !== undefined ? { hasParameters: inputs.hasParameters } : {}),
      overrideIfExists,
    });
  } catch (e) {
    if (!overrideIfExists && e instanceof MdeApiError && /already exists/i.test(e.message)) {
      throw new InputError(
        "fileName",
        `the live response library already has a file named ${inputs.fileName} that this stack does not manage; ` +
          "pick another fileName, or delete the library file first (adopting existing files is not supported)",
      );
    }
    throw e;
  }
  // The hash of what was sent now, not what check saw: the file may have changed in between.
  return toPlain({ ...inputs, contentSha256: sha256Hex(content), ...outputsOf(entity) });
}

export async function create(settings: ProviderSettings, inputs: Record<string, unknown>) {
  const checked = inputs as unknown as LibraryFileInputs;
  const outs = await upload(settings, checked, false);
  return { id: checked.fileName, outs };
}

export async function update(
  settings: ProviderSettings,
  _id: string,
  _olds: Record<string, unknown>,
  news: Record<string, unknown>,
) {
  return { outs: await upload(settings, news as unknown as LibraryFileInputs, true) };
}

export async function remove(
  settings: ProviderSettings,
  id: string,
  props: Record<string, unknown>,
): Promise<void> {
  const fileName = typeof props.fileName === "string" ? props.fileName : id;
  try {
    await connect(settings).deleteLibraryFile(fileName);
  } catch (e) {
    // Already gone is what delete wants.
    if (!(e instanceof NotFoundError)) throw e;
  }
}

/**
 * Refresh: compares the recorded upload with the library listing. A missing file returns no id (Pulumi
 * drops it from state and the next `up` uploads it again); a different sha256 or description is written
 * into the outputs so the next `up` sees a difference from the declaration and re-uploads.
 */
export async function read(settings: ProviderSettings, id: string, props: Record<string, unknown>) {
  const state = props as unknown as LibraryFileState;
  const fileName = state.fileName ?? id;
  const files = await connect(settings).listLibraryFiles();
  // Name matching in the library is undocumented (mde-api.md §8.15): prefer exact, accept case-insensitive.
  const entity =
    files.find((f) => f.fileName === fileName) ??
    files.find((f) => f.fileName.toLowerCase() === fileName.toLowerCase());
  if (!entity) return { id: "", props: {} };
  const next: Record<string, unknown> = { ...state, ...outputsOf(entity) };
  // Without a sha256 in the listing, content drift cannot be seen: keep the recorded digest rather
  // than invent a difference that would re-upload on every refresh.
  if (entity.sha256 !== null && entity.sha256 !== state.sha256) next.contentSha256 = entity.sha256;
  if ((entity.description ?? "") !== (state.description ?? "")) next.description = entity.description ?? "";
  if ((entity.parametersDescription ?? "") !== (state.parametersDescription ?? "")) {
    next.parametersDescription = entity.parametersDescription ?? "";
  }
  if (entity.hasParameters !== (state.hasParameters ?? false)) next.hasParameters = entity.hasParameters;
  return { id, props: toPlain(next) };
}
