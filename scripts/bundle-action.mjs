// Bundles the GitHub Action entry points into dist/ (ESM; @actions/* v3+/v6+ are ESM-only).
// Deterministic: the same sources give byte-identical output, so check-dist can compare.

import { existsSync, readdirSync, rmSync } from "node:fs";
import path from "node:path";
import { build } from "esbuild";

export async function bundleAction(outdir = "dist") {
  const entryPoints = ["action/main.ts", "action/post.ts"].filter((f) => existsSync(f));
  if (entryPoints.length === 0) return [];
  // Chunk names carry a content hash: drop the previous build's so no stale chunk lingers in dist/.
  rmSync(path.join(outdir, "chunks"), { recursive: true, force: true });
  await build({
    entryPoints,
    outdir,
    bundle: true,
    platform: "node",
    target: "node24",
    format: "esm",
    // Dynamic imports (the artifact client) become chunks loaded on first use, off the start-up path.
    splitting: true,
    chunkNames: "chunks/[name]-[hash]",
    // Whitespace and syntax only: smaller files parse faster at start-up; identifiers stay readable in traces.
    minifyWhitespace: true,
    minifySyntax: true,
    sourcemap: false,
    legalComments: "none",
    // Error classes set `this.name = new.target.name`; without this, name clashes between bundled
    // modules (our NetworkError vs @actions/artifact's) would surface as "NetworkError2" in messages.
    keepNames: true,
    logLevel: "warning",
    // esbuild's ESM output needs a real `require` for CJS deps that require Node built-ins.
    banner: {
      js: "import { createRequire as __mdeCreateRequire } from 'node:module'; const require = __mdeCreateRequire(import.meta.url);",
    },
  });
  const chunks = existsSync(path.join(outdir, "chunks"))
    ? readdirSync(path.join(outdir, "chunks")).map((f) => path.join(outdir, "chunks", f))
    : [];
  return [...entryPoints.map((e) => path.join(outdir, `${path.basename(e, ".ts")}.js`)), ...chunks.sort()];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const files = await bundleAction(process.argv[2] ?? "dist");
  for (const f of files) console.log(`bundled ${f}`);
}
