// The REST connector against a real HTTP server on 127.0.0.1 (test/helpers/rest-api.ts): every
// paginator, every auth, every fault (asserted on the times the server recorded), exact values of every
// type, child records, tombstones, and incremental slices with ties across page edges.

import assert from "node:assert/strict";
import { readFile, rm } from "node:fs/promises";
import { after, before, describe, test } from "node:test";
import type { EndpointResource } from "../../../../runtime/declare/rest.ts";
import { Engine, queryRows } from "../../../../runtime/engine/engine.ts";
import { quoteLiteral } from "../../../../runtime/engine/sql.ts";
import { SourceError } from "../../../../runtime/errors.ts";
import { cursorSlice } from "../../../../runtime/sources/incremental.ts";
import { createRestConnector, type RestConnectorOptions } from "../../../../runtime/sources/rest/index.ts";
import type { CursorPosition, SourceColumn } from "../../../../runtime/sources/source.ts";
import { type ApiOptions, type ApiRecord, isoAt, startApi, type TestApi } from "../../../helpers/rest-api.ts";
import { tmpdir } from "node:os";

let engine: Engine;
before(async () => (engine = await Engine.create({ memoryLimit: "256MB", threads: 1 }, { directories: [tmpdir()] })));
after(async () => engine.close());

const simple = (n: number, step = 60): ApiRecord[] =>
  Array.from({ length: n }, (_, i) => ({ json: `{"id":${i + 1},"updated_at":"${isoAt(i, step)}","name":"n${i + 1}"}`, updatedAt: isoAt(i, step) }));

interface Read {
  rows: Record<string, string | null>[];
  chunks: { rows: number; lastCursor?: CursorPosition }[];
  types: Record<string, string>;
}

async function withApi<T>(options: ApiOptions, body: (api: TestApi) => Promise<T>): Promise<T> {
  const api = await startApi(options);
  try {
    return await body(api);
  } finally {
    await api.close();
  }
}

function connect(api: TestApi, extra: Partial<RestConnectorOptions> = {}) {
  return createRestConnector({ name: "api", baseUrl: `${api.url}/v1`, retry: { backoffMs: 20 }, ...extra });
}

/** Discover and read an endpoint; every value as DuckDB's text of it. */
async function readAll(api: TestApi, resource: EndpointResource, options: {
  connector?: Partial<RestConnectorOptions>; chunkRows?: number; cursor?: string[]; checkpoint?: CursorPosition; known?: SourceColumn[]; lookBackSeconds?: number;
} = {}): Promise<Read> {
  const connector = connect(api, options.connector);
  try {
    const schema = await connector.discover(resource, options.known);
    const slice = options.cursor ? cursorSlice(schema, { columns: options.cursor, lookBackSeconds: options.lookBackSeconds }, options.checkpoint) : undefined;
    const read: Read = { rows: [], chunks: [], types: {} };
    for await (const chunk of connector.read({ schema, slice, chunkRows: options.chunkRows ?? 1000, workDir: engine.workDir }, engine)) {
      read.chunks.push({ rows: chunk.rows, lastCursor: chunk.lastCursor });
      await engine.withConnection(async (con) => {
        const file = quoteLiteral(chunk.file);
        for (const r of await queryRows<{ column_name: string; column_type: string }>(con, `DESCRIBE SELECT * FROM read_parquet(${file})`)) read.types[r.column_name] = r.column_type;
        const cols = Object.keys(read.types).map((c) => `"${c}"::VARCHAR AS "${c}"`).join(", ");
        read.rows.push(...(await queryRows<Record<string, string | null>>(con, `SELECT ${cols} FROM read_parquet(${file})`)));
      });
    }
    return read;
  } finally {
    await connector.close();
  }
}

const endpoint = (extra: Partial<EndpointResource> = {}): EndpointResource => ({ kind: "endpoint", path: "/items", records: "data", ...extra });

