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
 *
 * `osVersion` is not always `10.0.x`: the service also answers a release name such as `20H2` beside
 * `osBuild` (real-captures R5), and the `version` field carries one too (`1709` in D5). A release name
 * maps to its build per platform family (21H2 is 19044 on Windows 10, 20348 on Server 2022); a name this
 * table does not know leaves the build unknown, which is a warning naming the field, never a skip.
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

/** Release names → builds, per family (Microsoft's release information pages). */
export const RELEASE_TO_BUILD: Record<"windows10" | "windowsServer", Readonly<Record<string, number>>> = {
  windows10: {
    "1507": 10240,
    "1511": 10586,
    "1607": 14393,
    "1703": 15063,
    "1709": BUILD.v1709,
    "1803": BUILD.v1803,
    "1809": BUILD.v1809,
    "1903": BUILD.v1903,
    "1909": BUILD.v1909,
    "2004": 19041,
    "20H2": 19042,
    "21H1": 19043,
    "21H2": 19044,
    "22H2": 19045,
  },
  // Server 2019 is 1809; 1903 to 20H2 were semi-annual Server releases; 21H2 is Server 2022.
  windowsServer: {
    "1607": 14393,
    "1709": BUILD.v1709,
    "1803": BUILD.v1803,
    "1809": BUILD.v1809,
    "1903": BUILD.v1903,
    "1909": BUILD.v1909,
    "2004": 19041,
    "20H2": 19042,
    "21H2": 20348,
    "23H2": 25398,
    "24H2": 26100,
  },
};

/** The build a Windows release name stands for on this family, or null when the name is unknown. */
export function releaseBuild(family: keyof typeof RELEASE_TO_BUILD, name: string | null): number | null {
  if (name === null) return null;
  return RELEASE_TO_BUILD[family][name.trim().toUpperCase()] ?? null;
}

const text = (v: unknown): string | null => (typeof v === "string" && v.trim() !== "" ? v.trim() : null);

interface BuildFacts {
  build: number | null;
  revision: number | null;
  /** Fields that carried a value this module could not read, e.g. `osVersion "19H3"`. */
  unreadable: string[];
}

function buildAndRevision(m: Machine, family: keyof typeof RELEASE_TO_BUILD): BuildFacts {
  const osVersion = text(m.osVersion);
  const version = text(m.version);
  const osBuild = typeof m.osBuild === "number" && Number.isFinite(m.osBuild) ? m.osBuild : null;
  const v = /^10\.0\.(\d+)(?:\.(\d+))?/.exec(osVersion ?? "");
  const fromVersion = v ? Number(v[1]) : releaseBuild(family, osVersion);
  const fromRelease = releaseBuild(family, version);
  const build = osBuild ?? fromVersion ?? fromRelease;
  const revision = v?.[2] !== undefined && (build === null || Number(v[1]) === build) ? Number(v[2]) : null;
  const unreadable: string[] = [];
  if (build === null) {
    if (osVersion !== null) unreadable.push(`osVersion "${osVersion}"`);
    if (version !== null) unreadable.push(`version "${version}"`);
  }
  return { build, revision, unreadable };
}

function unsupported(message: string): OsVerdict {
  return { ok: false, code: "Preflight.UnsupportedOs", message };
}

const UPDATE_FIX = "install the latest cumulative update (or upgrade to a supported release) and run again";

function windowsRelease(
  m: Machine,
  label: string,
  family: keyof typeof RELEASE_TO_BUILD,
  minimum: number,
  allowKbBuilds: number[],
): OsVerdict {
  const { build, revision, unreadable } = buildAndRevision(m, family);
  if (build === null) {
    const why =
      unreadable.length > 0
        ? `${unreadable.join(" and ")} is not a release this tool knows and osBuild is not in the device record`
        : "osBuild, osVersion and version are not in the device record";
    return {
      ok: true,
      warning: `${label} build unknown (${why}); running anyway — live response needs ${label} 1909 or later (or an older release with its KB)`,
    };
  }
  if (build >= minimum) return { ok: true, warning: null };
  const need = KB_REVISION[build];
  if (!need || !allowKbBuilds.includes(build)) {
    if (!Object.values(RELEASE_TO_BUILD[family]).includes(build)) {
      // Not a released build (D5's 18209 is an Insider preview of 1903): what it supports is unknown.
      return {
        ok: true,
        warning: `${label} build ${build} is not a released ${label} build (an Insider preview?), so live response support is unknown; running anyway`,
      };
    }
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
  const platform = text(m.osPlatform) ?? "";
  const p = platform.toLowerCase();
  if (p === "")
    return {
      ok: true,
      warning:
        "osPlatform is not in the device record, so OS support is unknown; running anyway (the service refuses an unsupported OS with OsPlatformNotSupported)",
    };
  if (p === "windows11") return { ok: true, warning: null };
  if (p === "windows10") {
    return windowsRelease(m, "Windows 10", "windows10", BUILD.v1909, [
      BUILD.v1903,
      BUILD.v1809,
      BUILD.v1803,
      BUILD.v1709,
    ]);
  }
  if (p === "windowsserver2019") {
    // Server 2019 is build 17763 (1809, needs KB4537818); the semi-annual 1903 server is 18362.
    return windowsRelease(m, "Windows Server 2019", "windowsServer", BUILD.v1903, [BUILD.v1809]);
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
