// Bundles the GitHub Action entry points into dist/ (ESM; @actions/* v3+/v6+ are ESM-only).
// Deterministic: the same sources give byte-identical output, so check-dist can compare.

import { existsSync } from "node:fs";
import path from "node:path";
import { build } from "esbuild";

export async function bundleAction(outdir = "dist") {
  const entryPoints = ["action/main.ts", "action/post.ts"].filter((f) => existsSync(f));
  if (entryPoints.length === 0) return [];
  await build({
    entryPoints,
    outdir,
    bundle: true,
    platform: "node",
    target: "node24",
    format: "esm",
    minify: false,
    sourcemap: false,
    legalComments: "none",
    logLevel: "warning",
    // esbuild's ESM output needs a real `require` for CJS deps that require Node built-ins.
    banner: {
      js: "import { createRequire as __mdeCreateRequire } from 'node:module'; const require = __mdeCreateRequire(import.meta.url);",
    },
  });
  return entryPoints.map((e) => path.join(outdir, `${path.basename(e, ".ts")}.js`));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const files = await bundleAction(process.argv[2] ?? "dist");
  for (const f of files) console.log(`bundled ${f}`);
}
