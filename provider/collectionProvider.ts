/**
 * The LiveResponseCollection dynamic provider: the half that Pulumi serializes into state (`__provider`).
 *
 * It is deliberately a thin shell. Its methods `require()` the implementation (collectionOps) by package
 * path at run time, so the serializer captures no module (no copy of the core in state, no destructured
 * built-ins, nothing that breaks on the next package version) and refresh/destroy, which Pulumi runs with
 * the *stored* provider text, use the installed package's code. Rules for this file (the closure
 * serializer's): one module-level object, plain methods (no arrow properties using `this`), no `#private`,
 * no module objects referenced from method bodies.
 */
import type * as dynamic from "@pulumi/pulumi/dynamic";
import type { ProviderSettings } from "./settings.js";

/** A dynamic provider that keeps the stack settings `configure()` read (in the host process only). */
export interface ProviderShell extends dynamic.ResourceProvider {
  settings: ProviderSettings;
}

type Ops = typeof import("./collectionOps.js");

/** How consumers' programs reach us: the host resolves it from the program directory's node_modules. */
const OPS_MODULE = "mde-live-response/lib/provider/collectionOps.js";
/**
 * Where this file was when the program ran: used when the package is not resolvable from the program
 * directory (a stack inside this repository, `npm link` setups). Captured as a plain string.
 */
const OPS_FALLBACK = `${__dirname}/collectionOps.js`;

/**
 * Whether `error` says `specifier` itself cannot be found. Only the first line counts: the rest is the
 * require stack, which names this file's path even when a module *it* requires is the one missing.
 * Each shell keeps its own copy: a helper imported from another module would be captured into state
 * as that whole module.
 */
function isNotFound(error: unknown, specifier: string): boolean {
  const e = error as { code?: string; message?: string };
  return (
    e?.code === "MODULE_NOT_FOUND" && String(e.message).split("\n")[0] === `Cannot find module '${specifier}'`
  );
}

function loadCollectionOps(): Ops {
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

export const collectionProvider: ProviderShell = {
  settings: {} as ProviderSettings,

  async configure(req: dynamic.ConfigureRequest): Promise<void> {
    this.settings = loadCollectionOps().readSettings((key) => req.config.get(key));
  },
  async check(olds: Record<string, unknown>, news: Record<string, unknown>) {
    return loadCollectionOps().check(olds, news);
  },
  async diff(id: string, olds: Record<string, unknown>, news: Record<string, unknown>) {
    return loadCollectionOps().diff(id, olds, news);
  },
  async create(inputs: Record<string, unknown>) {
    return loadCollectionOps().create(this.settings, inputs);
  },
  async read(id: string, props?: Record<string, unknown>) {
    return loadCollectionOps().read(this.settings, id, props ?? {});
  },
  async update(id: string, olds: Record<string, unknown>, news: Record<string, unknown>) {
    return loadCollectionOps().update(this.settings, id, olds, news);
  },
  async delete(id: string, props: Record<string, unknown>): Promise<void> {
    await loadCollectionOps().remove(this.settings, id, props);
  },
};
