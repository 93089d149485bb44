/** The §4.11 device prerequisites, decided from the machine entity (build and revision numbers). */
import { describe, expect, it } from "vitest";
import type { Machine } from "../../shared/api/types.js";
import { RELEASE_BUILDS } from "../../shared/emulator/index.js";
import { checkOsSupport, RELEASE_TO_BUILD, releaseBuild } from "../../shared/plan/os-support.js";

function machine(fields: Partial<Machine>): Machine {
  return {
    id: "a".repeat(40),
    computerDnsName: "host",
    osPlatform: null,
    osVersion: null,
    osBuild: null,
    version: null,
    agentVersion: null,
    healthStatus: "Active",
    onboardingStatus: "Onboarded",
    machineTags: [],
    rbacGroupId: null,
    rbacGroupName: null,
    lastSeen: null,
    ...fields,
  };
}

type Expect = "ok" | "warn" | "skip";
const cases: [string, Partial<Machine>, Expect][] = [
  ["Windows 11", { osPlatform: "Windows11", osBuild: 22631 }, "ok"],
  ["Windows 10 22H2", { osPlatform: "Windows10", osBuild: 19045 }, "ok"],
  ["Windows 10 1909", { osPlatform: "Windows10", osBuild: 18363 }, "ok"],
  ["Windows 10 1909 from the version field only", { osPlatform: "Windows10", version: "1909" }, "ok"],
  [
    "Windows 10 1903 with KB4515384 (18362.356)",
    { osPlatform: "Windows10", osVersion: "10.0.18362.356" },
    "ok",
  ],
  ["Windows 10 1903 before KB4515384", { osPlatform: "Windows10", osVersion: "10.0.18362.295" }, "skip"],
  [
    "Windows 10 1809 with KB4537818 (17763.1075)",
    { osPlatform: "Windows10", osBuild: 17763, osVersion: "10.0.17763.1075" },
    "ok",
  ],
  ["Windows 10 1809, revision unknown", { osPlatform: "Windows10", osBuild: 17763 }, "warn"],
  [
    "Windows 10 1803 with KB4537795 (17134.1345)",
    { osPlatform: "Windows10", osVersion: "10.0.17134.1345" },
    "ok",
  ],
  ["Windows 10 1803 before KB4537795", { osPlatform: "Windows10", osVersion: "10.0.17134.1304" }, "skip"],
  [
    "Windows 10 1709 with KB4537816 (16299.1717)",
    { osPlatform: "Windows10", osVersion: "10.0.16299.1717" },
    "ok",
  ],
  ["Windows 10 1703", { osPlatform: "Windows10", osBuild: 15063 }, "skip"],
  ["Windows 10, build unknown", { osPlatform: "Windows10" }, "warn"],
  [
    "Server 2019 1809 with KB4537818",
    { osPlatform: "WindowsServer2019", osVersion: "10.0.17763.2000" },
    "ok",
  ],
  [
    "Server 2019 1809 before KB4537818",
    { osPlatform: "WindowsServer2019", osVersion: "10.0.17763.1000" },
    "skip",
  ],
  ["Server 2019 1903", { osPlatform: "WindowsServer2019", osBuild: 18362 }, "ok"],
  ["Server 2022", { osPlatform: "WindowsServer2022", osBuild: 20348 }, "ok"],
  ["Server 2025 (newer than the list)", { osPlatform: "WindowsServer2025", osBuild: 26100 }, "warn"],
  ["Server 2016", { osPlatform: "WindowsServer2016", osBuild: 14393 }, "skip"],
  ["Windows 7", { osPlatform: "Windows7", osBuild: 7601 }, "skip"],
  ["macOS", { osPlatform: "macOS", osVersion: "14.5" }, "warn"],
  ["Linux", { osPlatform: "Linux" }, "warn"],
  ["platform unknown", {}, "warn"],
  // Release names in osVersion (real-captures R5) and version (D5).
  [
    "capture R5: Windows 10 osVersion 20H2 with osBuild 19042",
    { osPlatform: "Windows10", osVersion: "20H2", osBuild: 19042 },
    "ok",
  ],
  [
    "Windows 10 osVersion 20H2 without osBuild (→ 19042)",
    { osPlatform: "Windows10", osVersion: "20H2" },
    "ok",
  ],
  [
    "Windows 10 osVersion 21H2 without osBuild (→ 19044)",
    { osPlatform: "Windows10", osVersion: "21h2" },
    "ok",
  ],
  [
    "Windows 10 osVersion 1903 without osBuild: KB unconfirmable",
    { osPlatform: "Windows10", osVersion: "1903" },
    "warn",
  ],
  ["Windows 10 osVersion 1703 without osBuild", { osPlatform: "Windows10", osVersion: "1703" }, "skip"],
  ["Windows 10 unknown release name", { osPlatform: "Windows10", osVersion: "19H3" }, "warn"],
  [
    "Server 2019 osVersion 1809 (KB unconfirmable)",
    { osPlatform: "WindowsServer2019", osVersion: "1809" },
    "warn",
  ],
  ["Server 2019 semi-annual 20H2", { osPlatform: "WindowsServer2019", osVersion: "20H2" }, "ok"],
  [
    "capture D5: Windows 10 version 1709 with Insider build 18209",
    { osPlatform: "Windows10", version: "1709", osBuild: 18209 },
    "warn",
  ],
];

describe("checkOsSupport", () => {
  it.each(cases)("%s → %s", (_name, fields, expected) => {
    const verdict = checkOsSupport(machine(fields));
    const got: Expect = !verdict.ok ? "skip" : verdict.warning ? "warn" : "ok";
    expect(got).toBe(expected);
    if (!verdict.ok) {
      expect(verdict.code).toBe("Preflight.UnsupportedOs");
      expect(verdict.message).toMatch(/update|upgrade|supported device/);
    }
  });
});

describe("release names", () => {
  it("capture R5: 20H2 = 19042, 21H2 = 19044 on Windows 10; 21H2 = 20348 on Server", () => {
    expect(releaseBuild("windows10", "20H2")).toBe(19042);
    expect(releaseBuild("windows10", "21H2")).toBe(19044);
    expect(releaseBuild("windows10", "22H2")).toBe(19045);
    expect(releaseBuild("windowsServer", "21H2")).toBe(20348);
    expect(releaseBuild("windows10", "19H3")).toBeNull();
    expect(releaseBuild("windows10", null)).toBeNull();
  });

  it("names the unreadable field in the warning", () => {
    const verdict = checkOsSupport(machine({ osPlatform: "Windows10", osVersion: "19H3", version: "x" }));
    expect(verdict.ok).toBe(true);
    expect(verdict.ok && verdict.warning).toMatch(/osVersion "19H3" and version "x" is not a release/);
    const none = checkOsSupport(machine({ osPlatform: "Windows10" }));
    expect(none.ok && none.warning).toMatch(/osBuild, osVersion and version are not in the device record/);
    const platform = checkOsSupport(machine({}));
    expect(platform.ok && platform.warning).toMatch(/osPlatform is not in the device record/);
  });

  it("agrees with the emulator's release table (both sides of the same fact)", () => {
    for (const [name, build] of Object.entries(RELEASE_BUILDS.Windows10)) {
      expect(releaseBuild("windows10", name), name).toBe(build);
    }
    for (const [name, build] of Object.entries(RELEASE_BUILDS.WindowsServer)) {
      expect(RELEASE_TO_BUILD.windowsServer[name], name).toBe(build);
    }
  });
});
