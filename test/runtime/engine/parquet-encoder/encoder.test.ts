// The Parquet encoder (runtime/engine/parquet-encoder/): a real DuckDB in a real worker thread, fed
// batches built here. Values of every layout (fixed widths, inline and long strings, NULLs) arrive in
// the Parquet file; a chunk given up or refused by DuckDB leaves the encoder idle and reusable; its
// DuckDB is locked down like the engine's; the engine's pool reuses encoders and ends their threads.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { BIGINT, INTEGER, VARCHAR } from "@duckdb/node-api";
import { type FixedColumn, type StringColumn, VECTOR_ROWS, VectorBatch } from "../../../../runtime/engine/parquet-encoder/batch.ts";
import { TABLE_FUNCTION } from "../../../../runtime/engine/parquet-encoder/encoder.ts";
import { Engine, queryRows } from "../../../../runtime/engine/engine.ts";
import { quoteLiteral } from "../../../../runtime/engine/sql.ts";

const WIDTHS = [8, 4, 0];
const TYPES = [BIGINT, INTEGER, VARCHAR];

/** Row i: (i, i % 7 or NULL every 5th, "s<i>" or a 30-character string every 3rd, NULL every 11th). */
function text(i: number): string | null {
  return i % 11 === 0 ? null : i % 3 === 0 ? `a longer string than twelve ${i}` : `s${i}`;
}

function fill(batch: VectorBatch, from: number, rows: number): void {
  const ids = batch.columns[0] as FixedColumn;
  const small = batch.columns[1] as FixedColumn;
  const strings = batch.columns[2] as StringColumn;
  for (let r = 0; r < rows; r++) {
    const i = from + r;
    ids.data.writeBigInt64LE(BigInt(i) * 3_000_000_000n, r * 8);
    if (i % 5 === 0) batch.setNull(1, r);
    else small.data.writeInt32LE(i % 7, r * 4);
    const value = text(i);
    if (value === null) batch.setNull(2, r);
    else {
      const bytes = Buffer.from(value);
      strings.set(r, bytes, 0, bytes.length);
    }
  }
  batch.rows = rows;
}

/** Send `total` rows in batches, reusing batches as the worker hands them back. */
async function sendRows(encoder: Awaited<ReturnType<Engine["acquireParquetEncoder"]>>, total: number, from = 0): Promise<void> {
  const pool: VectorBatch[] = [];
  for (let at = from; at < from + total; at += VECTOR_ROWS) {
    const batch = pool.pop() ?? new VectorBatch(WIDTHS);
    fill(batch, at, Math.min(VECTOR_ROWS, from + total - at));
    await encoder.send(batch, () => {
      batch.clear();
      pool.push(batch);
    });
  }
}

let engine: Engine;
let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "mallard-encoder-"));
  engine = await Engine.create({ memoryLimit: "512MB", threads: 1, tempDirectory: dir });
});
after(async () => {
  await engine.close();
  await rm(dir, { recursive: true, force: true });
});

const copy = (file: string, select = "c0 AS id, c1 AS small, c2 AS text") =>
  `COPY (SELECT ${select} FROM ${TABLE_FUNCTION}()) TO ${quoteLiteral(file)} (FORMAT parquet)`;

