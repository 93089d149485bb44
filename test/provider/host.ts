/**
 * Drives the real dynamic-provider host shipped in @pulumi/pulumi (`cmd/dynamic-provider`) over gRPC,
 * the way the Pulumi engine does: one child process per test file, loopback only.
 */
import { type ChildProcess, spawn } from "node:child_process";
import * as grpc from "@grpc/grpc-js";
import * as provrpc from "@pulumi/pulumi/proto/provider_grpc_pb";
import * as pb from "@pulumi/pulumi/proto/provider_pb";
import * as statuspb from "@pulumi/pulumi/proto/status_pb";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import { NODE, REPO } from "./program.js";

/** Pulumi's wire marker for a secret value (sdk/nodejs/runtime/rpc.ts specialSigKey / specialSecretSig). */
const SECRET_SIG = { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270" };

export type Props = Record<string, unknown>;

/** A create/update that failed after creating something: Pulumi's partial state (ErrorResourceInitFailed). */
export interface InitFailure {
  message: string;
  id: string;
  properties: Props;
  reasons: string[];
}

export class HostCallError extends Error {
  readonly initFailure: InitFailure | undefined;
  constructor(message: string, initFailure: InitFailure | undefined) {
    super(message);
    this.initFailure = initFailure;
  }
}

function toStruct(value: Props): Struct {
  return Struct.fromJavaScript(value as Parameters<typeof Struct.fromJavaScript>[0]);
}

function initFailureOf(error: grpc.ServiceError): InitFailure | undefined {
  const raw = error.metadata?.get("grpc-status-details-bin")[0];
  if (!raw) return undefined;
  const status = statuspb.Status.deserializeBinary(new Uint8Array(raw as Buffer));
  for (const detail of status.getDetailsList()) {
    if (!detail.getTypeUrl().endsWith("pulumirpc.ErrorResourceInitFailed")) continue;
    const f = pb.ErrorResourceInitFailed.deserializeBinary(detail.getValue_asU8());
    return {
      message: status.getMessage(),
      id: f.getId(),
      properties: (f.getProperties()?.toJavaScript() ?? {}) as Props,
      reasons: f.getReasonsList(),
    };
  }
  return undefined;
}

export class ProviderHost {
  /** Everything the host printed after the port line (the provider's console output). */
  output = "";
  private constructor(
    private readonly child: ChildProcess,
    private readonly client: provrpc.ResourceProviderClient,
    readonly project: string,
    readonly stack: string,
  ) {}

  /** `cwd` is the program directory; the host resolves the provider's `require`s from there. */
  static async start(
    cwd: string,
    options: { project?: string; env?: NodeJS.ProcessEnv } = {},
  ): Promise<ProviderHost> {
    const project = options.project ?? "proj";
    const child = spawn(
      NODE,
      [require.resolve("@pulumi/pulumi/cmd/dynamic-provider", { paths: [REPO] }), "127.0.0.1:1"],
      {
        cwd,
        env: { ...(options.env ?? process.env), PULUMI_NODEJS_PROJECT: project },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let buffered = "";
    const port = await new Promise<number>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        buffered += chunk.toString("utf8");
        const nl = buffered.indexOf("\n");
        if (nl < 0) return;
        child.stdout?.off("data", onData);
        resolve(Number(buffered.slice(0, nl).trim()));
      };
      child.stdout?.on("data", onData);
      child.once("exit", (code) =>
        reject(new Error(`dynamic-provider host exited (${code}) before listening`)),
      );
      child.once("error", reject);
    });
    const client = new provrpc.ResourceProviderClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    const host = new ProviderHost(child, client, project, "dev");
    host.output = buffered.slice(buffered.indexOf("\n") + 1);
    child.stdout?.on("data", (c: Buffer) => {
      host.output += c.toString("utf8");
    });
    child.stderr?.on("data", (c: Buffer) => {
      host.output += c.toString("utf8");
    });
    return host;
  }

  urn(type: string, name: string): string {
    return `urn:pulumi:${this.stack}::${this.project}::${type}::${name}`;
  }

  private call<Req, Res>(method: string, req: Req): Promise<Res> {
    type Unary = (r: Req, cb: (e: grpc.ServiceError | null, r: Res) => void) => void;
    const fn = (this.client as unknown as Record<string, Unary | undefined>)[method];
    if (!fn) return Promise.reject(new Error(`the ResourceProvider client has no method ${method}`));
    return new Promise((resolve, reject) => {
      fn.call(this.client, req, (e, r) => {
        if (e) reject(new HostCallError(e.details || e.message, initFailureOf(e)));
        else resolve(r);
      });
    });
  }

  /** Stack config as the engine sends it: full keys, secrets wrapped in the secret marker. */
  async configure(config: Record<string, string>, secretKeys: string[] = []): Promise<void> {
    const args: Props = {};
    for (const [k, v] of Object.entries(config))
      args[k] = secretKeys.includes(k) ? { ...SECRET_SIG, value: v } : v;
    const req = new pb.ConfigureRequest();
    req.setArgs(toStruct(args));
    await this.call("configure", req);
  }

  async check(
    urn: string,
    olds: Props,
    news: Props,
  ): Promise<{ inputs: Props; failures: { property: string; reason: string }[] }> {
    const req = new pb.CheckRequest();
    req.setUrn(urn);
    req.setOlds(toStruct(olds));
    req.setNews(toStruct(news));
    const res = await this.call<pb.CheckRequest, pb.CheckResponse>("check", req);
    return {
      inputs: (res.getInputs()?.toJavaScript() ?? {}) as Props,
      failures: res.getFailuresList().map((f) => ({ property: f.getProperty(), reason: f.getReason() })),
    };
  }

  async create(
    urn: string,
    properties: Props,
    timeoutSeconds = 0,
  ): Promise<{ id: string; properties: Props }> {
    const req = new pb.CreateRequest();
    req.setUrn(urn);
    req.setProperties(toStruct(properties));
    req.setTimeout(timeoutSeconds);
    const res = await this.call<pb.CreateRequest, pb.CreateResponse>("create", req);
    return { id: res.getId(), properties: (res.getProperties()?.toJavaScript() ?? {}) as Props };
  }

  async diff(
    urn: string,
    id: string,
    olds: Props,
    news: Props,
  ): Promise<{ changes: "some" | "none" | "unknown"; replaces: string[]; deleteBeforeReplace: boolean }> {
    const req = new pb.DiffRequest();
    req.setUrn(urn);
    req.setId(id);
    req.setOlds(toStruct(olds));
    req.setNews(toStruct(news));
    const res = await this.call<pb.DiffRequest, pb.DiffResponse>("diff", req);
    const c = res.getChanges();
    const changes =
      c === pb.DiffResponse.DiffChanges.DIFF_SOME
        ? "some"
        : c === pb.DiffResponse.DiffChanges.DIFF_NONE
          ? "none"
          : "unknown";
    return { changes, replaces: res.getReplacesList(), deleteBeforeReplace: res.getDeletebeforereplace() };
  }

  async update(urn: string, id: string, olds: Props, news: Props): Promise<Props> {
    const req = new pb.UpdateRequest();
    req.setUrn(urn);
    req.setId(id);
    req.setOlds(toStruct(olds));
    req.setNews(toStruct(news));
    const res = await this.call<pb.UpdateRequest, pb.UpdateResponse>("update", req);
    return (res.getProperties()?.toJavaScript() ?? {}) as Props;
  }

  async read(
    urn: string,
    id: string,
    properties: Props,
    inputs?: Props,
  ): Promise<{ id: string; properties: Props }> {
    const req = new pb.ReadRequest();
    req.setUrn(urn);
    req.setId(id);
    req.setProperties(toStruct(properties));
    if (inputs) req.setInputs(toStruct(inputs));
    const res = await this.call<pb.ReadRequest, pb.ReadResponse>("read", req);
    return { id: res.getId(), properties: (res.getProperties()?.toJavaScript() ?? {}) as Props };
  }

  async delete(urn: string, id: string, properties: Props): Promise<void> {
    const req = new pb.DeleteRequest();
    req.setUrn(urn);
    req.setId(id);
    req.setProperties(toStruct(properties));
    await this.call("delete", req);
  }

  async stop(): Promise<void> {
    this.client.close();
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once("exit", resolve));
    this.child.kill();
    await exited;
  }
}
