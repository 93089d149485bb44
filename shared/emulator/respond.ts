/** Response helpers shaped like the real service (mde-api.md §3, §3.1). */
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";

const JSON_TYPE = "application/json; odata.metadata=minimal; odata.streaming=true; charset=utf-8";

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  extraHeaders: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "Content-Type": JSON_TYPE,
    "OData-Version": "4.0",
    "Content-Length": Buffer.byteLength(text),
    "request-id": randomUUID(),
    ...extraHeaders,
  });
  res.end(text);
}

/** `{"error":{"code","message","target"}}` with a fresh correlation GUID (§7.3). */
export function sendError(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  extraHeaders: Record<string, string> = {},
): void {
  sendJson(res, status, { error: { code, message, target: randomUUID() } }, extraHeaders);
}

export function sendNoContent(res: ServerResponse): void {
  res.writeHead(204, { "OData-Version": "4.0", "request-id": randomUUID() });
  res.end();
}

/** Reads the request body, refusing (undefined) past `maxBytes` without buffering the excess. */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) over = true;
      if (!over) chunks.push(chunk);
    });
    req.on("end", () => resolve(over ? undefined : Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/** The scheme+host the client called, for `@odata.context` (any Host header is accepted, §7.1). */
export function calledOrigin(req: IncomingMessage): string {
  const host = req.headers.host ?? "api.securitycenter.microsoft.com";
  const local = /^(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/i.test(host);
  return `${local ? "http" : "https"}://${host}`;
}
