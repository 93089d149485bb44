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
import { ActionStore, OTHER_CANCELLER } from "./lifecycle.js";
import { RateLimiter } from "./limits.js";
import { type Device, toDevice } from "./machines.js";
import { Prng } from "./prng.js";
import { RecordLog } from "./records.js";
import { createRouter } from "./router.js";
import { type Stamp, stampFor } from "./time.js";
import { serverCertificate } from "./tls.js";
import type {
  BehaviourUpdate,
  DeviceSpec,
  EmulatorHandle,
  EmulatorLimits,
  EmulatorOptions,
  RegisteredApp,
  ServiceBehaviour,
} from "./types.js";

export { deviceFileSha256, syntheticChunks } from "./blob.js";
export { demoEmulatorOptions, generateFleet } from "./fleet.js";
export { OTHER_CANCELLER } from "./lifecycle.js";
export { machineIdFor, RELEASE_BUILDS, SPARSE_FIELDS } from "./machines.js";
export { ManualClock } from "./manual-clock.js";
export { capturedTimestamp, mdeTimestamp } from "./time.js";
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

/** What the real service does per the captures (shared/real-captures); see ServiceBehaviour for each switch. */
export const DEFAULT_BEHAVIOUR: ServiceBehaviour = {
  missingLibraryFile: "failAtCommand",
  timestampDigits: "captured",
  transcriptLayout: "captured",
  linkStyle: "userDelegation",
  completionLag: { rate: 0, minMs: 1_000, maxMs: 10_000 },
  duplicateReturnsExisting: { rate: 0, status: 201 },
  librarySha256: "sent",
};

export function mergeBehaviour(
  base: ServiceBehaviour,
  update: BehaviourUpdate | undefined,
): ServiceBehaviour {
  if (!update) return base;
  const { completionLag, duplicateReturnsExisting, ...rest } = update;
  const merged: ServiceBehaviour = {
    ...base,
    ...rest,
    completionLag: { ...base.completionLag, ...completionLag },
    duplicateReturnsExisting: { ...base.duplicateReturnsExisting, ...duplicateReturnsExisting },
  };
  const { rate: lagRate, minMs, maxMs } = merged.completionLag;
  if (!(lagRate >= 0 && lagRate <= 1) || !(minMs >= 0) || !(maxMs >= minMs)) {
    throw new RangeError("behaviour.completionLag: rate in 0..1 and 0 ≤ minMs ≤ maxMs");
  }
  const dup = merged.duplicateReturnsExisting;
  if (!(dup.rate >= 0 && dup.rate <= 1) || (dup.status !== 200 && dup.status !== 201)) {
    throw new RangeError("behaviour.duplicateReturnsExisting: rate in 0..1 and status 200 or 201");
  }
  return merged;
}

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
  let behaviour = mergeBehaviour(DEFAULT_BEHAVIOUR, options.behaviour);
  let stamp: Stamp = stampFor(behaviour.timestampDigits);
  const behaviourRng = new Prng((seed ^ 0x0b5e55ed) >>> 0);
  const library = new Library();
  const actions = new ActionStore(
    {
      get limits() {
        return limits;
      },
      get behaviour() {
        return behaviour;
      },
      get stamp() {
        return stamp;
      },
      rng: behaviourRng,
      libraryHas: (name) => library.get(name) !== undefined,
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
      const device = toDevice(spec, now, stamp);
      const previous = devices.get(device.id);
      devices.set(device.id, device);
      if (previous?.spec.offline && !spec.offline) actions.deviceOnline(device, now);
    }
    deviceList = [...devices.values()];
  };
  const initial = [...(options.devices ?? []), ...(options.fleet ? generateFleet(options.fleet) : [])];
  upsertDevices(initial.length > 0 || options.fleet ? initial : (demoEmulatorOptions().devices ?? []));

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

  const history = historicActions(options.historicActions ?? 0, deviceList, startedAt, rng, stamp);
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
    behaviour: () => behaviour,
    rng: behaviourRng,
    stamp: () => stamp,
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
      if (update.behaviour) {
        behaviour = mergeBehaviour(behaviour, update.behaviour);
        stamp = stampFor(behaviour.timestampDigits);
      }
      if (update.faults) faults.update(update.faults);
      if (update.limits) {
        limits = { ...limits, ...update.limits };
        limiter.update(limits);
      }
      if (update.devices) upsertDevices(update.devices);
    },
    cancelAsOther(actionId, o = {}) {
      const now = clock.now();
      const action = actions.get(actionId);
      if (!action) throw new RangeError(`cancelAsOther: no live response action ${actionId}`);
      if (actions.isFinal(action, now)) {
        throw new RangeError(
          `cancelAsOther: action ${actionId} is already ${actions.status(action, now)} and cannot be cancelled`,
        );
      }
      actions.cancel(action, o.requestor ?? OTHER_CANCELLER, o.comment ?? "Cancelled from the portal", now);
      return actions.entity(action, now);
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
  stamp: Stamp,
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
      creationDateTimeUtc: stamp(created),
      lastUpdateDateTimeUtc: stamp(created + 120_000),
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
