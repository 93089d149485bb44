import * as pulumi from "@pulumi/pulumi";
import { libraryFileProvider } from "./libraryFileProvider.js";

export interface LibraryFileArgs {
  /** File to upload, relative to the program directory. Exactly one of `path` and `content`. */
  path?: pulumi.Input<string>;
  /** The file's text, inline. */
  content?: pulumi.Input<string>;
  /** Name in the live response library. Default: the base name of `path`; required with `content`. */
  fileName?: pulumi.Input<string>;
  description?: pulumi.Input<string>;
  parametersDescription?: pulumi.Input<string>;
  hasParameters?: pulumi.Input<boolean>;
}

/**
 * A script or tool in the live response library, as code: create uploads, a content or description
 * change re-uploads (override), a new fileName replaces, destroy deletes; refresh detects drift
 * against the library listing.
 */
export class LibraryFile extends pulumi.dynamic.Resource {
  declare readonly fileName: pulumi.Output<string>;
  /** sha256 the library reports for the file; null when its answer carried none. */
  declare readonly sha256: pulumi.Output<string | null>;
  declare readonly creationTime: pulumi.Output<string | null>;
  declare readonly lastUpdatedTime: pulumi.Output<string | null>;
  declare readonly createdBy: pulumi.Output<string | null>;

  constructor(name: string, args: LibraryFileArgs, opts?: pulumi.CustomResourceOptions) {
    const props = {
      sha256: undefined,
      creationTime: undefined,
      lastUpdatedTime: undefined,
      createdBy: undefined,
      ...args,
      fileName: args.fileName,
    };
    super(libraryFileProvider, name, props, opts, "mde", "LibraryFile");
  }
}
