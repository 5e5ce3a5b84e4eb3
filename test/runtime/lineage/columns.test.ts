// Column lineage from DuckDB's parser, resolved against real views: aliases, joins, CTEs, subqueries,
// `*` with EXCLUDE, set operations, and the sample pipeline's own models.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Engine, queryRows } from "../../../runtime/engine/engine.ts";
import { columnLineage, viewColumns } from "../../../runtime/lineage/columns.ts";

let engine: Engine;
before(async () => {
  engine = await Engine.create({ memoryLimit: "256MB", threads: 1 });
});
after(() => engine.close());

/** Lineage of `sql` over the given tables, with output names as DuckDB binds them. */
async function lineage(tables: Record<string, string>, sql: string) {
  return engine.withConnection(async (con) => {
    for (const [name, columns] of Object.entries(tables)) await con.run(`CREATE OR REPLACE TEMP TABLE ${name} (${columns})`);
    const outputs = (await queryRows<{ column_name: string }>(con, `SELECT column_name FROM (DESCRIBE (${sql}))`)).map((r) => r.column_name);
    return columnLineage(con, sql, await viewColumns(con, Object.keys(tables)), outputs);
  });
}

describe("column lineage", () => {
  it("follows aliases, joins, functions and unqualified names", async () => {
    const result = await lineage({ o: "id INT, total DECIMAL(10,2), cust INT", c: "id INT, name VARCHAR" },
      "SELECT o.id AS order_id, upper(name) AS who, total * 2 AS doubled, count(*) AS n FROM o JOIN c ON c.id = o.cust GROUP BY ALL");
    assert.deepEqual(result, { order_id: ["o.id"], who: ["c.name"], doubled: ["o.total"], n: [] });
  });

  it("goes through CTEs, subqueries in FROM and in expressions, and set operations", async () => {
    const result = await lineage({ a: "x INT, y INT", b: "x INT, z INT" }, `
      WITH s AS (SELECT x + y AS sum_xy FROM a)
      SELECT sum_xy, (SELECT max(z) FROM b) AS top_z, q.w FROM s, (SELECT z AS w FROM b) AS q
      UNION ALL SELECT x, y, x FROM a`);
    assert.deepEqual(result, { sum_xy: ["a.x", "a.y"], top_z: ["a.y", "b.z"], w: ["a.x", "b.z"] });
  });

  it("expands * with EXCLUDE, and qualified *", async () => {
    const result = await lineage({ a: "k INT, v INT, secret INT", b: "k INT, extra INT" },
      "SELECT * EXCLUDE (secret, k), b.* FROM a JOIN b USING (k)");
    assert.deepEqual(result, { v: ["a.v"], k: ["b.k"], extra: ["b.extra"] });
  });

  it("explains the sample pipeline's gold model", async () => {
    const sql = readFileSync(join(import.meta.dirname, "../../../transformations/gold/customer_value.sql"), "utf8");
    const result = await lineage({
      people: "entity_id VARCHAR, first_name VARCHAR, last_name VARCHAR, city VARCHAR, entity_records INT",
      people__entities: "id INT, entity_id VARCHAR",
      orders_clean: "order_id BIGINT, customer_id INT, status VARCHAR, total DECIMAL(12,2), ordered_at TIMESTAMPTZ",
    }, sql);
    assert.deepEqual(result, {
      entity_id: ["people.entity_id"], first_name: ["people.first_name"], last_name: ["people.last_name"], city: ["people.city"],
      customer_records: ["people.entity_records"], orders: ["orders_clean.order_id"], lifetime_value: ["orders_clean.total"],
      last_order_at: ["orders_clean.ordered_at"],
    });
  });
});
