// Fails when the committed dist/ differs from a fresh bundle of the action sources.
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { bundleAction } from "./bundle-action.mjs";

const tmp = mkdtempSync(path.join(tmpdir(), "mde-dist-"));
try {
  const fresh = await bundleAction(tmp);
  const stale = [];
  for (const f of fresh) {
    const committed = path.join("dist", path.basename(f));
    if (!existsSync(committed) || !readFileSync(committed).equals(readFileSync(f))) stale.push(committed);
  }
  if (stale.length > 0) {
    console.error(`dist/ is out of date: ${stale.join(", ")}. Run \`npm run build\` and commit dist/.`);
    process.exit(1);
  }
  console.log(`dist/ matches the sources (${fresh.length} bundles)`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
