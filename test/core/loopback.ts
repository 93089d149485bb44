/** Scripted HTTP servers on loopback (blob storage, proxies) for the download tests. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach } from "vitest";

export type Listen = (
  handler: (req: IncomingMessage, res: ServerResponse) => void,
) => Promise<{ url: string; server: Server }>;

/**
 * Call at a test file's top level: the returned `listen` starts a server on a free loopback port, and
 * every server started in a test is closed (keep-alive sockets included) after that test.
 */
export function loopbackServers(): Listen {
  const servers: Server[] = [];
  afterEach(async () => {
    await Promise.all(
      servers.splice(0).map(
        (s) =>
          new Promise<void>((r) => {
            s.close(() => r());
            s.closeAllConnections();
          }),
      ),
    );
  });
  return async (handler) => {
    const server = createServer(handler);
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
  };
}
