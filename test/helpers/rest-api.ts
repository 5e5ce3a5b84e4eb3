// A real HTTP API on 127.0.0.1 (node:http) for REST source tests: it serves records (raw JSON text, so
// big numbers stay as written) through any of the five paginators, filters by an `updated_since`
// parameter, checks an API key, a bearer token or OAuth2 client-credentials tokens (with expiry), and
// injects faults on chosen requests: 429 with Retry-After in seconds or as an HTTP date, 500, or a
// connection reset halfway through the body (resumable with Range when `ranges` is on). Every request
// is recorded with the time the server received it.

import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface ApiRecord {
  /** The record as JSON text. */
  readonly json: string;
  /** Compared with `updated_since` (same ISO form, so as text). */
  readonly updatedAt?: string;
}

export type Fault = "429-seconds" | "429-date" | "500" | "503" | "reset" | "401";

export interface ApiOptions {
  /** The records served, in order; read on every request so a test can change them between loads. */
  records: () => readonly ApiRecord[];
  paginate?: "page" | "offset" | "cursor" | "nextLink" | "linkHeader";
  pageSize?: number;
  /** Where the page's records go: `{"data": [...]}` by default; "bare": the body is the array. */
  envelope?: "data" | "bare";
  auth?: { kind: "apiKey"; header: string; key: string } | { kind: "bearer"; token: string } | { kind: "oauth2"; clientId: string; clientSecret: string; expiresIn: number };
  /** Faults by the API request's number (1-based; token requests are not counted). */
  faults?: ReadonlyMap<number, Fault>;
  /** Answer Range requests for a body cut off by a "reset". */
  ranges?: boolean;
  /** Retry-After value for 429 faults, in seconds. @default 1 */
  retryAfterSeconds?: number;
  /** Awaited before an API request is answered: a slow API, or one that waits for something else to happen. */
  hold?: (url: URL) => Promise<void>;
}

export interface RecordedRequest {
  readonly at: number;
  readonly url: URL;
  readonly headers: IncomingMessage["headers"];
  readonly status: number;
}

export interface TestApi {
  readonly url: string;
  readonly requests: RecordedRequest[];
  readonly tokenRequests: { at: number; token: string }[];
  /** Revoke every token issued so far (the next API request with one gets 401). */
  revokeTokens(): void;
  close(): Promise<void>;
}

