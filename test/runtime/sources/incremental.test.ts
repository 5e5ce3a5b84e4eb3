// The cursor rules every source shares: checkpoint validation against the schema, look-back, the
// predicates a SQL source runs (row comparison or spelled out), and the exact filter an API applies.
// The SQL forms are run on DuckDB against every ordering of a small grid, so they are checked, not just read.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Engine, queryRows } from "../../../runtime/engine/engine.ts";
import { quoteIdent, quoteLiteral } from "../../../runtime/engine/sql.ts";
import { SourceError } from "../../../runtime/errors.ts";
import { compareCursors, cursorSlice, inSlice, sinceParameter, slicePredicates, type SqlDialect, valueFits } from "../../../runtime/sources/incremental.ts";
import type { ResourceSchema } from "../../../runtime/sources/source.ts";

const schema: ResourceSchema = {
  label: "shop.orders",
  address: ["shop", "orders"],
  columns: [
    { name: "updated_at", sourceType: "timestamp with time zone", duckType: "TIMESTAMPTZ", nullable: true },
    { name: "id", sourceType: "bigint", duckType: "BIGINT", nullable: false },
    { name: "amount", sourceType: "numeric(12,2)", duckType: "DECIMAL(12,2)", nullable: true },
    { name: "tags", sourceType: "text[]", duckType: "VARCHAR[]", nullable: true },
    { name: "doc", sourceType: "jsonb", duckType: "JSON", nullable: true },
    { name: "day", sourceType: "date", duckType: "DATE", nullable: true },
  ],
};

const position = (columns: string[], values: (string | null)[]) => ({ columns, values });