describe("paginators", () => {
  const cases: [string, ApiOptions["paginate"], EndpointResource["paginate"], number][] = [
    ["page number", "page", { kind: "page", size: 10 }, 3],
    ["offset/limit", "offset", { kind: "offset", limit: 10 }, 3],
    ["cursor in the body", "cursor", { kind: "cursor", field: "meta.next_cursor", param: "after" }, 3],
    ["next link in the body", "nextLink", { kind: "nextLink", field: "links.next" }, 3],
    ["RFC 8288 Link header", "linkHeader", { kind: "linkHeader" }, 3],
  ];
  for (const [name, serverPaging, paginate, requests] of cases) {
    test(`${name}: every record once, in order`, () =>
      withApi({ records: () => simple(25), paginate: serverPaging, pageSize: 10 }, async (api) => {
        const read = await readAll(api, endpoint({ paginate, sample: 0, types: { id: "BIGINT", updated_at: "TIMESTAMPTZ", name: "VARCHAR" } }));
        assert.deepEqual(read.rows.map((r) => r.id), Array.from({ length: 25 }, (_, i) => String(i + 1)));
        assert.equal(api.requests.length, requests);
        assert.ok(api.requests.every((r) => r.url.pathname === "/v1/items"));
      }));
  }

  test("page number without a size: stops at the first empty page", () =>
    withApi({ records: () => simple(20), paginate: "page", pageSize: 10 }, async (api) => {
      const read = await readAll(api, endpoint({ paginate: { kind: "page" } }));
      assert.equal(read.rows.length, 20);
      assert.deepEqual(api.requests.map((r) => r.url.searchParams.get("page")), ["1", "2", "3", "1", "2", "3"], "discovery's sample, then the read");
    }));

  test("no paginator: the body is the array of records", () =>
    withApi({ records: () => simple(7), envelope: "bare" }, async (api) => {
      const read = await readAll(api, { kind: "endpoint", path: "items" });
      assert.equal(read.rows.length, 7);
    }));

  test("a paginator that leads back to a page already read is stopped", () =>
    withApi({ records: () => simple(5), paginate: "cursor", pageSize: 2 }, async (api) => {
      const looping = endpoint({ paginate: { kind: "cursor", field: "meta.next_cursor", param: "ignored" }, sample: 0, types: { id: "BIGINT" } });
      await assert.rejects(readAll(api, looping), (e: Error) => e instanceof SourceError && /leads back to a page already read/.test(e.message));
    }));
});

describe("types: exact values from JSON", () => {
  const big = "99999999999999999999999999999999999999";
  const records: ApiRecord[] = [
    { json: `{"id":9223372036854775807,"huge":${big},"beyond":1${"0".repeat(38)},"dec":"12345678901234567.12345678901234567891","num":0.1,"flag":true,"at":"2024-03-31T02:30:00.123456+02:00","local":"2024-03-31T02:30:00.5","day":"2024-02-29","text":"comma, \\"quote\\"\\nnew line ünï 😀","obj":{"n":12345678901234567890123,"s":"x"},"arr":[1,2.50,"3"],"nothing":null,"mixed":1}` },
    { json: `{"id":-9223372036854775808,"huge":-5,"beyond":2,"dec":1.5,"num":2,"flag":false,"at":"2024-01-01T00:00:00Z","local":"2024-01-01T00:00:00","day":"1999-12-31","text":"","obj":null,"arr":[],"nothing":null,"mixed":"one"}` },
  ];

  test("inferred and declared types hold every value exactly", () =>
    withApi({ records: () => records }, async (api) => {
      const read = await readAll(api, endpoint({ types: { dec: "DECIMAL(38,20)" } }));
      assert.deepEqual(read.types, {
        id: "BIGINT", huge: "DECIMAL(38,0)", beyond: "VARCHAR", dec: "DECIMAL(38,20)", num: "DOUBLE", flag: "BOOLEAN", at: "TIMESTAMP WITH TIME ZONE",
        local: "TIMESTAMP", day: "DATE", text: "VARCHAR", obj: "JSON", arr: "JSON", nothing: "VARCHAR", mixed: "VARCHAR",
      });
      const [a, b] = read.rows;
      assert.equal(a.id, "9223372036854775807");
      assert.equal(b.id, "-9223372036854775808");
      assert.equal(a.huge, big);
      assert.equal(a.beyond, `1${"0".repeat(38)}`);
      assert.equal(a.dec, "12345678901234567.12345678901234567891");
      assert.equal(b.dec, "1.50000000000000000000");
      assert.equal(a.num, "0.1");
      assert.equal(a.at, "2024-03-31 00:30:00.123456+00");
      assert.equal(a.local, "2024-03-31 02:30:00.5");
      assert.equal(a.day, "2024-02-29");
      assert.equal(a.text, 'comma, "quote"\nnew line ünï 😀');
      assert.equal(b.text, "", "an empty string is not NULL");
      assert.equal(a.obj, `{"n":12345678901234567890123,"s":"x"}`);
      assert.equal(b.obj, null);
      assert.equal(a.arr, `[1,2.50,"3"]`);
      assert.equal(a.nothing, null);
      assert.deepEqual([a.mixed, b.mixed], ["1", "one"]);
    }));

  test("a known column keeps its type while the sample fits it; an absent known column stays", () =>
    withApi({ records: () => [{ json: `{"id":1,"sparse":7}` }] }, async (api) => {
      const known: SourceColumn[] = [
        { name: "id", sourceType: "json bigint", duckType: "BIGINT", nullable: true },
        { name: "sparse", sourceType: "json varchar", duckType: "VARCHAR", nullable: true },
        { name: "gone", sourceType: "json double", duckType: "DOUBLE", nullable: true },
      ];
      const read = await readAll(api, endpoint(), { known });
      assert.deepEqual(read.types, { id: "BIGINT", sparse: "VARCHAR", gone: "DOUBLE" });
      assert.deepEqual(read.rows, [{ id: "1", sparse: "7", gone: null }]);
    }));

  test("a field that first appears after the sample stops the load, naming it and the fix", () =>
    withApi({ records: () => [...simple(3), { json: `{"id":4,"updated_at":"${isoAt(4)}","name":"x","discount":5}` }], paginate: "page", pageSize: 2 }, async (api) => {
      await assert.rejects(readAll(api, endpoint({ paginate: { kind: "page", size: 2 }, sample: 2 })),
        (e: Error) => e instanceof SourceError && /field "discount" is not in the schema.*declare its type under types/.test(e.message));
    }));

  test("a declared type no JSON value maps to is refused", () =>
    withApi({ records: () => simple(1) }, async (api) => {
      await assert.rejects(readAll(api, endpoint({ types: { id: "INTERVAL" } })), (e: Error) => e instanceof SourceError && /"id" is declared as INTERVAL/.test(e.message));
    }));
});

