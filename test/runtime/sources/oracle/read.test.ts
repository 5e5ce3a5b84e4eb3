// The Oracle connector's read, discover and partition paths end to end without a server (none runs
// here): a stand-in for the thin driver (getConnection → a connection whose execute records the SQL and
// answers catalog rows, and whose result set hands rows out as the driver does: NUMBER as text through the
// fetch type handler, LOB locators, getRows in batches) feeds the real connector, the shared block writer
// and DuckDB. What is checked: the session settings, the SQL sent, chunks cut at chunkRows with their last
// cursor, a long LOB read through its locator, the result set and the session closed, partition bounds.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import oracledb from "oracledb";
import { Engine, queryRows } from "../../../../runtime/engine/engine.ts";
import { SourceError } from "../../../../runtime/errors.ts";
import { cursorSlice } from "../../../../runtime/sources/incremental.ts";
import { createOracleConnector, SESSION_SQL } from "../../../../runtime/sources/oracle/connector.ts";
import type { OracleConnection, OracleDriver, OracleExecuteOptions, OracleFetchMetadata } from "../../../../runtime/sources/oracle/driver.ts";

/** Catalog rows of `"SALES"."Order Lines"` as ALL_TAB_COLUMNS answers them. */
const CATALOG = [
  ["SALES", "ID", "NUMBER", null, 22, 18, 0, 0, "N"],
  ["SALES", "Updated At", "DATE", null, 7, null, null, 0, "N"],
  ["SALES", "NOTE", "CLOB", null, 4000, null, null, 0, "Y"],
];

interface Log { sql: string[]; closed: string[]; fetchArraySizes: number[] }

/** The stand-in driver: `rows` are what the result set of a data query hands out (NUMBER as the driver's number text). */
function standIn(rows: unknown[][], log: Log): OracleDriver {
  const connection: OracleConnection = {
    async execute(sql: string, _binds?: unknown, options?: OracleExecuteOptions) {
      log.sql.push(sql);
      if (sql.startsWith("ALTER SESSION")) return {};
      if (sql.includes("all_tab_columns")) return { rows: CATALOG };
      // The driver asks the handler for each column's fetch type: NUMBER must come back as text.
      const meta: OracleFetchMetadata = { name: "ID", dbType: oracledb.DB_TYPE_NUMBER };
      assert.equal(options?.fetchTypeHandler?.(meta)?.type, oracledb.DB_TYPE_VARCHAR, "NUMBER fetched as text");
      if (options?.resultSet) {
        log.fetchArraySizes.push(options.fetchArraySize ?? 0);
        let at = 0;
        return {
          resultSet: {
            async getRows(count: number) {
              const batch = rows.slice(at, at + count);
              at += batch.length;
              return batch;
            },
            async close() {
              log.closed.push("resultSet");
            },
          },
        };
      }
      if (sql.includes("MIN(")) return { rows: [["1"], ["2500"]] };
      return { rows: [[rows.at(-1)![1], rows.at(-1)![0]]] };
    },
    async breakExecution() {
      log.closed.push("break");
    },
    async close() {
      log.closed.push("connection");
    },
  };
  return { ...oracledb, getConnection: async () => connection } as OracleDriver;
}

