/**
 * The local MDE emulator: `startEmulator()` starts the API (http, loopback) and an Entra-like authority
 * (https, self-signed) and returns the handle tests, benchmarks and `mde-lr --emulator` drive.
 * See shared/emulator/types.ts for the contract and mde-api.md §7 for the behaviours reproduced.
 */
import { randomBytes } from "node:crypto";
import { createServer as createHttpServer, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { type Clock, systemClock } from "../clock.js";
import type { ApiState } from "./api.js";
import { ALL_ROLES, DEFAULT_API_AUDIENCE, TokenAuthority } from "./auth.js";
import { LinkSigner } from "./blob.js";
import { Entra, GITHUB_AUDIENCE, GITHUB_ISSUER } from "./entra.js";
import { FaultInjector } from "./faults.js";
import { demoEmulatorOptions, generateFleet } from "./fleet.js";
import { Library } from "./library.js";
import { ActionStore } from "./lifecycle.js";
import { RateLimiter } from "./limits.js";
import { type Device, toDevice } from "./machines.js";
import { Prng } from "./prng.js";
import { RecordLog } from "./records.js";
import { createRouter } from "./router.js";
import { mdeTimestamp } from "./time.js";
import { serverCertificate } from "./tls.js";
import type { DeviceSpec, EmulatorHandle, EmulatorLimits, EmulatorOptions, RegisteredApp } from "./types.js";

export { deviceFileSha256, syntheticChunks } from "./blob.js";
export { demoEmulatorOptions, generateFleet } from "./fleet.js";
export { machineIdFor } from "./machines.js";
export { ManualClock } from "./manual-clock.js";
export { type GeneratedCertificate, generateCertificate } from "./tls.js";
export type * from "./types.js";

export const DEFAULT_LIMITS: EmulatorLimits = {
  submitPerMinute: 10,
  callsPerMinute: 100,
  callsPerHour: 1_500,
  concurrentSessions: 25,
  queueWindowMs: 2 * 3_600_000,
  linkValidityMs: 30 * 60_000,
  runScriptTimeoutMs: 10 * 60_000,
  libraryMaxBytes: 20 * 1_048_576,
  pageSize: 10_000,
};

/** The federated credential the demo app trusts (a GitHub environment job). */
export const DEMO_GITHUB_SUBJECT = "repo:contoso/mde-live-response:environment:production";

function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<EmulatorHandle> {
  const clock: Clock = options.clock ?? systemClock;
  const seed = options.seed ?? 1;
  const rng = new Prng(seed);
  const startedAt = clock.now();
  let limits: EmulatorLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const records = new RecordLog(options.recordCalls ?? true);
  const tokens = new TokenAuthority();
  const limiter = new RateLimiter(limits);
  const faults = new FaultInjector(options.faults, seed, startedAt);
  const actions = new ActionStore(
    {
      get limits() {
        return limits;
      },
      defaultCommandDurationMs: options.defaultCommandDurationMs ?? 5_000,
      pickupDelayMs: options.pickupDelayMs ?? 1_000,
    },
    records,
  );

  const devices = new Map<string, Device>();
  let deviceList: Device[] = [];
  const upsertDevices = (specs: DeviceSpec[]) => {
    const now = clock.now();
    for (const spec of specs) {
      const device = toDevice(spec, now);
      const previous = devices.get(device.id);
      devices.set(device.id, device);
      if (previous?.spec.offline && !spec.offline) actions.deviceOnline(device, now);
    }
    deviceList = [...devices.values()];
  };
  const initial = [...(options.devices ?? []), ...(options.fleet ? generateFleet(options.fleet) : [])];
  upsertDevices(initial.length > 0 || options.fleet ? initial : (demoEmulatorOptions().devices ?? []));

  const library = new Library();
  for (const file of options.library ?? []) {
    library.put(
      {
        fileName: file.fileName,
        content: typeof file.content === "string" ? Buffer.from(file.content, "utf8") : file.content,
        description: file.description ?? null,
        parametersDescription: null,
        hasParameters: false,
        createdBy: "emulator",
      },
      startedAt,
    );
  }

  const demoApp = {
    tenantId: rng.guid(),
    clientId: rng.guid(),
    clientSecret: `emu~${randomBytes(24).toString("base64url")}`,
  };
  const apps: RegisteredApp[] = [
    {
      ...demoApp,
      roles: [...ALL_ROLES],
      federated: [{ issuer: GITHUB_ISSUER, subject: DEMO_GITHUB_SUBJECT, audience: GITHUB_AUDIENCE }],
    },
    ...(options.apps ?? []),
  ];

  const history = historicActions(options.historicActions ?? 0, deviceList, startedAt, rng);
  const host = options.host ?? "127.0.0.1";
  const urlHost = host.includes(":") ? `[${host}]` : host;
  let url = "";
  let authorityHost = "";
  const state: ApiState = {
    now: () => clock.now(),
    limits: () => limits,
    records,
    actions,
    library,
    devices,
    deviceList: () => deviceList,
    links: new LinkSigner(),
    blobBaseUrl: () => url,
    otherActions: () => history,
  };

  const apiServer = createHttpServer(
    { keepAlive: true, keepAliveTimeout: 65_000, requestTimeout: 0 },
    createRouter({ clock, state, auth: tokens, limiter, faults }),
  );
  const tls = options.tlsCertificate ?? (await serverCertificate());
  const entra = new Entra(
    { clock, tokens, tokenLifetimeMs: () => faults.tokenLifetimeMs, authorityHost: () => authorityHost },
    apps,
  );
  const entraServer = createHttpsServer({ key: tls.keyPem, cert: tls.certPem, keepAlive: true }, (req, res) =>
    entra.handle(req, res),
  );
  const apiPort = await listen(apiServer, host, options.port ?? 0);
  const entraPort = await listen(entraServer, host, 0);
  url = `http://${urlHost}:${apiPort}`;
  authorityHost = `https://${urlHost}:${entraPort}`;

  return {
    url,
    authorityHost,
    caPem: tls.certPem,
    demoApp,
    clock,
    connectionOptions: () => ({
      apiUrl: url,
      authorityHost,
      tenantId: demoApp.tenantId,
      clientId: demoApp.clientId,
      clientSecret: demoApp.clientSecret,
      caPem: tls.certPem,
      clock,
    }),
    issueToken(o = {}) {
      return tokens.issue({
        tenantId: o.tenantId ?? demoApp.tenantId,
        appId: o.appId ?? demoApp.clientId,
        roles: o.roles ?? [...ALL_ROLES],
        audience: o.audience ?? DEFAULT_API_AUDIENCE,
        issuedAt: clock.now(),
        lifetimeMs: o.lifetimeMs ?? faults.tokenLifetimeMs,
      });
    },
    issueGitHubIdToken: (o) => entra.issueGitHubIdToken(o),
    get records() {
      actions.settleAll(clock.now());
      return records.entries;
    },
    state: {
      machineIds: () => deviceList.map((d) => d.id),
      actions: () => {
        const now = clock.now();
        return [...history, ...actions.all().map((a) => actions.entity(a, now))];
      },
      libraryFileNames: () => library.names(),
      callCounts: () => records.callCounts(),
    },
    configure(update) {
      if (update.faults) faults.update(update.faults);
      if (update.limits) {
        limits = { ...limits, ...update.limits };
        limiter.update(limits);
      }
      if (update.devices) upsertDevices(update.devices);
    },
    async close() {
      await Promise.all([closeServer(apiServer), closeServer(entraServer)]);
    },
  };
}

const HISTORIC_TYPES = ["RunAntiVirusScan", "Isolate", "Unisolate", "CollectInvestigationPackage"];

function historicActions(
  count: number,
  devices: Device[],
  now: number,
  rng: Prng,
): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (let i = 0; i < count && devices.length > 0; i++) {
    const device = devices[i % devices.length] as Device;
    const created = now - (count - i) * 3_600_000;
    out.push({
      id: rng.guid(),
      type: rng.pick(HISTORIC_TYPES),
      title: null,
      requestor: "secops@contoso.com",
      requestorComment: "Routine response",
      status: "Succeeded",
      machineId: device.id,
      computerDnsName: device.spec.computerDnsName,
      creationDateTimeUtc: mdeTimestamp(created),
      lastUpdateDateTimeUtc: mdeTimestamp(created + 120_000),
      cancellationRequestor: null,
      cancellationComment: null,
      cancellationDateTimeUtc: null,
      errorHResult: 0,
      scope: null,
      externalId: null,
      requestSource: "Portal",
      relatedFileInfo: null,
      commands: [],
      troubleshootInfo: null,
    });
  }
  return out;
}