test("child records: each order's lines, with the order's id", () =>
  withApi({ records: () => [{ json: `{"id":1,"lines":[{"sku":"a","qty":1},{"sku":"b","qty":2}]}` }, { json: `{"id":2,"lines":[]}` }, { json: `{"id":3,"lines":[{"sku":"c","qty":3}]}` }] }, async (api) => {
    const read = await readAll(api, endpoint({ records: "data[].lines", parent: { order_id: "id" } }));
    assert.deepEqual(read.rows, [{ order_id: "1", sku: "a", qty: "1" }, { order_id: "1", sku: "b", qty: "2" }, { order_id: "3", sku: "c", qty: "3" }]);
  }));

test("tombstones: records marked deleted carry _mallard_deleted", () =>
  withApi({ records: () => [{ json: `{"id":1,"deleted":false}` }, { json: `{"id":2,"deleted":true}` }, { json: `{"id":3}` }] }, async (api) => {
    const read = await readAll(api, endpoint({ tombstone: { field: "deleted", equals: true } }));
    assert.deepEqual(read.rows.map((r) => [r.id, r._mallard_deleted]), [["1", "false"], ["2", "true"], ["3", "false"]]);
  }));

describe("auth", () => {
  test("API-key header", () =>
    withApi({ records: () => simple(3), auth: { kind: "apiKey", header: "X-Api-Key", key: "k-123" } }, async (api) => {
      const read = await readAll(api, endpoint(), { connector: { auth: { kind: "apiKey", header: "X-Api-Key", key: "k-123" } } });
      assert.equal(read.rows.length, 3);
    }));

  test("a refused bearer token fails with the status and never the token", () =>
    withApi({ records: () => simple(3), auth: { kind: "bearer", token: "right-token" } }, async (api) => {
      assert.equal((await readAll(api, endpoint(), { connector: { auth: { kind: "bearer", token: "right-token" } } })).rows.length, 3);
      await assert.rejects(readAll(api, endpoint(), { connector: { auth: { kind: "bearer", token: "wrong-token-secret" } } }), (e: Error) =>
        e instanceof SourceError && /401/.test(e.message) && !e.message.includes("wrong-token-secret"));
    }));

  const oauth = (api: TestApi, clientSecret = "s3cret") => ({ kind: "oauth2", tokenUrl: `${api.url}/token`, clientId: "cid", clientSecret } as const);
  const paged = endpoint({ paginate: { kind: "page", size: 2 }, sample: 0, types: { id: "BIGINT" } });

  test("OAuth2 client credentials: tokens renewed before they expire, so no request carries an expired one", () =>
    withApi({ records: () => simple(12), paginate: "page", pageSize: 2, auth: { kind: "oauth2", clientId: "cid", clientSecret: "s3cret", expiresIn: 1 } }, async (api) => {
      // One request per 300 ms: the read (7 pages) takes about 2 s, twice a token's life.
      const read = await readAll(api, paged, { connector: { auth: oauth(api), rateLimit: { limit: 1, intervalMs: 300 } } });
      assert.equal(read.rows.length, 12);
      assert.ok(api.tokenRequests.length >= 3, `tokens: ${api.tokenRequests.length}`);
      assert.deepEqual(api.requests.map((r) => r.status), [200, 200, 200, 200, 200, 200, 200]);
    }));

  test("OAuth2: a token the API refuses (401) is renewed once and the request repeated; wrong client credentials fail cleanly", () =>
    withApi({ records: () => simple(6), paginate: "page", pageSize: 2, auth: { kind: "oauth2", clientId: "cid", clientSecret: "s3cret", expiresIn: 3600 }, faults: new Map([[2, "401"]]) }, async (api) => {
      const read = await readAll(api, paged, { connector: { auth: oauth(api) } });
      assert.equal(read.rows.length, 6);
      assert.deepEqual(api.requests.map((r) => r.status), [200, 401, 200, 200, 200]);
      assert.equal(api.tokenRequests.length, 2);
      assert.deepEqual(api.requests.map((r) => r.headers.authorization), ["Bearer tok-1", "Bearer tok-1", "Bearer tok-2", "Bearer tok-2", "Bearer tok-2"]);
      await assert.rejects(readAll(api, paged, { connector: { auth: oauth(api, "wrong") } }), (e: Error) =>
        e instanceof SourceError && /OAuth token request .* failed: 401 invalid_client/.test(e.message) && !e.message.includes("wrong"));
    }));
});

