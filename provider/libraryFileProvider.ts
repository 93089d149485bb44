/**
 * The LibraryFile dynamic provider: the half that Pulumi serializes into state (`__provider`).
 *
 * A thin shell like collectionProvider (see there for why): its methods `require()` the implementation
 * (libraryFileOps) by package path at run time, so no module is captured into state.
 */
import type * as dynamic from "@pulumi/pulumi/dynamic";
import type { ProviderShell } from "./collectionProvider.js";
import type { ProviderSettings } from "./settings.js";

type Ops = typeof import("./libraryFileOps.js");

/** How consumers' programs reach us: the host resolves it from the program directory's node_modules. */
const OPS_MODULE = "mde-live-response/lib/provider/libraryFileOps.js";
/**
 * Where this file was when the program ran: used when the package is not resolvable from the program
 * directory (a stack inside this repository, `npm link` setups). Captured as a plain string.
 */
const OPS_FALLBACK = `${__dirname}/libraryFileOps.js`;

/** As in collectionProvider (a local copy on purpose). */
function isNotFound(error: unknown, specifier: string): boolean {
  const e = error as { code?: string; message?: string };
  return (
    e?.code === "MODULE_NOT_FOUND" && String(e.message).split("\n")[0] === `Cannot find module '${specifier}'`
  );
}

function loadLibraryFileOps(): Ops {
  try {
    return require(OPS_MODULE) as Ops;
  } catch (e) {
    // Only "this package is not installed here" falls back; a missing file *inside* the package must surface.
    if (!isNotFound(e, OPS_MODULE)) throw e;
    try {
      return require(OPS_FALLBACK) as Ops;
    } catch (fallbackError) {
      if (!isNotFound(fallbackError, OPS_FALLBACK)) throw fallbackError;
      throw new Error(
        `cannot load ${OPS_MODULE} from the program directory ${process.cwd()}: run \`npm install mde-live-response\` there`,
      );
    }
  }
}

export const libraryFileProvider: ProviderShell = {
  settings: {} as ProviderSettings,

  async configure(req: dynamic.ConfigureRequest): Promise<void> {
    this.settings = loadLibraryFileOps().readSettings((key) => req.config.get(key));
  },
  async check(olds: Record<string, unknown>, news: Record<string, unknown>) {
    return loadLibraryFileOps().check(olds, news);
  },
  async diff(id: string, olds: Record<string, unknown>, news: Record<string, unknown>) {
    return loadLibraryFileOps().diff(id, olds, news);
  },
  async create(inputs: Record<string, unknown>) {
    return loadLibraryFileOps().create(this.settings, inputs);
  },
  async read(id: string, props?: Record<string, unknown>) {
    return loadLibraryFileOps().read(this.settings, id, props ?? {});
  },
  async update(id: string, olds: Record<string, unknown>, news: Record<string, unknown>) {
    return loadLibraryFileOps().update(this.settings, id, olds, news);
  },
  async delete(id: string, props: Record<string, unknown>): Promise<void> {
    await loadLibraryFileOps().remove(this.settings, id, props);
  },
};
