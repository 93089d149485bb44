/** Seeded fleet generator and the demo preset used by `mde-lr run --emulator`. */
import { releaseNameOf, SPARSE_FIELDS } from "./machines.js";
import { Prng } from "./prng.js";
import type { DeviceSpec, EmulatorOptions, FleetSpec, MachineField, ScriptBehaviour } from "./types.js";

const ROLES = ["ws", "lt", "srv", "sql", "web", "dc", "app", "vdi"];
const SITES = ["nyc", "lon", "fra", "sgp", "syd", "tor", "ams", "par"];
const OS_MIX: {
  weight: number;
  spec: Pick<DeviceSpec, "osPlatform" | "osVersion" | "osBuild" | "version">;
}[] = [
  { weight: 45, spec: { osPlatform: "Windows11", osBuild: 22631, version: "23H2" } },
  { weight: 25, spec: { osPlatform: "Windows10", osBuild: 19045, version: "22H2" } },
  { weight: 10, spec: { osPlatform: "WindowsServer2022", osBuild: 20348, version: "21H2" } },
  { weight: 8, spec: { osPlatform: "WindowsServer2019", osBuild: 17763, version: "1809" } },
  { weight: 7, spec: { osPlatform: "Linux", osVersion: "Ubuntu 22.04" } },
  { weight: 5, spec: { osPlatform: "macOS", osVersion: "14.5" } },
];
const UNSUPPORTED: Pick<DeviceSpec, "osPlatform" | "osBuild" | "version">[] = [
  { osPlatform: "WindowsServer2016", osBuild: 14393, version: "1607" },
  { osPlatform: "Windows7", osBuild: 7601 },
  { osPlatform: "Windows10", osBuild: 15063, version: "1703" },
];

export function generateFleet(spec: FleetSpec): DeviceSpec[] {
  const rng = new Prng(spec.seed);
  // The capture-driven variants draw from their own stream, so a seed's fleet is otherwise unchanged.
  const variants = new Prng((spec.seed ^ 0x5ca97e5) >>> 0);
  const domain = spec.domain ?? "corp.contoso.com";
  const tags = spec.tags ?? ["Finance", "HR", "Engineering", "Sales", "VIP", "Pilot"];
  const totalWeight = OS_MIX.reduce((s, o) => s + o.weight, 0);
  const devices: DeviceSpec[] = [];
  for (let i = 0; i < spec.count; i++) {
    let roll = rng.next() * totalWeight;
    let os = OS_MIX[0]?.spec ?? {};
    for (const option of OS_MIX) {
      roll -= option.weight;
      if (roll < 0) {
        os = option.spec;
        break;
      }
    }
    const role = rng.pick(ROLES);
    const name = `${rng.pick(SITES)}-${role}-${String(i + 1).padStart(5, "0")}.${domain}`;
    const device: DeviceSpec = {
      id: rng.hex(40),
      computerDnsName: name,
      ...os,
      agentVersion: `10.8${rng.int(900) + 100}.${os.osBuild ?? 22621}.${rng.int(2000)}`,
      machineTags: tags.filter(() => rng.chance(0.25)),
      rbacGroupId: 1 + rng.int(4),
      rbacGroupName: rng.pick(["Workstations", "Servers", "Tier0", "Kiosks"]),
    };
    if (rng.chance(spec.unsupportedRate ?? 0)) Object.assign(device, rng.pick(UNSUPPORTED));
    if (rng.chance(spec.offlineRate ?? 0)) device.offline = true;
    if (rng.chance(spec.inactiveRate ?? 0)) {
      device.healthStatus = "Inactive";
      device.offline = true;
    }
    if (rng.chance(spec.busyRate ?? 0)) device.busyUntil = Number.POSITIVE_INFINITY;
    if (rng.chance(spec.failingRate ?? 0)) {
      device.scripts = { "*": { fail: true } };
    }
    device.commandDurationMs = 2_000 + rng.int(8_000);
    applyVariants(device, spec, variants);
    devices.push(device);
  }
  return devices;
}

/** R5 release names, D5 absent fields, docs' non-strict transcripts: each on a seeded share of devices. */
function applyVariants(device: DeviceSpec, spec: FleetSpec, rng: Prng): void {
  const platform = device.osPlatform ?? "";
  const release = releaseNameOf(platform, device.osBuild);
  if (rng.chance(spec.releaseNameRate ?? 0.3) && release) device.osVersion = release;
  if (rng.chance(spec.sparseRate ?? 0.1)) {
    const absent: MachineField[] = [];
    const nulled: MachineField[] = [];
    for (const field of SPARSE_FIELDS) {
      if (!rng.chance(0.3)) continue;
      (rng.chance(0.25) ? nulled : absent).push(field);
    }
    if (absent.length + nulled.length === 0) absent.push("onboardingStatus");
    if (absent.length > 0) device.absentFields = absent;
    if (nulled.length > 0) device.nullFields = nulled;
  }
  if (rng.chance(spec.nonStrictTranscriptRate ?? 0.1)) device.transcriptLayout = "docs";
}

