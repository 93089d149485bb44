/**
 * Is live response through the API supported on this device's OS (mde-api.md §4.11)?
 *
 * The minimums for older Windows 10 / Server 2019 releases are "release + KB". A KB can't be seen
 * on the machine entity, but cumulative updates raise the build's revision number, and every later
 * cumulative update contains the earlier one. So when `osVersion` carries a revision
 * (10.0.BUILD.REVISION) we compare it with the revision the KB shipped as:
 *   KB4515384 → 18362.356 (1903), KB4537818 → 17763.1075 (1809 / Server 2019),
 *   KB4537795 → 17134.1345 (1803), KB4537816 → 16299.1717 (1709).
 * Without a revision we allow the device with a warning rather than skip a device that may well work.
 */
import type { Machine } from "../api/types.js";

export type OsVerdict =
  | { ok: true; warning: string | null }
  | { ok: false; code: "Preflight.UnsupportedOs"; message: string };

/** Windows 10 / Server feature-release builds. */
const BUILD = { v1709: 16299, v1803: 17134, v1809: 17763, v1903: 18362, v1909: 18363 } as const;

/** Minimum revision (the KB's cumulative update) per build that needs one. */
const KB_REVISION: Record<number, { kb: string; revision: number }> = {
  [BUILD.v1903]: { kb: "KB4515384", revision: 356 },
  [BUILD.v1809]: { kb: "KB4537818", revision: 1075 },
  [BUILD.v1803]: { kb: "KB4537795", revision: 1345 },
  [BUILD.v1709]: { kb: "KB4537816", revision: 1717 },
};

const RELEASE_TO_BUILD: Record<string, number> = {
  "1709": BUILD.v1709,
  "1803": BUILD.v1803,
  "1809": BUILD.v1809,
  "1903": BUILD.v1903,
  "1909": BUILD.v1909,
};

function buildAndRevision(m: Machine): { build: number | null; revision: number | null } {
  const v = /^\s*10\.0\.(\d+)(?:\.(\d+))?/.exec(m.osVersion ?? "");
  const build =
    m.osBuild ?? (v ? Number(v[1]) : null) ?? (m.version ? (RELEASE_TO_BUILD[m.version] ?? null) : null);
  const revision = v?.[2] !== undefined && (build === null || Number(v[1]) === build) ? Number(v[2]) : null;
  if (build === null && m.version && RELEASE_TO_BUILD[m.version] !== undefined) {
    return { build: RELEASE_TO_BUILD[m.version]!, revision };
  }
  return { build, revision };
}

function unsupported(message: string): OsVerdict {
  return { ok: false, code: "Preflight.UnsupportedOs", message };
}

const UPDATE_FIX = "install the latest cumulative update (or upgrade to a supported release) and run again";

function windowsRelease(m: Machine, label: string, minimum: number, allowKbBuilds: number[]): OsVerdict {
  const { build, revision } = buildAndRevision(m);
  if (build === null) {
    return {
      ok: true,
      warning: `${label}: build unknown; live response needs ${label} 1909 or later (or an older release with its KB)`,
    };
  }
  if (build >= minimum) return { ok: true, warning: null };
  const need = KB_REVISION[build];
  if (!need || !allowKbBuilds.includes(build)) {
    return unsupported(`${label} build ${build} is older than live response supports; ${UPDATE_FIX}`);
  }
  if (revision === null) {
    return {
      ok: true,
      warning: `${label} build ${build} needs ${need.kb} (build ${build}.${need.revision} or later), which can't be confirmed from the device record`,
    };
  }
  if (revision >= need.revision) return { ok: true, warning: null };
  return unsupported(
    `${label} build ${build}.${revision} lacks ${need.kb} (needs ${build}.${need.revision} or later); ${UPDATE_FIX}`,
  );
}

export function checkOsSupport(m: Machine): OsVerdict {
  const platform = (m.osPlatform ?? "").trim();
  const p = platform.toLowerCase();
  if (p === "")
    return {
      ok: true,
      warning: "OS platform unknown; live response may be refused with OsPlatformNotSupported",
    };
  if (p === "windows11") return { ok: true, warning: null };
  if (p === "windows10") {
    return windowsRelease(m, "Windows 10", BUILD.v1909, [BUILD.v1903, BUILD.v1809, BUILD.v1803, BUILD.v1709]);
  }
  if (p === "windowsserver2019") {
    // Server 2019 is build 17763 (1809, needs KB4537818); the semi-annual 1903 server is 18362.
    return windowsRelease(m, "Windows Server 2019", BUILD.v1903, [BUILD.v1809]);
  }
  if (p === "windowsserver2022") return { ok: true, warning: null };
  if (/^windowsserver20(2[5-9]|[3-9]\d)$/.test(p)) {
    return {
      ok: true,
      warning: `${platform} is newer than the documented list (Server 2022); assuming it is supported`,
    };
  }
  if (p === "macos" || p === "linux") {
    return {
      ok: true,
      warning: `${platform}: live response is supported per the newer documentation, but which commands and script types work there through the API is undocumented (scripts are shell scripts, not PowerShell)`,
    };
  }
  return unsupported(
    `${platform} is not supported by live response through the API (Windows 10 1909+, Windows 11, Server 2019/2022, macOS, Linux); run on a supported device`,
  );
}