describe("faults", () => {
  const gapAfter = (api: TestApi, status: number) => {
    const i = api.requests.findIndex((r) => r.status === status);
    return api.requests[i + 1].at - api.requests[i].at;
  };

  test("429 with Retry-After in seconds: the next request waits that long", () =>
    withApi({ records: () => simple(5), faults: new Map([[1, "429-seconds"]]) }, async (api) => {
      assert.equal((await readAll(api, endpoint())).rows.length, 5);
      assert.ok(gapAfter(api, 429) >= 990, `waited ${gapAfter(api, 429)} ms`);
    }));

  test("429 with Retry-After as an HTTP date: waits until then, read against the response's Date", () =>
    withApi({ records: () => simple(5), faults: new Map([[1, "429-date"]]), retryAfterSeconds: 2 }, async (api) => {
      assert.equal((await readAll(api, endpoint())).rows.length, 5);
      const gap = gapAfter(api, 429);
      assert.ok(gap >= 1990 && gap < 4000, `waited ${gap} ms`);
    }));

  test("500s are retried with backoff; a load whose retries run out names the status", () =>
    withApi({ records: () => simple(5), faults: new Map([[1, "500"], [2, "503"]]) }, async (api) => {
      assert.equal((await readAll(api, endpoint())).rows.length, 5);
      assert.deepEqual(api.requests.map((r) => r.status), [500, 503, 200, 200]);
    }));

  test("retries run out", () =>
    withApi({ records: () => simple(5), faults: new Map([[1, "500"], [2, "500"], [3, "500"]]) }, async (api) => {
      await assert.rejects(readAll(api, endpoint(), { connector: { retry: { attempts: 3, backoffMs: 10 } } }), (e: Error) =>
        e instanceof SourceError && /GET \/v1\/items: 500 Internal Server Error after 3 attempts/.test(e.message));
    }));

  test("a connection reset mid-body is resumed with a Range request", () =>
    withApi({ records: () => simple(200), faults: new Map([[2, "reset"]]), ranges: true }, async (api) => {
      const read = await readAll(api, endpoint());
      assert.equal(read.rows.length, 200);
      assert.equal(new Set(read.rows.map((r) => r.id)).size, 200);
      assert.deepEqual(api.requests.map((r) => r.status), [200, 200, 206]);
      assert.match(String(api.requests[2].headers.range), /^bytes=\d+-$/);
    }));

  test("a connection reset mid-body without range support: the page is fetched again", () =>
    withApi({ records: () => simple(200), faults: new Map([[2, "reset"]]) }, async (api) => {
      const read = await readAll(api, endpoint());
      assert.equal(new Set(read.rows.map((r) => r.id)).size, 200);
      assert.equal(read.rows.length, 200);
      assert.deepEqual(api.requests.map((r) => [r.status, r.headers.range]), [[200, undefined], [200, undefined], [200, undefined]]);
    }));

  test("the client-side rate limit holds for every window, on the server's clock", () =>
    withApi({ records: () => simple(24), paginate: "offset", pageSize: 2 }, async (api) => {
      await readAll(api, endpoint({ paginate: { kind: "offset", limit: 2 }, sample: 0, types: { id: "BIGINT" } }), { connector: { rateLimit: { limit: 3, intervalMs: 300 } } });
      const times = api.requests.map((r) => r.at);
      assert.equal(times.length, 13);
      // The limit spaces the requests' starts; the server stamps them when its handler runs. The first one's
      // arrival also waits for fetch to load and connect (up to 300 ms here), so windows start at the second;
      // scheduling on this busy machine delays a stamp by tens of ms at most. Without the limit four
      // requests arrive within ~15 ms, so 50 ms of slack still catches a broken limiter.
      for (let i = 1; i + 3 < times.length; i++) assert.ok(times[i + 3] - times[i] >= 250, `requests ${i}..${i + 3} within ${times[i + 3] - times[i]} ms`);
      // And the limit is what paces the load: 13 requests at 3 per 300 ms take at least 4 windows.
      assert.ok(times.at(-1)! - times[0] >= 1100, `13 requests in ${times.at(-1)! - times[0]} ms`);
    }));
});