/**
 * A dozen realistic devices for demos: one offline, one busy with a portal session, one whose scripts
 * fail, one Windows 10 too old for live response, one whose record lacks onboardingStatus, a Linux and a
 * macOS box.
 */
export function demoEmulatorOptions(): EmulatorOptions {
  const d = "corp.contoso.com";
  const devices: DeviceSpec[] = [
    { computerDnsName: `fin-ws-0142.${d}`, osPlatform: "Windows11", machineTags: ["Finance"] },
    { computerDnsName: `fin-ws-0177.${d}`, osPlatform: "Windows11", machineTags: ["Finance", "VIP"] },
    // R5's release-name osVersion, and D5's missing onboardingStatus: the client must run it anyway.
    {
      computerDnsName: `hr-lt-0031.${d}`,
      osPlatform: "Windows10",
      osVersion: "22H2",
      osBuild: 19045,
      machineTags: ["HR"],
      absentFields: ["onboardingStatus"],
    },
    { computerDnsName: `eng-lt-0420.${d}`, osPlatform: "Windows11", machineTags: ["Engineering"] },
    {
      computerDnsName: `eng-lt-0421.${d}`,
      osPlatform: "Windows11",
      machineTags: ["Engineering"],
      offline: true,
    },
    {
      computerDnsName: `sales-lt-0099.${d}`,
      osPlatform: "Windows11",
      machineTags: ["Sales"],
      busyUntil: Number.POSITIVE_INFINITY,
    },
    {
      computerDnsName: `sql-srv-01.${d}`,
      osPlatform: "WindowsServer2022",
      osBuild: 20348,
      machineTags: ["Tier0"],
      scripts: { "*": { fail: true } },
    },
    {
      computerDnsName: `web-srv-02.${d}`,
      osPlatform: "WindowsServer2019",
      osBuild: 17763,
      machineTags: ["DMZ"],
    },
    {
      computerDnsName: `dc-01.${d}`,
      osPlatform: "WindowsServer2022",
      osBuild: 20348,
      machineTags: ["Tier0"],
    },
    {
      computerDnsName: `kiosk-old-07.${d}`,
      osPlatform: "Windows10",
      osBuild: 15063,
      version: "1703",
      machineTags: ["Kiosk"],
    },
    {
      computerDnsName: `build-lnx-03.${d}`,
      osPlatform: "Linux",
      osVersion: "Ubuntu 22.04",
      machineTags: ["Engineering"],
    },
    {
      computerDnsName: `design-mac-12.${d}`,
      osPlatform: "macOS",
      osVersion: "14.5",
      machineTags: ["Design"],
    },
  ];
  // The example runbooks' scripts (examples/scripts) leave the files their getFile steps collect.
  const exampleScripts: Record<string, ScriptBehaviour> = {
    "collect-triage.ps1": {
      stdout: "triage written to C:\\Windows\\Temp\\triage.zip (262144 bytes)\n",
      creates: { "C:\\Windows\\Temp\\triage.zip": { size: 262_144, seed: 7 } },
    },
    "memory-dump.ps1": {
      stdout: "dumped OfficeClickToRun pid 4242 to C:\\Windows\\Temp\\memdump.dmp (8388608 bytes)\n",
      creates: { "C:\\Windows\\Temp\\memdump.dmp": { size: 8_388_608, seed: 11 } },
    },
    "run-triagekit.ps1": {
      stdout: "3 persistence entries written to C:\\Windows\\Temp\\persistence.csv\n",
      creates: {
        "C:\\Windows\\Temp\\persistence.csv":
          '"Kind","Location","Name","Value"\r\n"RegistryRun","HKLM:\\Software\\Microsoft\\Windows\\CurrentVersion\\Run","SecurityHealth","C:\\Windows\\system32\\SecurityHealthSystray.exe"\r\n',
      },
    },
  };
  for (const device of devices) {
    if (device.osPlatform?.startsWith("Windows") && !device.scripts) device.scripts = exampleScripts;
  }
  return {
    devices,
    defaultCommandDurationMs: 3_000,
    library: [
      {
        fileName: "collect-triage.ps1",
        content: "Get-Process | Out-File C:\\Windows\\Temp\\processes.txt\n",
        description: "Collects a process list",
      },
      {
        fileName: "triage.sh",
        content: "#!/bin/sh\nps aux > /tmp/processes.txt\n",
        description: "Process list",
      },
    ],
  };
}
