// What the held-out PostgreSQL checks found (issue #11 part 8), at the connector: partition boundaries of a
// key spanning all of bigint, quantile splits of a skewed key, numeric(p,s) NaN reported as a warning, and
// a 2-D value in an int[] column stopping the read with one line naming the column. Runs on the real
// server and on embedded PGlite.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { quoteIdent } from "../../../../runtime/engine/sql.ts";
import { SourceError } from "../../../../runtime/errors.ts";
import type { RangeSlice, ResourceSchema } from "../../../../runtime/sources/source.ts";
import { testPostgresKinds } from "../../../helpers/pg.ts";
import { duck, extractAll, type Fixture, openFixture } from "./fixture.ts";

const kinds = await testPostgresKinds();

for (const kind of kinds) {
  describe(`PostgreSQL held-out checks (${kind})`, () => {
    let f: Fixture;
    let schema: string;
    const describeTable = (name: string) => f.connector.discover({ kind: "table", table: `${schema}.${name}` });

    before(async () => {
      f = await openFixture(kind);
      schema = await f.db.scratchSchema(f.client, "heldout");
    });
    after(() => f.close());

    /** Every range of a `count` split, read through the connector: the rows each range holds. */
    async function rangeCounts(table: ResourceSchema, column: string, count: number): Promise<number[]> {
      const points = await f.connector.partitioner.splitPoints(table, column, { count });
      const bounds = [undefined, ...points, undefined];
      const counts: number[] = [];
      for (let i = 0; i < bounds.length - 1; i++) {
        const range: RangeSlice = { column, from: bounds[i], to: bounds[i + 1], includeNulls: i === 0 };
        const { chunks } = await extractAll(f, { schema: table, range, chunkRows: 100_000 });
        counts.push(chunks.reduce((n, c) => n + c.rows, 0));
      }
      return counts;
    }

    test("a bigint key from -2^63 to 2^63-1 splits without overflow, and every row is read once", async () => {
      await f.client.query(`CREATE TABLE ${quoteIdent(schema)}.wide (id bigint PRIMARY KEY)`);
      await f.client.query(`INSERT INTO ${quoteIdent(schema)}.wide VALUES (-9223372036854775808), (9223372036854775807), (0), (-1), (1)`);
      await f.client.query(`INSERT INTO ${quoteIdent(schema)}.wide SELECT g * 1000000000000 FROM generate_series(2, 995) g`);
      const wide = await describeTable("wide");
      const counts = await rangeCounts(wide, "id", 4);
      assert.equal(counts.reduce((a, b) => a + b, 0), 999);
      assert.ok(counts.length >= 3, `split into ${counts.length} ranges`);
    });

    test("a skewed key splits into ranges of similar row counts (quantiles, not equal widths)", async () => {
      // 9,998 ids in 1..9,998 and two near 10^12: equal widths would put 99.98 % of rows in the first range.
      await f.client.query(`CREATE TABLE ${quoteIdent(schema)}.skewed (id bigint PRIMARY KEY, v text)`);
      await f.client.query(`INSERT INTO ${quoteIdent(schema)}.skewed SELECT g, 'v' FROM generate_series(1, 9998) g`);
      await f.client.query(`INSERT INTO ${quoteIdent(schema)}.skewed VALUES (999999999999, 'far'), (1000000000000, 'far')`);
      const counts = await rangeCounts(await describeTable("skewed"), "id", 4);
      assert.equal(counts.reduce((a, b) => a + b, 0), 10_000);
      assert.equal(counts.length, 4);
      for (const n of counts) assert.ok(n >= 2_000 && n <= 3_000, `range counts ${counts.join(", ")}`);
    });

    test("NaN in numeric(p,s) is stored as NULL and said in a warning", async () => {
      await f.client.query(`CREATE TABLE ${quoteIdent(schema)}.amounts (id int, amount numeric(12,2), price numeric(8,3))`);
      await f.client.query(`INSERT INTO ${quoteIdent(schema)}.amounts VALUES (1, 'NaN', 1.5), (2, 2.5, 'NaN'), (3, 'NaN', NULL), (4, 4, 4)`);
      const { chunks, relation } = await extractAll(f, { schema: await describeTable("amounts"), chunkRows: 2 });
      assert.deepEqual(chunks.flatMap((c) => c.warnings ?? []), [
        `column "amount" (numeric(12,2)): 2 NaN values stored as NULL`,
        `column "price" (numeric(8,3)): 1 NaN value stored as NULL`,
      ]);
      const rows = await duck(f, `SELECT id, amount::VARCHAR AS amount FROM ${relation} ORDER BY id`);
      assert.deepEqual(rows, [{ id: 1, amount: null }, { id: 2, amount: "2.50" }, { id: 3, amount: null }, { id: 4, amount: "4.00" }]);
      const clean = await extractAll(f, { schema: await describeTable("amounts"), columns: ["id"], chunkRows: 10 });
      assert.deepEqual(clean.chunks.flatMap((c) => c.warnings ?? []), [], "no warning without a NaN read");
    });

    test("a 2-D value in an int[] column stops the read with one line naming the column and the fix", async () => {
      await f.client.query(`CREATE TABLE ${quoteIdent(schema)}.matrices (id int, int_matrix int[])`);
      await f.client.query(`INSERT INTO ${quoteIdent(schema)}.matrices VALUES (1, '{1,2}'), (2, '{{1,2},{3,4}}')`);
      const table = await describeTable("matrices");
      await assert.rejects(extractAll(f, { schema: table, chunkRows: 10 }), (e: unknown) => {
        assert.ok(e instanceof SourceError);
        assert.doesNotMatch(e.message, /\n|lambda/);
        assert.match(e.message, /column "int_matrix" \(integer\[\]\) holds a multi-dimensional array.*columns: \{ int_matrix: "text" \}/);
        return true;
      });
      // The override: the column read as PostgreSQL's text of it.
      const asText = { ...table, columns: table.columns.map((c) => (c.name === "int_matrix" ? { ...c, duckType: "VARCHAR", asText: true } : c)) };
      const { relation } = await extractAll(f, { schema: asText, chunkRows: 10 });
      assert.deepEqual(await duck(f, `SELECT id, int_matrix FROM ${relation} ORDER BY id`), [{ id: 1, int_matrix: "{1,2}" }, { id: 2, int_matrix: "{{1,2},{3,4}}" }]);
    });
  });
}
