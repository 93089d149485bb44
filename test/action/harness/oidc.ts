/**
 * A fake of the runner's ID-token endpoint (ACTIONS_ID_TOKEN_REQUEST_URL / _TOKEN), which
 * `core.getIDToken` calls: GET <url>&audience=<aud> with `Authorization: bearer <request token>` → {value}.
 * The token itself is minted by the caller (the MDE emulator's GitHub-style issuer).
 */
import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

export interface FakeIdTokenEndpoint {
  /** ACTIONS_ID_TOKEN_REQUEST_URL (already carries a query string, as the runner's does). */
  requestUrl: string;
  /** ACTIONS_ID_TOKEN_REQUEST_TOKEN. */
  requestToken: string;
  /** Every token handed out, and the audience asked for. */
  issued: { audience: string; token: string }[];
  close(): Promise<void>;
}

export async function startIdTokenEndpoint(mint: (audience: string) => string): Promise<FakeIdTokenEndpoint> {
  const requestToken = randomBytes(24).toString("hex");
  const issued: { audience: string; token: string }[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    if (req.headers.authorization?.toLowerCase() !== `bearer ${requestToken}`) {
      res.writeHead(401).end();
      return;
    }
    const audience = url.searchParams.get("audience") ?? "";
    const token = mint(audience);
    issued.push({ audience, token });
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ count: 1, value: token }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    requestUrl: `http://127.0.0.1:${port}/_apis/distributedtask/hubs/build/plans/p/jobs/j/idtoken?api-version=2.0`,
    requestToken,
    issued,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
