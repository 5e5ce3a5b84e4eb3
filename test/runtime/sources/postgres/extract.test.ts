// Extraction behaviour: odd identifiers everywhere, composite cursors with many rows sharing a timestamp
// split across chunks (resumed chunk by chunk: nothing skipped, nothing doubled), look-back, NULL
// cursors, ranges and bounds, both staging modes, early stops, and errors that name what is wrong
// without leaking credentials. Runs on the real server and on embedded PGlite.

import assert from "node:assert/strict";
import { type AddressInfo, createServer, type Socket } from "node:net";
import { after, before, describe, test } from "node:test";
import { quoteIdent, quoteQualified } from "../../../../runtime/engine/sql.ts";
import { SourceError } from "../../../../runtime/errors.ts";
import { createPostgresConnector } from "../../../../runtime/sources/postgres/index.ts";
import type { CursorPosition, ResourceSchema } from "../../../../runtime/sources/source.ts";
import { testPostgresKinds } from "../../../helpers/pg.ts";
import { duck, extractAll, type Fixture, leftovers, openFixture } from "./fixture.ts";

const kinds = await testPostgresKinds();

for (const kind of kinds) {
  describe(`PostgreSQL extraction (${kind})`, () => {
    let f: Fixture;
    let schema: string;
    let events: ResourceSchema;

    before(async () => {
      f = await openFixture(kind);
      schema = await f.db.scratchSchema(f.client, "extract");
      // 1,000 rows over only 7 distinct microsecond timestamps, ids shuffled against time.
      await f.client.query(`CREATE TABLE ${quoteIdent(schema)}.events (id integer PRIMARY KEY, updated_at timestamptz, note text)`);
      await f.client.query(
        `INSERT INTO ${quoteIdent(schema)}.events
         SELECT g, timestamptz '2024-03-01 10:00:00.000001+00' + ((g * 37) % 7) * interval '1 microsecond', 'row ' || g
         FROM generate_series(1, 1000) g`,
      );
      events = await f.connector.discover({ kind: "table", table: `${schema}.events` });
    });
    after(() => f.close());

    async function ids(relation: string): Promise<number[]> {
      const rows = await duck<{ id: number }>(f, `SELECT id FROM ${relation} ORDER BY id`);
      return rows.map((r) => r.id);
    }

    test("a full load (no cursor) reads every row in chunks of chunkRows", async () => {
      const out = await extractAll(f, { schema: events, chunkRows: 300 });
      assert.deepEqual(out.chunks.map((c) => c.rows), [300, 300, 300, 100]);
      assert.ok(out.chunks.every((c) => c.lastCursor === undefined && c.bytes > 0));
      assert.deepEqual(await ids(out.relation), Array.from({ length: 1000 }, (_, i) => i + 1));
      assert.deepEqual(await leftovers(f), []);
    });

    test("composite cursor: resuming after every chunk skips nothing and doubles nothing", async () => {
      const cursor = ["updated_at", "id"];
      const seen: number[] = [];
      let after: CursorPosition | undefined;
      for (let load = 0; load < 100; load++) {
        // One chunk per "run", as if the process died after committing each chunk.
        const out = await extractAll(f, { schema: events, chunkRows: 64, cursor: { columns: cursor, after } }, { stopAfter: 1 });
        if (out.chunks.length === 0) break;
        const rows = await duck<{ id: number; ts: string }>(f, `SELECT id, updated_at::VARCHAR AS ts FROM ${out.relation}`);
        seen.push(...rows.map((r) => r.id));
        const last = out.chunks[0].lastCursor!;
        assert.deepEqual(last.columns, cursor);
        // The checkpoint is PostgreSQL's exact text of the last row (microseconds, UTC offset).
        assert.match(last.values[0]!, /^2024-03-01 10:00:00\.00000\d\+00$/);
        assert.equal(`${rows.at(-1)!.id}`, last.values[1]);
        after = last;
      }
      assert.equal(seen.length, 1000, "no row doubled");
      assert.deepEqual([...seen].sort((a, b) => a - b), Array.from({ length: 1000 }, (_, i) => i + 1), "no row skipped");
      assert.deepEqual(await leftovers(f), [], "an early stop leaves no chunk files");
    });

    test("rows arrive in cursor order and each chunk's lastCursor is its last row", async () => {
      const out = await extractAll(f, { schema: events, chunkRows: 128, cursor: { columns: ["updated_at", "id"] } });
      const rows = await duck<{ id: number; ts: string }>(f, `SELECT id, updated_at::VARCHAR AS ts FROM ${out.relation}`);
      const sorted = [...rows].sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : a.id - b.id));
      assert.deepEqual(rows, sorted);
      let end = 0;
      for (const chunk of out.chunks) {
        end += chunk.rows;
        assert.deepEqual(chunk.lastCursor?.values, [rows[end - 1].ts, String(rows[end - 1].id)]);
      }
    });

    test("incremental: updates, inserts at the checkpoint's timestamp, late rows and look-back", async () => {
      await f.client.query(`CREATE TABLE ${quoteIdent(schema)}.orders (id integer PRIMARY KEY, updated_at timestamptz NOT NULL)`);
      await f.client.query(`INSERT INTO ${quoteIdent(schema)}.orders SELECT g, timestamptz '2024-01-01 00:00:00+00' + g * interval '1 second' FROM generate_series(1, 100) g`);
      const orders = await f.connector.discover({ kind: "table", table: `${schema}.orders` });
      const cursor = { columns: ["updated_at", "id"] };
      const first = await extractAll(f, { schema: orders, chunkRows: 1000, cursor });
      const checkpoint = first.chunks.at(-1)!.lastCursor!;
      assert.deepEqual(checkpoint.values, ["2024-01-01 00:01:40+00", "100"]);

      await f.client.query(`UPDATE ${quoteIdent(schema)}.orders SET updated_at = '2024-01-01 00:05:00+00' WHERE id IN (3, 4)`);
      await f.client.query(`INSERT INTO ${quoteIdent(schema)}.orders VALUES (101, '2024-01-01 00:01:40+00'), (50000, '2024-01-01 00:01:40.000001+00'), (102, '2024-01-01 00:01:30+00')`);
      const second = await extractAll(f, { schema: orders, chunkRows: 1000, cursor: { ...cursor, after: checkpoint } });
      // 101 shares the checkpoint's timestamp with a higher id; 102 is late (10 s before the checkpoint).
      assert.deepEqual(await ids(second.relation), [3, 4, 101, 50000]);
      assert.deepEqual(second.chunks.at(-1)!.lastCursor!.values, ["2024-01-01 00:05:00+00", "4"]);

      const lookBack = await extractAll(f, { schema: orders, chunkRows: 1000, cursor: { ...cursor, after: checkpoint, lookBackSeconds: 15 } });
      assert.deepEqual(await ids(lookBack.relation), [3, 4, 86, 87, 88, 89, 90, 91, 92, 93, 94, 95, 96, 97, 98, 99, 100, 101, 102, 50000]);
    });

    test("rows with a NULL cursor value are loaded by full loads only", async () => {
      await f.client.query(`CREATE TABLE ${quoteIdent(schema)}.nullable (id integer, updated_at timestamptz)`);
      await f.client.query(`INSERT INTO ${quoteIdent(schema)}.nullable VALUES (1, '2024-01-01'), (2, NULL), (NULL, '2024-01-02')`);
      const t = await f.connector.discover({ kind: "table", table: `${schema}.nullable` });
      const incremental = await extractAll(f, { schema: t, chunkRows: 10, cursor: { columns: ["updated_at", "id"] } });
      assert.deepEqual(await ids(incremental.relation), [1]);
      const full = await extractAll(f, { schema: t, chunkRows: 10 });
      assert.equal((await ids(full.relation)).length, 3);
    });

    test("range restriction and bounds for partitions", async () => {
      assert.deepEqual(await f.connector.bounds(events, "id"), { min: "1", max: "1000" });
      assert.deepEqual(await f.connector.bounds(events, "updated_at"), { min: "2024-03-01 10:00:00.000001+00", max: "2024-03-01 10:00:00.000007+00" });
      const part = await extractAll(f, { schema: events, chunkRows: 1000, range: { column: "id", from: "100", to: "200" } });
      assert.deepEqual(await ids(part.relation), Array.from({ length: 100 }, (_, i) => i + 100));
      const open = await extractAll(f, { schema: events, chunkRows: 1000, range: { column: "id", from: "990" } });
      assert.equal((await ids(open.relation)).length, 11);
    });

    test("identifiers with spaces, quotes, capitals, commas, dots and Unicode work everywhere", async () => {
      const weirdSchema = `${schema} "Odd" Schema.ü`;
      const weirdTable = `Order "Lines", 2024`;
      const q = quoteQualified([weirdSchema, weirdTable]);
      await f.client.query(`CREATE SCHEMA ${quoteIdent(weirdSchema)}`);
      try {
        await f.client.query(
          `CREATE TABLE ${q} ("Id" integer, "first name" text, "quote""d" text, "ünï 列" text, "select" text, "a,b" text, "dot.ted" text, "Updated At" timestamptz)`,
        );
        await f.client.query(`INSERT INTO ${q} SELECT g, 'n' || g, 'q' || g, 'ü' || g, 's', 'c', 'd', timestamptz '2024-01-01' + g * interval '1 minute' FROM generate_series(1, 50) g`);
        const described = await f.connector.discover({ kind: "table", table: q });
        assert.deepEqual(described.address, [weirdSchema, weirdTable]);
        const names = ["Id", "first name", 'quote"d', "ünï 列", "select", "a,b", "dot.ted", "Updated At"];
        assert.deepEqual(described.columns.map((c) => c.name), names);
        const out = await extractAll(f, {
          schema: described,
          chunkRows: 20,
          cursor: { columns: ["Updated At", "Id"], after: { columns: ["Updated At", "Id"], values: ["2024-01-01 00:05:00+00", "5"] } },
          range: { column: "Id", from: "1", to: "41" },
        });
        const cols = await duck<{ column_name: string }>(f, `DESCRIBE SELECT * FROM ${out.relation}`);
        assert.deepEqual(cols.map((c) => c.column_name), names);
        const rows = await duck<Record<string, unknown>>(f, `SELECT * FROM ${out.relation} ORDER BY "Id"`);
        assert.equal(rows.length, 35);
        assert.deepEqual(Object.values(rows[0]).slice(0, 4), [6, "n6", "q6", "ü6"]);
        assert.deepEqual(out.chunks.at(-1)!.lastCursor!.values, ["2024-01-01 00:40:00+00", "40"]);
        assert.deepEqual(await f.connector.bounds(described, "Updated At"), { min: "2024-01-01 00:01:00+00", max: "2024-01-01 00:50:00+00" });
      } finally {
        await f.client.query(`DROP SCHEMA ${quoteIdent(weirdSchema)} CASCADE`);
      }
    });

    test("the CSV wire, staged in files (for platforms without named pipes), gives the same chunks and checkpoints as the binary wire", async () => {
      const files = createPostgresConnector(f.db.url, { wire: "csv", staging: "files" });
      try {
        const request = { schema: events, chunkRows: 256, cursor: { columns: ["updated_at", "id"] } };
        const viaFiles = await extractAll(f, request, { connector: files });
        const viaPipes = await extractAll(f, request);
        assert.deepEqual(viaFiles.chunks.map((c) => [c.rows, c.lastCursor]), viaPipes.chunks.map((c) => [c.rows, c.lastCursor]));
        const [diff] = await duck<{ n: bigint }>(f, `SELECT count(*) AS n FROM ((FROM ${viaFiles.relation} EXCEPT ALL FROM ${viaPipes.relation}) UNION ALL (FROM ${viaPipes.relation} EXCEPT ALL FROM ${viaFiles.relation}))`);
        assert.equal(Number(diff.n), 0);
        assert.deepEqual(await leftovers(f), []);
      } finally {
        await files.close();
      }
    });

    test("an empty result yields no chunk", async () => {
      const out = await extractAll(f, { schema: events, chunkRows: 10, range: { column: "id", from: "5000" } });
      assert.equal(out.chunks.length, 0);
    });

    test("a missing table is a SourceError naming it", async () => {
      await assert.rejects(f.connector.discover({ kind: "table", table: `${schema}.nope` }), (e: unknown) => {
        assert.ok(e instanceof SourceError);
        assert.match(e.message, new RegExp(`table "${schema}"\\."nope" not found in PostgreSQL postgres://`));
        return true;
      });
    });

    test("an unknown cursor column or a non-time look-back column is a SourceError naming it", async () => {
      await assert.rejects(extractAll(f, { schema: events, chunkRows: 10, cursor: { columns: ["modified_at"] } }), (e: unknown) => {
        assert.ok(e instanceof SourceError);
        assert.match(e.message, /column "modified_at" not found in .*events.* \(columns: id, updated_at, note\)/);
        return true;
      });
      const after = { columns: ["id"], values: ["10"] };
      await assert.rejects(extractAll(f, { schema: events, chunkRows: 10, cursor: { columns: ["id"], after, lookBackSeconds: 60 } }), /lookBack: needs a date or timestamp/);
    });

    test("CSV wire: a row larger than maxRowBytes stops the load with an error saying which limit to raise", async () => {
      await f.client.query(`CREATE TABLE ${quoteIdent(schema)}.wide AS SELECT g AS id, repeat('w', 300000) AS body FROM generate_series(1, 3) g`);
      // DuckDB's CSV reader holds a row in one buffer; the binary wire has no such limit.
      const small = createPostgresConnector(f.db.url, { wire: "csv", maxRowBytes: 100_000 });
      try {
        const t = await small.discover({ kind: "table", table: `${schema}.wide` });
        await assert.rejects(extractAll(f, { schema: t, chunkRows: 10 }, { connector: small }), (e: unknown) => {
          assert.ok(e instanceof SourceError);
          assert.match(e.message, /row 1 of the extraction is 0\.3 MiB as CSV, more than maxRowBytes \(0\.1 MiB\)/);
          assert.ok(e.message.length < 400, "no row data in the message");
          return true;
        });
      } finally {
        await small.close();
      }
      assert.deepEqual(await leftovers(f), []);
    });

    test("a value DuckDB cannot hold stops the load with a SourceError naming the table", async () => {
      await f.client.query(`CREATE TABLE ${quoteIdent(schema)}.far (id integer, at timestamp)`);
      await f.client.query(`INSERT INTO ${quoteIdent(schema)}.far SELECT g, '2024-01-01' FROM generate_series(1, 5000) g`);
      await f.client.query(`INSERT INTO ${quoteIdent(schema)}.far VALUES (5001, '294276-12-31 00:00:00')`);
      const t = await f.connector.discover({ kind: "table", table: `${schema}.far` });
      await assert.rejects(extractAll(f, { schema: t, chunkRows: 100_000 }), (e: unknown) => {
        assert.ok(e instanceof SourceError);
        assert.match(e.message, /extracting ".*"\."far" from PostgreSQL/);
        assert.match(e.message, /294276/);
        return true;
      });
      assert.deepEqual(await leftovers(f), []);
    });
  });
}

