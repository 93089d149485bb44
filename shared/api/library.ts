/** Live Response library: list, upload (multipart), delete (mde-api.md §4.7–4.9). */

import { FormData } from "undici";
import { InputError } from "../errors.js";
import type { HttpTransport } from "../http/transport.js";
import { callFields } from "./call.js";
import { collectPages } from "./paging.js";
import { expectShape, LIBRARY_FILE_FIELDS, normalizeLibraryFile } from "./shape.js";
import type { CallOptions, LibraryFile, LibraryUpload } from "./types.js";
import { checkLibraryFileName } from "./validate.js";

export async function listLibraryFiles(t: HttpTransport, options?: CallOptions): Promise<LibraryFile[]> {
  const files = await collectPages<unknown>(
    t,
    "library",
    "/api/libraryfiles",
    {},
    undefined,
    options,
    LIBRARY_FILE_FIELDS,
  );
  return files.map(normalizeLibraryFile);
}

export async function uploadLibraryFile(
  t: HttpTransport,
  upload: LibraryUpload,
  options?: CallOptions,
): Promise<LibraryFile> {
  const fileName = checkLibraryFileName(upload?.fileName, "upload.fileName");
  if (!(upload.content instanceof Uint8Array))
    throw new InputError("upload.content", "expected the file bytes (Uint8Array)");
  const form = new FormData();
  // Booleans travel as the strings "true"/"false" (§4.8).
  form.append("File", new Blob([upload.content]), fileName);
  form.append("Description", upload.description ?? "");
  form.append("ParametersDescription", upload.parametersDescription ?? "");
  form.append("HasParameters", upload.hasParameters ? "true" : "false");
  form.append("OverrideIfExists", upload.overrideIfExists ? "true" : "false");
  const res = await t.send({
    kind: "library",
    method: "POST",
    path: "/api/libraryfiles",
    form,
    ...callFields(options),
  });
  return normalizeLibraryFile(
    expectShape(res.body, LIBRARY_FILE_FIELDS, {
      method: "POST",
      path: "/api/libraryfiles",
      status: res.status,
    }),
  );
}

export async function deleteLibraryFile(
  t: HttpTransport,
  fileName: string,
  options?: CallOptions,
): Promise<void> {
  const name = checkLibraryFileName(fileName);
  // 204 on success; 404 becomes NotFoundError in the transport.
  await t.send({
    kind: "library",
    method: "DELETE",
    path: `/api/libraryfiles/${encodeURIComponent(name)}`,
    ...callFields(options),
  });
}