describe("ParquetEncoder", () => {
  it("writes every value as sent: 64- and 32-bit numbers, NULLs, inline and long strings", async () => {
    const encoder = await engine.acquireParquetEncoder();
    const file = join(dir, "values.parquet");
    const rows = 3 * VECTOR_ROWS + 77;
    const written = encoder.begin(copy(file), TYPES, WIDTHS);
    await sendRows(encoder, rows);
    encoder.end();
    assert.equal(await written, rows);
    await encoder.settle();
    assert.ok(encoder.idle);
    await engine.releaseParquetEncoder(encoder);

    const got = await engine.withConnection((con) => queryRows<{ id: bigint; small: number | null; text: string | null }>(con, `SELECT * FROM read_parquet(${quoteLiteral(file)}) ORDER BY id`));
    assert.equal(got.length, rows);
    for (const [i, row] of got.entries()) {
      assert.deepEqual(row, { id: BigInt(i) * 3_000_000_000n, small: i % 5 === 0 ? null : i % 7, text: text(i) }, `row ${i}`);
    }
  });

  it("a wide table's batches are bounded by their bytes, not only their count, and all arrive", async () => {
    // 300 text columns: ~10 MB a batch, so only a few are in flight at once (the rest wait their turn).
    const columns = 300;
    const widths = Array.from({ length: columns }, () => 0);
    const encoder = await engine.acquireParquetEncoder();
    const file = join(dir, "wide.parquet");
    const select = `count(*) OVER () AS n, c0 AS first, c${columns - 1} AS last`;
    const written = encoder.begin(copy(file, select), widths.map(() => VARCHAR), widths);
    const rows = 12 * VECTOR_ROWS;
    for (let at = 0; at < rows; at += VECTOR_ROWS) {
      const batch = new VectorBatch(widths);
      for (let r = 0; r < VECTOR_ROWS; r++) {
        for (let c = 0; c < columns; c++) {
          const value = Buffer.from(`r${at + r}c${c}`);
          (batch.columns[c] as StringColumn).set(r, value, 0, value.length);
        }
      }
      batch.rows = VECTOR_ROWS;
      await encoder.send(batch, () => {});
    }
    encoder.end();
    assert.equal(await written, rows);
    await encoder.settle();
    await engine.releaseParquetEncoder(encoder);
    const [last] = await engine.withConnection((con) => queryRows<{ n: bigint; first: string; last: string }>(con, `SELECT * FROM read_parquet(${quoteLiteral(file)}) ORDER BY n DESC, first DESC LIMIT 1`));
    assert.equal(last.n, BigInt(rows));
  });

  it("a chunk given up mid-way rejects with the reason; the same encoder then writes the next chunk", async () => {
    const encoder = await engine.acquireParquetEncoder();
    const dropped = encoder.begin(copy(join(dir, "dropped.parquet")), TYPES, WIDTHS);
    await sendRows(encoder, 5 * VECTOR_ROWS);
    encoder.abort("the source went away");
    await assert.rejects(dropped, /the source went away/);
    await encoder.settle();
    assert.ok(encoder.idle, "every batch came back");

    const file = join(dir, "after-abort.parquet");
    const written = encoder.begin(copy(file), TYPES, WIDTHS);
    await sendRows(encoder, 1000, 1);
    encoder.end();
    assert.equal(await written, 1000);
    await engine.releaseParquetEncoder(encoder);
  });

  it("a chunk DuckDB refuses rejects with DuckDB's message; the rest of its rows are skipped and the encoder goes on", async () => {
    const encoder = await engine.acquireParquetEncoder();
    // Row 4099's text is not a number: the cast fails in the third batch, while more batches are still coming.
    const refused = encoder.begin(copy(join(dir, "refused.parquet"), "c0 AS id, CASE WHEN c0 = 4099 * 3000000000 THEN CAST(c2 AS INTEGER) END AS bad"), TYPES, WIDTHS);
    await sendRows(encoder, 10 * VECTOR_ROWS);
    encoder.end();
    await assert.rejects(refused, /Conversion Error/);
    await encoder.settle();
    assert.ok(encoder.idle);

    const written = encoder.begin(copy(join(dir, "after-refusal.parquet")), TYPES, WIDTHS);
    await sendRows(encoder, 10);
    encoder.end();
    assert.equal(await written, 10);
    await engine.releaseParquetEncoder(encoder);
  });

  it("its DuckDB is locked down like the engine's: no file outside the work folder, no setting changed", async () => {
    const outside = await mkdtemp(join(tmpdir(), "mallard-outside-"));
    try {
      const encoder = await engine.acquireParquetEncoder();
      const escaped = encoder.begin(copy(join(outside, "escaped.parquet")), TYPES, WIDTHS);
      await sendRows(encoder, 10);
      encoder.end();
      await assert.rejects(escaped, /Permission Error/);
      await encoder.settle();
      const read = encoder.begin(copy(join(dir, "passwd.parquet"), "c0 AS id, (SELECT count(*) FROM read_text('/etc/passwd')) AS n"), TYPES, WIDTHS);
      await sendRows(encoder, 10);
      encoder.end();
      await assert.rejects(read, /Permission Error/);
      await encoder.settle();
      assert.equal(existsSync(join(outside, "escaped.parquet")), false);
      await engine.releaseParquetEncoder(encoder);
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
  });

  it("the engine's pool: one encoder per concurrent user, reused after release, ended with the engine", async () => {
    const own = await Engine.create({ memoryLimit: "256MB", threads: 1 });
    const a = await own.acquireParquetEncoder();
    const b = await own.acquireParquetEncoder();
    assert.notEqual(a, b, "two at once are two threads");
    await own.releaseParquetEncoder(a);
    assert.equal(await own.acquireParquetEncoder(), a, "a released encoder is reused");
    await own.close();
    await assert.rejects(a.begin(copy(join(own.workDir, "x.parquet")), TYPES, WIDTHS), /closed/);
    await assert.rejects(own.acquireParquetEncoder(), /closed/);
  });
});
