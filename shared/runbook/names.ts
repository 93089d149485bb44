/** Library file name rules (mde-api.md §4.8: alphanumerics plus `-`, `_`, `.`). */

const NAME_CHARS = /^[A-Za-z0-9._-]+$/;
// PutFile copies the file into the device's working folder; on Windows these names are devices, not files.
const RESERVED_WINDOWS = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?$/i;

/** Why `name` cannot be a library file name, or null when it can. */
export function libraryNameProblem(name: string): string | null {
  if (name.length === 0) return "expected a library file name, got an empty string";
  if (name.length > 255) return "library file names are at most 255 characters";
  if (!NAME_CHARS.test(name)) {
    return `"${JSON.stringify(name).slice(1, -1)}" is not a library file name: use only letters, digits, '.', '_' and '-' (no folders)`;
  }
  if (/^\.+$/.test(name)) return `"${name}" is not a file name; name the file, e.g. collect.ps1`;
  if (RESERVED_WINDOWS.test(name)) {
    return `"${name}" is a reserved Windows device name and cannot be a file on the device; rename the file`;
  }
  return null;
}