describe("Oracle connector (a stand-in driver: no server here)", () => {
  let engine: Engine;
  before(async () => {
    engine = await Engine.create({ threads: 1, memoryLimit: "256MB" });
  });
  after(() => engine.close());

  const longNote = "ü".repeat(5000);
  const lob = { length: longNote.length, getData: async () => longNote };
  // Fields: ID, the date's text, the CLOB's inline value and its locator. 2,500 rows, 3 per second.
  const rows = Array.from({ length: 2500 }, (_, i) => [
    String(i + 1), `2026-01-01 00:${String(Math.floor(i / 180)).padStart(2, "0")}:${String(Math.floor(i / 3) % 60).padStart(2, "0")}`,
    i === 7 ? null : `note ${i + 1}`, i === 7 ? lob : null,
  ]);

  it("discovers, then reads incrementally in chunks that carry their last cursor; a long LOB through its locator", async () => {
    const log: Log = { sql: [], closed: [], fetchArraySizes: [] };
    const connector = createOracleConnector("oracle://u:p@h/svc", { name: "erp", driver: standIn(rows, log) });
    const schema = await connector.discover({ kind: "table", table: '"SALES"."Order Lines"' });
    assert.deepEqual(schema.columns.map((c) => [c.name, c.duckType]), [["ID", "BIGINT"], ["Updated At", "TIMESTAMP"], ["NOTE", "VARCHAR"]]);
    assert.equal(schema.label, '"SALES"."Order Lines"');
    const slice = cursorSlice(schema, { columns: ["Updated At", "ID"] }, { columns: ["Updated At", "ID"], values: ["2025-12-31 23:59:59", "0"] });
    const chunks = [];
    for await (const chunk of connector.read({ schema, slice, chunkRows: 1000, workDir: engine.workDir }, engine)) {
      const [stats] = await engine.withConnection((con) => queryRows<{ n: bigint; notes: bigint; long: bigint }>(con,
        `SELECT count(*) AS n, count(NOTE) AS notes, count(*) FILTER (WHERE length(NOTE) = 5000) AS long FROM read_parquet('${chunk.file}')`));
      chunks.push({ rows: chunk.rows, last: chunk.lastCursor?.values, n: Number(stats.n), long: Number(stats.long) });
    }
    assert.deepEqual(chunks.map((c) => [c.rows, c.n, c.last]), [
      [1000, 1000, ["2026-01-01 00:05:33", "1000"]], [1000, 1000, ["2026-01-01 00:11:06", "2000"]], [500, 500, ["2026-01-01 00:13:53", "2500"]],
    ]);
    assert.equal(chunks[0].long, 1, "the 5,000-character CLOB read whole through its locator");
    const read = log.sql.find((s) => s.startsWith("SELECT \"ID\""))!;
    assert.ok(read.includes(`FROM "SALES"."Order Lines" WHERE "Updated At" IS NOT NULL AND "ID" IS NOT NULL AND "Updated At" >= TO_DATE('2025-12-31 23:59:59'`), read);
    assert.ok(read.endsWith(`ORDER BY "Updated At", "ID"`), read);
    assert.equal(log.sql.filter((s) => s === SESSION_SQL).length, 2, "the catalog session and the read's session both get Mallard's settings");
    assert.deepEqual(log.fetchArraySizes, [1000]);
    assert.deepEqual(log.closed, ["resultSet", "connection"], "the read's result set and session are closed");
    await connector.close();
    assert.deepEqual(log.closed.slice(2), ["connection"], "and the catalog session on close");
  });

  it("splits by steps between MIN and MAX, reports the newest cursor, and refuses a LOB too long for a row", async () => {
    const log: Log = { sql: [], closed: [], fetchArraySizes: [] };
    const connector = createOracleConnector("oracle://u:p@h/svc", { driver: standIn(rows, log), maxRowBytes: 4096 });
    const schema = await connector.discover({ kind: "table", table: '"SALES"."Order Lines"' });
    assert.deepEqual(await connector.partitioner.splitPoints(schema, "ID", { step: 1000 }), ["1001", "2001"]);
    assert.deepEqual(await connector.partitioner.cursorMax(schema, ["Updated At", "ID"]), { columns: ["Updated At", "ID"], values: ["2026-01-01 00:13:53", "2500"] });
    const reading = async () => {
      for await (const _ of connector.read({ schema, chunkRows: 1000, workDir: engine.workDir }, engine)) { /* drain */ }
    };
    await assert.rejects(reading(), (e: unknown) => e instanceof SourceError &&
      /^extracting "SALES"\."Order Lines" from Oracle oracle:\/\/u@h:1521\/svc: row 8: column "NOTE" holds a CLOB of 5000 characters, more than the 4096 bytes a row may have \(raise maxRowBytes\)$/.test(e.message));
    assert.ok(log.closed.includes("resultSet") && log.closed.includes("connection"), "closed after the failure too");
    await connector.close();
  });
});
