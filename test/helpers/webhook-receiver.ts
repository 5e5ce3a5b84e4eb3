// A webhook receiver on 127.0.0.1 (port 0) that a test starts: it records every POST (time, headers,
// parsed JSON body) and answers from a script, one answer per request, the last repeated (e.g. fail
// twice, then 200). What a Teams Workflows or Slack endpoint does, as far as a sender can tell.
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";

export interface Answer {
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly body?: string;
}

export interface Received {
  readonly at: number;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Record<string, unknown>;
}

export interface Receiver {
  /** Base URL; the test appends a secret path, as real webhook URLs carry their key. */
  readonly url: string;
  readonly received: Received[];
  close(): Promise<void>;
}

export async function startReceiver(script: readonly Answer[]): Promise<Receiver> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>;
      } catch {
        body = { unparsable: Buffer.concat(chunks).toString("utf8") };
      }
      received.push({ at: Date.now(), path: req.url ?? "", headers: req.headers, body });
      const answer = script[Math.min(received.length - 1, script.length - 1)];
      res.writeHead(answer.status, { "content-type": "text/plain", ...answer.headers });
      res.end(answer.body ?? (answer.status < 300 ? "ok" : "error"));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
