// Fails when the committed dist/ differs from a fresh bundle of the action sources: a changed, missing
// or extra file (entry points and their chunks; dist/package.json is hand-written and not compared).
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { bundleAction } from "./bundle-action.mjs";

function jsFiles(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith(".js"))
    .map((f) => f.split(path.sep).join("/"))
    .sort();
}

const tmp = mkdtempSync(path.join(tmpdir(), "mde-dist-"));
try {
  await bundleAction(tmp);
  const fresh = jsFiles(tmp);
  const committed = jsFiles("dist");
  const problems = [];
  for (const f of fresh) {
    const target = path.join("dist", f);
    if (!existsSync(target)) problems.push(`missing ${target}`);
    else if (!readFileSync(target).equals(readFileSync(path.join(tmp, f)))) problems.push(`stale ${target}`);
  }
  for (const f of committed) if (!fresh.includes(f)) problems.push(`extra dist/${f}`);
  if (problems.length > 0) {
    console.error(`dist/ does not match the sources: ${problems.join(", ")}.`);
    console.error("Run `npm run build` and commit dist/ (including dist/chunks/ additions and deletions).");
    process.exit(1);
  }
  console.log(`dist/ matches the sources (${fresh.length} files)`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