export async function startApi(options: ApiOptions): Promise<TestApi> {
  const requests: RecordedRequest[] = [];
  const tokenRequests: { at: number; token: string }[] = [];
  const tokens = new Map<string, number>();
  let apiCount = 0;
  let base = "";

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? "/", base);
    if (!options.hold || url.pathname === "/token") return serve(req, res);
    options.hold(url).then(() => serve(req, res), (error: Error) => res.writeHead(500).end(error.message));
  };

  const serve = (req: IncomingMessage, res: ServerResponse): void => {
    const at = Date.now();
    const url = new URL(req.url ?? "/", base);
    if (url.pathname === "/token") return token(req, res, at);
    const number = ++apiCount;
    const record = (status: number) => requests.push({ at, url, headers: req.headers, status });
    if (!authorized(req)) {
      record(401);
      res.writeHead(401, { "content-type": "application/json" }).end(`{"error":"unauthorized"}`);
      return;
    }
    const fault = options.faults?.get(number);
    if (fault === "429-seconds" || fault === "429-date") {
      record(429);
      const seconds = options.retryAfterSeconds ?? 1;
      const now = new Date();
      const retryAfter = fault === "429-seconds" ? String(seconds) : new Date(now.getTime() + seconds * 1000).toUTCString();
      res.writeHead(429, { "retry-after": retryAfter, date: now.toUTCString() }).end("slow down");
      return;
    }
    if (fault === "500" || fault === "503" || fault === "401") {
      record(Number(fault));
      res.writeHead(Number(fault)).end("failure");
      return;
    }
    const page = pageOf(url);
    const body = Buffer.from(page.body, "utf8");
    const etag = `"${createHash("sha1").update(body).digest("hex")}"`;
    const headers: Record<string, string | number> = { "content-type": "application/json", ...page.headers };
    if (options.ranges) Object.assign(headers, { "accept-ranges": "bytes", etag });
    const range = /^bytes=(\d+)-$/.exec(String(req.headers.range ?? ""));
    if (options.ranges && range && req.headers["if-range"] === etag) {
      const from = Number(range[1]);
      record(206);
      res.writeHead(206, { ...headers, "content-range": `bytes ${from}-${body.length - 1}/${body.length}`, "content-length": body.length - from }).end(body.subarray(from));
      return;
    }
    record(200);
    res.writeHead(200, { ...headers, "content-length": body.length });
    if (fault === "reset") {
      res.write(body.subarray(0, Math.floor(body.length / 2)), () => setTimeout(() => res.socket?.destroy(), 20));
      return;
    }
    res.end(body);
  };

  const authorized = (req: IncomingMessage): boolean => {
    const auth = options.auth;
    if (!auth) return true;
    if (auth.kind === "apiKey") return req.headers[auth.header.toLowerCase()] === auth.key;
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1];
    if (auth.kind === "bearer") return bearer === auth.token;
    const expires = bearer === undefined ? undefined : tokens.get(bearer);
    return expires !== undefined && Date.now() < expires;
  };

  const token = (req: IncomingMessage, res: ServerResponse, at: number): void => {
    const auth = options.auth;
    const basic = Buffer.from((req.headers.authorization ?? "").replace(/^Basic /, ""), "base64").toString();
    if (auth?.kind !== "oauth2" || basic !== `${encodeURIComponent(auth.clientId)}:${encodeURIComponent(auth.clientSecret)}`) {
      res.writeHead(401, { "content-type": "application/json" }).end(`{"error":"invalid_client"}`);
      return;
    }
    req.resume();
    const value = `tok-${tokenRequests.length + 1}`;
    tokens.set(value, at + auth.expiresIn * 1000);
    tokenRequests.push({ at, token: value });
    res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" })
      .end(JSON.stringify({ access_token: value, token_type: "Bearer", expires_in: auth.expiresIn }));
  };

  const pageOf = (url: URL): { body: string; headers: Record<string, string> } => {
    const since = url.searchParams.get("updated_since");
    const all = options.records().filter((r) => since === null || (r.updatedAt !== undefined && r.updatedAt >= since));
    const size = options.pageSize ?? 10;
    let start = 0;
    switch (options.paginate) {
      case "page": start = (Number(url.searchParams.get("page") ?? 1) - 1) * size; break;
      case "offset": start = Number(url.searchParams.get("offset") ?? 0); break;
      case "cursor": case "nextLink": case "linkHeader": start = Number(url.searchParams.get("after") ?? 0); break;
      default: start = 0;
    }
    const count = options.paginate ? Number(url.searchParams.get("limit") ?? size) : all.length;
    const slice = all.slice(start, start + count);
    const end = start + slice.length;
    const more = end < all.length;
    const next = new URL(url);
    next.searchParams.set("after", String(end));
    const items = `[${slice.map((r) => r.json).join(",")}]`;
    const headers: Record<string, string> = {};
    if (options.paginate === "linkHeader" && more) headers.link = `<${next.pathname}${next.search}>; rel="next", <${url.pathname}?after=0>; rel="first"`;
    const meta = options.paginate === "cursor" ? `,"meta":{"next_cursor":${more ? JSON.stringify(String(end)) : "null"}}`
      : options.paginate === "nextLink" ? `,"links":{"next":${more ? JSON.stringify(next.href) : "null"}}`
      : "";
    return { body: options.envelope === "bare" ? items : `{"data":${items}${meta}}`, headers };
  };

  const server: Server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: base,
    requests,
    tokenRequests,
    revokeTokens: () => tokens.clear(),
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** `count` records `{ id, updated_at, … }` with ISO timestamps `step` seconds apart (ties when step is 0). */
export function isoAt(i: number, stepSeconds = 60): string {
  return new Date(Date.UTC(2024, 0, 1) + i * stepSeconds * 1000).toISOString();
}
