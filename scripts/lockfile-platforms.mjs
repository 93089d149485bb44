// Restores lockfile entries for platform-specific optional packages that npm drops.
//
// Why: the registry this project is built against mirrors only some platform binaries of
// @biomejs/biome (the Linux glibc ones). npm then leaves the others out of package-lock.json
// (npm/cli#4828), and `npm ci` refuses a lockfile whose optionalDependencies have no entry
// ("Missing: @biomejs/cli-android-arm64@ from lock file"). An entry with the right os/cpu/libc
// lets `npm ci` skip the package on this platform and fetch it on the one it is for.
// Run after any `npm install`: `node scripts/lockfile-platforms.mjs` (`--check` only reports).
import { readFileSync, writeFileSync } from "node:fs";

const LOCK = "package-lock.json";
const lock = JSON.parse(readFileSync(LOCK, "utf8"));
const check = process.argv.includes("--check");
const added = [];

for (const [key, entry] of Object.entries(lock.packages)) {
  if (!key.startsWith("node_modules/") || !entry.optionalDependencies) continue;
  for (const [name, version] of Object.entries(entry.optionalDependencies)) {
    const target = `node_modules/${name}`;
    if (lock.packages[target]) continue;
    const m = /^@biomejs\/cli-(linux|darwin|win32|android)-(x64|arm64)(-musl)?$/.exec(name);
    if (!m) {
      console.error(`${LOCK}: no entry for optional ${name}@${version} (of ${key}); add its os/cpu by hand`);
      process.exitCode = 1;
      continue;
    }
    const [, os, cpu, musl] = m;
    added.push(name);
    if (check) continue;
    lock.packages[target] = {
      version,
      cpu: [cpu],
      dev: entry.dev === true,
      ...(os === "linux" ? { libc: [musl ? "musl" : "glibc"] } : {}),
      license: entry.license,
      optional: true,
      os: [os],
      ...(entry.engines ? { engines: entry.engines } : {}),
    };
  }
}

if (check && added.length > 0) {
  console.error(`${LOCK} lacks ${added.join(", ")}: run node scripts/lockfile-platforms.mjs`);
  process.exit(1);
}
if (!check && added.length > 0) {
  const sorted = Object.fromEntries(
    Object.entries(lock.packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a.localeCompare(b))),
  );
  lock.packages = sorted;
  writeFileSync(LOCK, `${JSON.stringify(lock, null, 2)}\n`);
  console.log(`restored ${added.length} lockfile entries: ${added.join(", ")}`);
}
