/**
 * The live response library (mde-api.md §4.7–4.9, §7.16). Names match case-insensitively (§8.15 is
 * silent; Windows-backed storage is the likely reality and it avoids two files differing only in case).
 */
import { createHash } from "node:crypto";
import type { Stamp } from "./time.js";

export interface LibraryEntry {
  fileName: string;
  sha256: string;
  description: string | null;
  creationTime: number;
  lastUpdatedTime: number;
  createdBy: string;
  hasParameters: boolean;
  parametersDescription: string | null;
  content: Uint8Array;
}

export class Library {
  private readonly files = new Map<string, LibraryEntry>();

  get(name: string): LibraryEntry | undefined {
    return this.files.get(name.toLowerCase());
  }

  names(): string[] {
    return [...this.files.values()].map((f) => f.fileName);
  }

  list(): LibraryEntry[] {
    return [...this.files.values()];
  }

  put(file: Omit<LibraryEntry, "sha256" | "creationTime" | "lastUpdatedTime">, now: number): LibraryEntry {
    const previous = this.get(file.fileName);
    const entry: LibraryEntry = {
      ...file,
      sha256: createHash("sha256").update(file.content).digest("hex"),
      creationTime: previous?.creationTime ?? now,
      lastUpdatedTime: now,
    };
    this.files.set(file.fileName.toLowerCase(), entry);
    return entry;
  }

  delete(name: string): boolean {
    return this.files.delete(name.toLowerCase());
  }
}

export function libraryEntity(
  entry: LibraryEntry,
  stamp: Stamp,
  sha256: "sent" | "omitted" = "sent",
): Record<string, unknown> {
  return {
    fileName: entry.fileName,
    ...(sha256 === "sent" ? { sha256: entry.sha256 } : {}),
    description: entry.description,
    creationTime: stamp(entry.creationTime),
    lastUpdatedTime: stamp(entry.lastUpdatedTime),
    createdBy: entry.createdBy,
    hasParameters: entry.hasParameters,
    parametersDescription: entry.parametersDescription,
  };
}

export const VALID_LIBRARY_NAME = /^[A-Za-z0-9._-]+$/;

export type UploadParse =
  | {
      ok: true;
      fileName: string;
      content: Uint8Array;
      description: string | null;
      parametersDescription: string | null;
      hasParameters: boolean;
      overrideIfExists: boolean;
    }
  | { ok: false; code: string; message: string };

/** Parses the multipart body with the WHATWG FormData parser built into Node (undici). */
export async function parseUpload(contentType: string, body: Buffer): Promise<UploadParse> {
  if (!/^multipart\/form-data/i.test(contentType)) {
    return { ok: false, code: "InvalidRequestBody", message: "Expected a multipart/form-data body" };
  }
  let form: FormData;
  try {
    form = await new Request("http://emulator.invalid/", {
      method: "POST",
      headers: { "content-type": contentType },
      body,
    }).formData();
  } catch {
    return { ok: false, code: "InvalidRequestBody", message: "The multipart body could not be parsed" };
  }
  const part = form.get("File") ?? form.get("file");
  if (!part || typeof part === "string") {
    return {
      ok: false,
      code: "MissingRequiredParameter",
      message: "File is required (a file part named File)",
    };
  }
  const fileName = part.name;
  if (!fileName || !VALID_LIBRARY_NAME.test(fileName)) {
    return {
      ok: false,
      code: "InvalidRequestBody",
      message: `Invalid file name '${fileName}': use letters, digits, '-', '_' and '.'`,
    };
  }
  const text = (name: string) => {
    const v = form.get(name);
    return typeof v === "string" ? v : null;
  };
  const bool = (name: string): boolean | "bad" => {
    const v = text(name);
    if (v === null || v === "") return false;
    if (/^true$/i.test(v)) return true;
    if (/^false$/i.test(v)) return false;
    return "bad";
  };
  const hasParameters = bool("HasParameters");
  const overrideIfExists = bool("OverrideIfExists");
  if (hasParameters === "bad" || overrideIfExists === "bad") {
    return {
      ok: false,
      code: "InvalidRequestBody",
      message: "HasParameters and OverrideIfExists must be 'true' or 'false'",
    };
  }
  return {
    ok: true,
    fileName,
    content: new Uint8Array(await part.arrayBuffer()),
    description: text("Description"),
    parametersDescription: text("ParametersDescription"),
    hasParameters,
    overrideIfExists,
  };
}