describe("incremental", () => {
  // 30 records over 5 timestamps (6 per timestamp), pages of 4: ties cross every page edge.
  const tied = (): ApiRecord[] =>
    Array.from({ length: 30 }, (_, i) => ({ json: `{"id":${i + 1},"updated_at":"${isoAt(Math.floor(i / 6))}"}`, updatedAt: isoAt(Math.floor(i / 6)) }));
  const incremental = endpoint({ paginate: { kind: "page", size: 4 }, since: { param: "updated_since" }, ordered: true });

  test("a checkpoint inside a run of equal timestamps: the parameter asks from that time, exactly the later rows are kept", () =>
    withApi({ records: tied, paginate: "page", pageSize: 4 }, async (api) => {
      const checkpoint = { columns: ["updated_at", "id"], values: [isoAt(2), "15"] };
      const read = await readAll(api, incremental, { cursor: ["updated_at", "id"], checkpoint, chunkRows: 4 });
      assert.deepEqual(read.rows.map((r) => Number(r.id)), Array.from({ length: 15 }, (_, i) => i + 16));
      const sent = api.requests.at(-1)!.url.searchParams.get("updated_since");
      assert.equal(sent, isoAt(2));
      // Ordered: every chunk ends at its last record, so a killed load resumes exactly there.
      assert.deepEqual(read.chunks.map((c) => c.lastCursor?.values[1]), ["19", "23", "27", "30"]);
    }));

  test("not declared ordered: only the last chunk carries the checkpoint, the greatest cursor read", () =>
    withApi({ records: () => tied().reverse(), paginate: "page", pageSize: 4 }, async (api) => {
      const read = await readAll(api, { ...incremental, ordered: false }, { cursor: ["updated_at", "id"], chunkRows: 7 });
      assert.equal(read.rows.length, 30);
      assert.deepEqual(read.chunks.map((c) => c.lastCursor?.values), [undefined, undefined, undefined, undefined, [isoAt(4), "30"]]);
    }));

  test("declared ordered but not in order: the load stops instead of checkpointing past unread rows", () =>
    withApi({ records: () => tied().reverse(), paginate: "page", pageSize: 4 }, async (api) => {
      await assert.rejects(readAll(api, incremental, { cursor: ["updated_at", "id"] }), (e: Error) => e instanceof SourceError && /not in cursor order/.test(e.message));
    }));

  test("look-back: the parameter moves back, in the declared format", () =>
    withApi({ records: tied, paginate: "page", pageSize: 4 }, async (api) => {
      const unix = { ...incremental, since: { param: "updated_since", format: "unixSeconds" as const } };
      const checkpoint = { columns: ["updated_at", "id"], values: [isoAt(3), "24"] };
      await readAll(api, unix, { cursor: ["updated_at", "id"], checkpoint, lookBackSeconds: 90 }).catch(() => undefined);
      const sent = api.requests.at(-1)!.url.searchParams.get("updated_since");
      assert.equal(sent, String(Date.parse(isoAt(3)) / 1000 - 90));
    }));
});

test("the connector's chunk files are bounded by chunkRows and removed as the read moves on", () =>
  withApi({ records: () => simple(50), paginate: "page", pageSize: 10 }, async (api) => {
    const connector = connect(api);
    const schema = await connector.discover(endpoint({ paginate: { kind: "page", size: 10 } }));
    const seen: string[] = [];
    for await (const chunk of connector.read({ schema, chunkRows: 8, workDir: engine.workDir }, engine)) {
      assert.ok(chunk.rows <= 8);
      assert.ok((await readFile(chunk.file)).length > 0);
      seen.push(chunk.file);
    }
    await connector.close();
    for (const file of seen) await assert.rejects(readFile(file), /ENOENT/);
    assert.equal(seen.length, 7);
  }));
