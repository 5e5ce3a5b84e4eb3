// A stand-in for the one Azure Resource Manager endpoint the program calls itself (is a soft-deleted vault
// holding the name?), served over real HTTP on a local port, since no Azure control plane runs here.
// It answers as Azure does: 404 when no deleted vault has the name, 200 with the vault when one does.

import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";

export type DeletedVaultAnswer = "none" | "forbidden" | { deletionDate: string; scheduledPurgeDate: string };

export interface ResourceManagerCall {
  path: string;
  authorization?: string;
}

export async function withResourceManager<T>(answer: DeletedVaultAnswer, fn: (url: string, calls: ResourceManagerCall[]) => Promise<T>): Promise<T> {
  const calls: ResourceManagerCall[] = [];
  const server = createServer((request: IncomingMessage, response) => {
    calls.push({ path: request.url ?? "", authorization: request.headers.authorization });
    const match = /^\/subscriptions\/[^/]+\/providers\/Microsoft\.KeyVault\/locations\/([^/]+)\/deletedVaults\/([^/?]+)\?api-version=/.exec(request.url ?? "");
    const json = (status: number, body: unknown) => response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    if (!match) return json(400, { error: { code: "InvalidRequest", message: `unexpected ${request.url}` } });
    if (answer === "forbidden") return json(403, { error: { code: "AuthorizationFailed", message: "no deletedVaults/read" } });
    if (answer === "none") return json(404, { error: { code: "DeletedVaultNotFound", message: `deleted vault ${match[2]} not found` } });
    return json(200, { name: match[2], properties: { location: match[1], ...answer, purgeProtectionEnabled: true } });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    return await fn(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, calls);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}
