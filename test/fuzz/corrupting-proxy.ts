/**
 * A loopback proxy in front of the emulator's API that damages its answers the way a broken gateway,
 * a schema change or a hostile middlebox would: wrong types, missing fields, cut or non-JSON bodies,
 * 10 MB bodies. The emulator itself always answers well-formed, so this is the one piece mocked.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export type Corruption =
  | "wrongTypes"
  | "missingFields"
  | "cutJson"
  | "html200"
  | "emptyBody"
  | "nullBody"
  | "hugeError500"
  | "hugeError400"
  | "hugeOk";

export const CORRUPTIONS: readonly Corruption[] = [
  "wrongTypes",
  "missingFields",
  "cutJson",
  "html200",
  "emptyBody",
  "nullBody",
  "hugeError500",
  "hugeError400",
  "hugeOk",
];

const TEN_MB = 10 * 1024 * 1024;
const WRONG: Record<string, unknown> = {
  id: 12345,
  status: 42,
  machineId: null,
  commands: "none",
  commandStatus: {},
  index: "0",
  errors: "boom",
  value: { not: "a list" },
  type: [],
  computerDnsName: 7,
  requestorComment: ["x"],
  creationDateTimeUtc: "yesterday",
  "@odata.nextLink": 5,
};

function mutate(value: unknown, fn: (obj: Record<string, unknown>) => void): unknown {
  if (Array.isArray(value)) return value.map((v) => mutate(v, fn));
  if (value && typeof value === "object") {
    const obj = { ...(value as Record<string, unknown>) };
    for (const [k, v] of Object.entries(obj)) obj[k] = mutate(v, fn);
    fn(obj);
    return obj;
  }
  return value;
}

function corrupt(
  mode: Corruption,
  status: number,
  body: Buffer,
): { status: number; type: string; body: Buffer } {
  const json = "application/json; odata.metadata=minimal; charset=utf-8";
  switch (mode) {
    case "wrongTypes":
    case "missingFields": {
      let parsed: unknown;
      try {
        parsed = JSON.parse(body.toString("utf8"));
      } catch {
        return { status, type: json, body };
      }
      const changed = mutate(parsed, (obj) => {
        for (const key of Object.keys(WRONG)) {
          if (!(key in obj)) continue;
          if (mode === "wrongTypes") obj[key] = WRONG[key];
          else delete obj[key];
        }
      });
      return { status, type: json, body: Buffer.from(JSON.stringify(changed)) };
    }
    case "cutJson":
      return { status, type: json, body: body.subarray(0, Math.max(1, Math.floor(body.length / 2))) };
    case "html200":
      return {
        status: 200,
        type: "text/html",
        body: Buffer.from("<html><body>Service Unavailable</body></html>"),
      };
    case "emptyBody":
      return { status, type: json, body: Buffer.alloc(0) };
    case "nullBody":
      return { status, type: json, body: Buffer.from("null") };
    case "hugeError500":
    case "hugeError400": {
      const message = "E".repeat(TEN_MB);
      const text = JSON.stringify({ error: { code: "InternalServerError", message, target: "x" } });
      return { status: mode === "hugeError500" ? 500 : 400, type: json, body: Buffer.from(text) };
    }
    case "hugeOk": {
      const filler = "F".repeat(1024);
      const value = Array.from({ length: TEN_MB / 1100 }, (_, i) => ({ id: `junk-${i}`, filler }));
      return {
        status: 200,
        type: json,
        body: Buffer.from(JSON.stringify({ value, id: "x", status: "Pending" })),
      };
    }
  }
}

export interface CorruptingProxy {
  url: string;
  /** Which corruption applies now; null passes answers through untouched. */
  mode: Corruption | null;
  /** Requests whose answer was damaged. */
  damaged: number;
  close(): Promise<void>;
}

export async function startCorruptingProxy(target: string): Promise<CorruptingProxy> {
  const proxy: CorruptingProxy = { url: "", mode: null, damaged: 0, close: async () => {} };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      try {
        const headers = new Headers();
        for (const [k, v] of Object.entries(req.headers)) {
          if (typeof v === "string" && !["host", "connection", "content-length"].includes(k))
            headers.set(k, v);
        }
        const upstream = await fetch(`${target}${req.url ?? "/"}`, {
          method: req.method ?? "GET",
          headers,
          ...(chunks.length > 0 ? { body: Buffer.concat(chunks) } : {}),
        });
        const body = Buffer.from(await upstream.arrayBuffer());
        const mode = proxy.mode;
        const out = mode
          ? corrupt(mode, upstream.status, body)
          : {
              status: upstream.status,
              type: upstream.headers.get("content-type") ?? "application/json",
              body,
            };
        if (mode) proxy.damaged++;
        const extra: Record<string, string> = {};
        const retryAfter = upstream.headers.get("retry-after");
        if (retryAfter) extra["retry-after"] = retryAfter;
        res.writeHead(out.status, { "content-type": out.type, "content-length": out.body.length, ...extra });
        res.end(out.body);
      } catch {
        res.destroy();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return proxy;
}
