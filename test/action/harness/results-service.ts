/**
 * A local stand-in for the GitHub Actions results service, so artifact uploads run end to end offline:
 * a fake of the twirp ArtifactService (CreateArtifact / FinalizeArtifact / ListArtifacts / DeleteArtifact)
 * handing out SAS URLs into real blob storage from Azurite (blob only, in memory, telemetry off).
 * Error bodies for 409 and quota follow the shapes quoted in actions/upload-artifact issues (they cannot
 * be checked against the real service offline).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  BlobSASPermissions,
  BlobServiceClient,
  type ContainerClient,
  generateBlobSASQueryParameters,
  StorageSharedKeyCredential,
} from "@azure/storage-blob";

/** Azurite's published development account and key (not a secret; Microsoft documents it). */
const AZURITE_ACCOUNT = "devstoreaccount1";
const AZURITE_KEY =
  "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

export interface StoredArtifact {
  id: number;
  name: string;
  /** From the runtime token's `Actions.Results:<run>:<job>` scope: which workflow run uploaded it. */
  runBackendId: string;
  createdAt: string | null;
  blobName: string;
  size: number;
  hash: string;
  expiresAt: string | null;
  finalized: boolean;
  /** SAS signatures handed out for this artifact (tests check they never leak). */
  sigs: string[];
}

export interface ResultsService {
  /** Origin for ACTIONS_RESULTS_URL. */
  url: string;
  /** ACTIONS_RUNTIME_TOKEN: an unsigned JWT with the `Actions.Results:<run>:<job>` scope. */
  runtimeToken: string;
  /** A runtime token for another workflow run (`Actions.Results:run-<id>:job-1`). */
  tokenFor(workflowRunId: string): string;
  artifacts: StoredArtifact[];
  /** A read SAS URL for a finalized artifact's zip (what GitHub redirects a download to). */
  signedDownloadUrl(id: number): string | null;
  /** Makes the next CreateArtifact answer with this status and twirp error body. */
  failNextCreate(status: number, body: { code: string; msg: string }): void;
  download(name: string): Promise<Buffer>;
  close(): Promise<void>;
}

function b64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}

async function startAzurite(cwd: string): Promise<{ child: ChildProcess; endpoint: string }> {
  const main = path.resolve("node_modules/azurite/dist/src/blob/main.js");
  // Azurite needs Node >= 22: run it on the node@24 the tests run on.
  const child = spawn(
    process.execPath,
    [main, "--blobHost", "127.0.0.1", "--blobPort", "0", "--inMemoryPersistence", "--disableTelemetry"],
    { cwd, stdio: ["ignore", "pipe", "pipe"] },
  );
  const endpoint = await new Promise<string>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`azurite did not start: ${out}`)), 20_000);
    child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const m = /successfully listens on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`azurite exited (${code}): ${out}`));
    });
  });
  return { child, endpoint };
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}") as Record<string, unknown>;
}

