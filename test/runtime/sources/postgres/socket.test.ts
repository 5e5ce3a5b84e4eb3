// A COPY read in place off the reused-buffer socket (socket.ts) and one read through the stream's own
// buffers (a plain socket, as under TLS) hand on the same rows; a slow consumer pauses the in-place
// socket and every row still arrives once; a decoding error inside the socket's callback rejects the
// read instead of escaping as an uncaught exception; pg works on the connection before and after.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { BIGINT, VARCHAR } from "@duckdb/node-api";
import { BinaryCopyParser, type BinaryCopyEvent } from "../../../../runtime/sources/postgres/binary-copy.ts";
import { type ColumnWire, WireKind } from "../../../../runtime/sources/postgres/binary-wire.ts";
import { connect } from "../../../../runtime/sources/postgres/connect.ts";
import { copyMessages } from "../../../../runtime/sources/postgres/copy-out.ts";
import type { FixedColumn, StringColumn } from "../../../../runtime/engine/parquet-encoder/batch.ts";
import { type TestPostgres, testPostgres } from "../../../helpers/pg.ts";

const WIRES: ColumnWire[] = [
  { kind: WireKind.Int8, pgExpression: "n", stageType: BIGINT, conversion: (c) => c, width: 8 },
  { kind: WireKind.Text, pgExpression: "t", stageType: VARCHAR, conversion: (c) => c, width: 0 },
];
const ROWS = 60_000;
const COPY = `COPY (SELECT n::int8, repeat('x', (n % 40)::int) || n::text FROM generate_series(1, ${ROWS}) AS n) TO STDOUT (FORMAT binary)`;

/** Sum of n and of the text lengths, from the decoded batches (each released after reading). */
async function drain(events: AsyncIterable<BinaryCopyEvent>, pause = 0): Promise<{ rows: number; sum: number; chars: number }> {
  let rows = 0;
  let sum = 0;
  let chars = 0;
  for await (const event of events) {
    if (!("batch" in event)) continue;
    const ids = (event.batch.columns[0] as FixedColumn).data;
    const texts = event.batch.columns[1] as StringColumn;
    for (let r = 0; r < event.batch.rows; r++) {
      sum += Number(ids.readBigInt64LE(r * 8));
      chars += texts.headers.readUInt32LE(r * 16);
    }
    rows += event.batch.rows;
    event.release();
    if (pause) await sleep(pause);
  }
  return { rows, sum, chars };
}

const EXPECTED = {
  rows: ROWS,
  sum: (ROWS * (ROWS + 1)) / 2,
  chars: Array.from({ length: ROWS }, (_, i) => ((i + 1) % 40) + String(i + 1).length).reduce((a, b) => a + b, 0),
};

describe("COPY read off the socket", () => {
  let db: TestPostgres;
  before(async () => {
    db = await testPostgres();
  });
  after(async () => {
    await db.close();
  });

  test("in place and through the stream's buffers, the same rows; pg goes on after either", async () => {
    const inPlace = await connect(db.url);
    const plain = new pg.Client({ connectionString: db.url });
    await plain.connect();
    try {
      for (const client of [inPlace, plain]) {
        assert.deepEqual((await client.query("SELECT 1 AS one")).rows, [{ one: 1 }]);
        const parser = new BinaryCopyParser(WIRES, { groupRows: 25_000, cursorFields: 0 });
        assert.deepEqual(await drain(copyMessages(client, COPY, parser)), EXPECTED);
        assert.deepEqual((await client.query("SELECT 2 AS two")).rows, [{ two: 2 }]);
      }
    } finally {
      await inPlace.end();
      await plain.end();
    }
  });

  test("a slow consumer pauses the socket and loses nothing", async () => {
    const client = await connect(db.url);
    try {
      const parser = new BinaryCopyParser(WIRES, { groupRows: 1_000_000, cursorFields: 0 });
      assert.deepEqual(await drain(copyMessages(client, COPY, parser), 2), EXPECTED);
      assert.deepEqual((await client.query("SELECT 3 AS three")).rows, [{ three: 3 }]);
    } finally {
      await client.end();
    }
  });

  test("a value the decoder refuses, read in place, rejects the read with its message", async () => {
    const client = await connect(db.url);
    try {
      const wires: ColumnWire[] = [{ kind: WireKind.Timestamp, pgExpression: "CAST(at AS timestamp) AS \"at\"", stageType: BIGINT, conversion: (c) => c, width: 8 }];
      const parser = new BinaryCopyParser(wires, { groupRows: 1000, cursorFields: 0 });
      const sql = `COPY (SELECT CASE WHEN n = 5000 THEN '294260-01-01'::timestamp ELSE '2024-01-01'::timestamp END FROM generate_series(1, 6000) AS n) TO STDOUT (FORMAT binary)`;
      const count = async () => {
        for await (const event of copyMessages(client, sql, parser)) if ("batch" in event) event.release();
      };
      await assert.rejects(count(), /row 5000: column "at" holds a value that \(294260-01-01\) is after the last timestamp DuckDB holds/);
    } finally {
      await client.end().catch(() => {});
    }
  });
});