describe("cursorSlice", () => {
  test("checks the cursor against the schema and the checkpoint against the cursor", () => {
    assert.throws(() => cursorSlice(schema, { columns: ["nope"] }), /column "nope" not found in shop.orders \(columns: updated_at, id, amount, tags, doc, day\)/);
    assert.throws(() => cursorSlice(schema, { columns: ["tags"] }), /column "tags" has type text\[\], which cannot order a cursor/);
    assert.throws(() => cursorSlice(schema, { columns: ["doc"] }), /cannot order a cursor/);
    assert.throws(() => cursorSlice(schema, { columns: ["id"], lookBackSeconds: 60 }, position(["id"], ["5"])), /lookBack: needs a date or timestamp first cursor column; "id" is bigint/);
    const cursor = { columns: ["updated_at", "id"] };
    assert.throws(() => cursorSlice(schema, cursor, position(["updated_at"], ["2024-01-01"])), /checkpoint is for \(updated_at\) but the cursor is \(updated_at, id\); run a full refresh/);
    assert.throws(() => cursorSlice(schema, cursor, position(["updated_at", "id"], ["2024-01-01", null])), /holds NULL for "id"/);
    assert.throws(() => cursorSlice(schema, cursor, position(["updated_at", "id"], ["2024-01-01 00:00:00+00", "abc"])), (e: unknown) => {
      assert.ok(e instanceof SourceError);
      assert.match(e.message, /holds "abc" for "id", which is not a bigint \(did the column's type change\?\); run a full refresh/);
      return true;
    });
    assert.throws(() => cursorSlice(schema, cursor, position(["updated_at", "id"], ["42", "1"])), /holds "42" for "updated_at"/);
    const refused = () => cursorSlice(schema, { columns: ["amount"] }, undefined, undefined, (c) => (c.name === "amount" ? "is special here" : undefined));
    assert.throws(refused, /column "amount" is special here, which cannot order a cursor/);
    const overridden = { ...schema, columns: schema.columns.map((c) => (c.name === "id" ? { ...c, duckType: "VARCHAR", asText: true } : c)) };
    assert.throws(() => cursorSlice(overridden, { columns: ["id"] }), /stored as text by a columns override/);
  });

  test("look-back applies only when there is a checkpoint", () => {
    assert.equal(cursorSlice(schema, { columns: ["updated_at"], lookBackSeconds: 60 }).lookBackSeconds, undefined);
    const slice = cursorSlice(schema, { columns: ["updated_at"], lookBackSeconds: 60 }, position(["updated_at"], ["2024-01-01 00:00:00+00"]));
    assert.equal(slice.lookBackSeconds, 60);
  });

  test("valueFits knows each type's text", () => {
    assert.ok(valueFits("-9223372036854775808", "BIGINT"));
    assert.ok(!valueFits("1.5", "BIGINT"));
    assert.ok(valueFits("12.50", "DECIMAL(12,2)"));
    assert.ok(valueFits("2024-03-01 10:00:00.000001+05:30", "TIMESTAMPTZ"));
    assert.ok(valueFits("2024-03-01T10:00:00Z", "TIMESTAMPTZ"));
    assert.ok(valueFits("0044-03-15 12:00:00 BC", "TIMESTAMP"));
    assert.ok(valueFits("infinity", "DATE"));
    assert.ok(!valueFits("yesterday", "DATE"));
    assert.ok(valueFits("anything", "VARCHAR"));
  });
});

describe("SQL predicates", () => {
  let engine: Engine;
  before(async () => {
    engine = await Engine.create({ memoryLimit: "256MB", threads: 1 });
  });
  after(() => engine.close());

  const dialect = (rowComparison: boolean): SqlDialect => ({
    ident: quoteIdent,
    literal: (value, column) => `CAST(${quoteLiteral(value)} AS ${column.duckType})`,
    minusSeconds: (literal, _column, seconds) => `(${literal} - INTERVAL ${seconds} SECOND)`,
    rowComparison,
  });

  const grid = `(SELECT (TIMESTAMPTZ '2024-01-01 00:00:00+00' + a * INTERVAL 1 MINUTE) AS updated_at, b::BIGINT AS id, c::BIGINT AS n
    FROM range(4) t1(a), range(3) t2(b), range(3) t3(c)
    UNION ALL SELECT NULL, 1, 0 UNION ALL SELECT TIMESTAMPTZ '2024-01-01 00:01:00+00', NULL, 0)`;

  // coalesce keeps DuckDB from merging a row comparison's two bounds into a BETWEEN, which it cannot do on rows.
  async function ids(where: string[]): Promise<string[]> {
    return engine.withConnection(async (con) =>
      (await queryRows<{ k: string }>(con, `SELECT strftime(updated_at AT TIME ZONE 'UTC', '%M') || '/' || id || '/' || n AS k FROM ${grid} g WHERE ${where.map((w) => `coalesce(${w}, false)`).join(" AND ")} ORDER BY updated_at, id, n`)).map((r) => r.k));
  }

  test("the spelled-out comparison selects exactly what the row comparison selects", async () => {
    const threeColumns: ResourceSchema = { ...schema, columns: [...schema.columns.slice(0, 2), { name: "n", sourceType: "bigint", duckType: "BIGINT", nullable: false }] };
    const cursor = { columns: ["updated_at", "id", "n"] };
    const cases = [
      { after: ["2024-01-01 00:01:00+00", "1", "1"] },
      { after: ["2024-01-01 00:01:00+00", "1", "1"], until: ["2024-01-01 00:02:00+00", "2", "0"] },
      { after: ["2024-01-01 00:00:00+00", "0", "0"], lookBackSeconds: 0 },
      { after: ["2024-01-01 00:02:00+00", "0", "2"], lookBackSeconds: 60 },
    ];
    for (const c of cases) {
      const slice = cursorSlice(threeColumns, { columns: cursor.columns, lookBackSeconds: c.lookBackSeconds }, position(cursor.columns, c.after),
        c.until ? position(cursor.columns, c.until) : undefined);
      const rowWise = await ids(slicePredicates(slice, dialect(true)));
      const spelled = await ids(slicePredicates(slice, dialect(false)));
      assert.ok(rowWise.length > 0 && rowWise.length < 36, `a case that selects some rows and not others: ${rowWise.length}`);
      assert.deepEqual(spelled, rowWise, JSON.stringify(c));
      // The exact filter of APIs and files agrees with both.
      const rows = await engine.withConnection((con) => queryRows<{ t: string; id: bigint | null; n: bigint }>(con,
        `SELECT strftime(updated_at AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M:%S') || '+00' AS t, id, n FROM ${grid} g WHERE updated_at IS NOT NULL ORDER BY updated_at, id, n`));
      const filtered = rows.filter((r) => inSlice(slice, [r.t, r.id === null ? null : String(r.id), String(r.n)]))
        .map((r) => `${r.t.slice(14, 16)}/${r.id}/${r.n}`);
      assert.deepEqual(filtered, rowWise, `inSlice ${JSON.stringify(c)}`);
    }
  });

  test("NULL cursor values are never in a slice", async () => {
    const slice = cursorSlice(schema, { columns: ["updated_at", "id"] });
    assert.ok((await ids(slicePredicates(slice, dialect(false)))).every((k) => !k.includes("//")));
    assert.ok(!inSlice(slice, [null, "1"]));
  });
});

describe("APIs and files", () => {
  test("sinceParameter: the checkpoint's first value, moved back by the look-back in UTC", () => {
    const slice = cursorSlice(schema, { columns: ["updated_at", "id"], lookBackSeconds: 600 }, position(["updated_at", "id"], ["2024-03-01 10:00:00.5+02:00", "7"]));
    assert.equal(sinceParameter(slice), "2024-03-01T07:50:00.500Z");
    const plain = cursorSlice(schema, { columns: ["updated_at"] }, position(["updated_at"], ["2024-03-01T10:00:00Z"]));
    assert.equal(sinceParameter(plain), "2024-03-01T10:00:00Z");
    assert.equal(sinceParameter(cursorSlice(schema, { columns: ["updated_at"] })), undefined);
    const days = cursorSlice(schema, { columns: ["day"], lookBackSeconds: 86_400 }, position(["day"], ["2024-03-01"]));
    assert.equal(sinceParameter(days), "2024-02-29");
  });

  test("compareCursors: integers beyond 2^53, decimals and offsets compare exactly", () => {
    const slice = cursorSlice({ ...schema, columns: [schema.columns[1], schema.columns[2], schema.columns[0]] }, { columns: ["id", "amount", "updated_at"] });
    assert.equal(compareCursors(slice, ["9007199254740993", "1", "2024-01-01 00:00:00Z"], ["9007199254740992", "1", "2024-01-01 00:00:00Z"]), 1);
    assert.equal(compareCursors(slice, ["1", "10.5", "2024-01-01 00:00:00Z"], ["1", "10.50", "2024-01-01 00:00:00Z"]), 0);
    assert.equal(compareCursors(slice, ["1", "9.99", "2024-01-01 00:00:00Z"], ["1", "10", "2024-01-01 00:00:00Z"]), -1);
    assert.equal(compareCursors(slice, ["1", "1", "2024-01-01 02:00:00.000001+02:00"], ["1", "1", "2024-01-01 00:00:00Z"]), 1);
    assert.equal(compareCursors(slice, ["1", "1", "2024-01-01 02:00:00+02:00"], ["1", "1", "2024-01-01 00:00:00Z"]), 0);
  });
});