export async function startResultsService(): Promise<ResultsService> {
  const dir = mkdtempSync(path.join(tmpdir(), "azurite-"));
  const azurite = await startAzurite(dir);
  const cred = new StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_KEY);
  const container: ContainerClient = new BlobServiceClient(
    `${azurite.endpoint}/${AZURITE_ACCOUNT}`,
    cred,
  ).getContainerClient("actions-results");
  await container.createIfNotExists();

  const artifacts: StoredArtifact[] = [];
  let nextId = 1000;
  let pendingFailure: { status: number; body: { code: string; msg: string } } | null = null;

  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const method = /ArtifactService\/(\w+)$/.exec(req.url ?? "")?.[1];
    if (req.method !== "POST" || !method) return send(res, 404, { code: "not_found", msg: "no such method" });
    if (!req.headers.authorization?.startsWith("Bearer "))
      return send(res, 401, { code: "unauthenticated", msg: "" });
    const body = await readJson(req);
    const name = String(body["name"] ?? "");
    if (method === "CreateArtifact") {
      if (pendingFailure) {
        const f = pendingFailure;
        pendingFailure = null;
        return send(res, f.status, f.body);
      }
      const runBackendId = String(body["workflow_run_backend_id"] ?? "");
      // Names are unique per workflow run (across its jobs and attempts), not across runs.
      if (artifacts.some((a) => a.name === name && a.runBackendId === runBackendId)) {
        return send(res, 409, {
          code: "already_exists",
          msg: "an artifact with this name already exists on the workflow run",
        });
      }
      const blobName = `${body["workflow_run_backend_id"]}/${body["workflow_job_run_backend_id"]}/${createHash("sha1").update(name).digest("hex")}.zip`;
      const now = new Date();
      const sas = generateBlobSASQueryParameters(
        {
          containerName: "actions-results",
          blobName,
          permissions: BlobSASPermissions.parse("cw"),
          startsOn: new Date(now.getTime() - 60_000),
          expiresOn: new Date(now.getTime() + 3_600_000),
        },
        cred,
      );
      const artifact: StoredArtifact = {
        id: nextId++,
        name,
        runBackendId,
        createdAt: null,
        blobName,
        size: 0,
        hash: "",
        expiresAt: typeof body["expires_at"] === "string" ? body["expires_at"] : null,
        finalized: false,
        sigs: [sas.signature],
      };
      artifacts.push(artifact);
      return send(res, 200, {
        ok: true,
        signed_upload_url: `${container.getBlockBlobClient(blobName).url}?${sas.toString()}`,
      });
    }
    if (method === "FinalizeArtifact") {
      const artifact = artifacts.find(
        (a) =>
          a.name === name && !a.finalized && a.runBackendId === String(body["workflow_run_backend_id"] ?? ""),
      );
      if (!artifact) return send(res, 404, { code: "not_found", msg: "artifact not found" });
      const bytes = await container.getBlockBlobClient(artifact.blobName).downloadToBuffer();
      const hash = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
      if (String(bytes.length) !== String(body["size"]) || hash !== body["hash"]) {
        return send(res, 400, { code: "invalid_argument", msg: "size or hash does not match the upload" });
      }
      artifact.size = bytes.length;
      artifact.hash = hash;
      artifact.finalized = true;
      artifact.createdAt = new Date().toISOString();
      return send(res, 200, { ok: true, artifact_id: String(artifact.id) });
    }
    if (method === "ListArtifacts") {
      const filter = (body["name_filter"] as string | undefined) ?? null;
      return send(res, 200, {
        artifacts: artifacts
          .filter((a) => a.finalized && (filter === null || a.name === filter))
          .map((a) => ({ database_id: String(a.id), name: a.name, size: String(a.size), digest: a.hash })),
      });
    }
    if (method === "DeleteArtifact") {
      const i = artifacts.findIndex((a) => a.name === name);
      if (i < 0) return send(res, 404, { code: "not_found", msg: "artifact not found" });
      const [gone] = artifacts.splice(i, 1);
      return send(res, 200, { ok: true, artifact_id: String(gone?.id) });
    }
    return send(res, 404, { code: "not_found", msg: `unknown method ${method}` });
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => send(res, 400, { code: "internal", msg: String(error) }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}/`,
    runtimeToken: `${b64url({ alg: "none", typ: "JWT" })}.${b64url({ scp: "Actions.Results:run-1:job-1" })}.x`,
    tokenFor: (workflowRunId) =>
      `${b64url({ alg: "none", typ: "JWT" })}.${b64url({ scp: `Actions.Results:run-${workflowRunId}:job-1` })}.x`,
    artifacts,
    signedDownloadUrl(id) {
      const artifact = artifacts.find((a) => a.id === id && a.finalized);
      if (!artifact) return null;
      const now = new Date();
      const sas = generateBlobSASQueryParameters(
        {
          containerName: "actions-results",
          blobName: artifact.blobName,
          permissions: BlobSASPermissions.parse("r"),
          startsOn: new Date(now.getTime() - 60_000),
          expiresOn: new Date(now.getTime() + 600_000),
        },
        cred,
      );
      artifact.sigs.push(sas.signature);
      return `${container.getBlockBlobClient(artifact.blobName).url}?${sas.toString()}`;
    },
    failNextCreate(status, body) {
      pendingFailure = { status, body };
    },
    async download(name) {
      const artifact = artifacts.find((a) => a.name === name && a.finalized);
      if (!artifact) throw new Error(`no finalized artifact named ${name}`);
      return container.getBlockBlobClient(artifact.blobName).downloadToBuffer();
    },
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      azurite.child.kill("SIGTERM");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