describe("PostgreSQL connection errors", () => {
  test("name the server and database but never the password", async () => {
    const connector = createPostgresConnector("postgres://mallard:s3cr3t-pw@127.0.0.1:1/shop?sslmode=disable");
    await assert.rejects(connector.discover({ kind: "table", table: "public.orders" }), (e: unknown) => {
      assert.ok(e instanceof SourceError);
      assert.match(e.message, /cannot connect to PostgreSQL postgres:\/\/mallard@127\.0\.0\.1:1\/shop/);
      assert.ok(!e.message.includes("s3cr3t"), e.message);
      assert.ok(!String((e.cause as Error | undefined)?.message).includes("s3cr3t"));
      return true;
    });
    await connector.close();
  });

  // A server that accepts the connection and never answers (a half-open firewall, a hung pooler): without
  // a connect timeout the load waits forever (this test's own timeout then fails it).
  test("a server that never answers fails at the connect timeout, in one line naming the source", { timeout: 30_000 }, async () => {
    const sockets: Socket[] = [];
    const silent = createServer((socket) => void sockets.push(socket));
    await new Promise<void>((done) => silent.listen(0, "127.0.0.1", done));
    const { port } = silent.address() as AddressInfo;
    try {
      for (const [url, options, within] of [
        [`postgres://mallard:s3cr3t-pw@127.0.0.1:${port}/shop?sslmode=disable`, { name: "shop", connectTimeoutMs: 300 }, "0.3 s"],
        [`postgres://mallard:s3cr3t-pw@127.0.0.1:${port}/shop?sslmode=disable&connect_timeout=1`, { name: "shop" }, "1 s"],
      ] as const) {
        const connector = createPostgresConnector(url, options);
        await assert.rejects(connector.discover({ kind: "table", table: "public.orders" }), (e: unknown) => {
          assert.ok(e instanceof SourceError);
          assert.equal(e.message, `cannot connect to PostgreSQL postgres://mallard@127.0.0.1:${port}/shop (source "shop"): no answer within ${within} (connect timeout)`);
          return true;
        });
        await connector.close();
      }
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((done) => silent.close(done));
    }
  });
});
