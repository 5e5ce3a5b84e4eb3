// Rows as a driver hands them over → VARCHAR batches: bytes and text land as the same string, NULL and ''
// stay apart, long values go to the heap, a chunk ends every groupRows rows with its last cursor values.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { StringColumn, VectorBatch } from "../../../../runtime/engine/parquet-encoder/batch.ts";
import { type RowFormat, RowBatcher } from "../../../../runtime/sources/append/row-batches.ts";
import type { RowValue } from "../../../../runtime/sources/pushed-rows.ts";

/** Rows as arrays of values (bytes or text, NULL as null): a format of the test's own. */
class ArrayRows implements RowFormat<readonly RowValue[]> {
  private last: readonly RowValue[] | undefined;

  constructor(
    readonly columns: number,
    private readonly cursorIndexes: readonly number[] = [],
  ) {}

  write(values: readonly RowValue[], batch: VectorBatch, r: number): void {
    for (let c = 0; c < values.length; c++) {
      const value = values[c];
      if (value === null) batch.setNull(c, r);
      else {
        const bytes = typeof value === "string" ? Buffer.from(value, "utf8") : value;
        (batch.columns[c] as StringColumn).set(r, bytes, 0, bytes.length);
      }
    }
    this.last = values;
  }

  lastCursor(): (string | null)[] | undefined {
    const last = this.last;
    if (!this.cursorIndexes.length || !last) return undefined;
    return this.cursorIndexes.map((i) => {
      const v = last[i];
      return v === null ? null : typeof v === "string" ? v : v.toString("utf8");
    });
  }
}

/** A string column's value at `row` (the heap offset stands in the pointer until the worker places it). */
function valueAt(column: StringColumn, row: number, nulls: (r: number) => boolean): string | null {
  if (nulls(row)) return null;
  const h = row * 16;
  const length = column.headers.readUInt32LE(h);
  if (length <= 12) return column.headers.toString("utf8", h + 4, h + 4 + length);
  const at = column.headers.readUInt32LE(h + 8);
  return column.heap.toString("utf8", at, at + length);
}

describe("RowBatcher", () => {
  it("writes bytes, text, '' and NULL as they are, cuts chunks with their last cursor, and ends the last one on finish", () => {
    const cursors: ((string | null)[] | undefined)[] = [];
    const batcher = new RowBatcher(new ArrayRows(3, [2, 0]), 3, (c) => cursors.push(c));
    const rows = [
      [Buffer.from("1"), "", null],
      [Buffer.from(""), "a value longer than twelve bytes, é", Buffer.from("2024-01-01 00:00:00")],
      [null, "x", Buffer.from("2024-01-02 00:00:00")],
      [Buffer.from("4"), null, "2024-01-03 00:00:00"],
    ];
    for (const row of rows) batcher.row(row);
    batcher.finish();

    const events = batcher.ready;
    assert.deepEqual(events.map((e) => ("batch" in e ? `batch ${e.batch.rows}` : `end ${JSON.stringify(e.lastRow)}`)), [
      "batch 3",
      'end ["2024-01-02 00:00:00",null]',
      "batch 1",
      'end ["2024-01-03 00:00:00","4"]',
    ]);
    assert.deepEqual(cursors, [["2024-01-02 00:00:00", null], ["2024-01-03 00:00:00", "4"]]);
    const first = events[0] as { batch: VectorBatch };
    const read = (c: number, r: number) =>
      valueAt(first.batch.columns[c] as StringColumn, r, (row) => (first.batch.columns[c].validity[row >> 3] & (1 << (row & 7))) === 0);
    assert.deepEqual([0, 1, 2].map((r) => [read(0, r), read(1, r), read(2, r)]), [
      ["1", "", null],
      ["", "a value longer than twelve bytes, é", "2024-01-01 00:00:00"],
      [null, "x", "2024-01-02 00:00:00"],
    ]);
  });

  it("reuses a released batch, emptied", () => {
    const batcher = new RowBatcher(new ArrayRows(1), 1);
    batcher.row([null]);
    const [first] = batcher.ready.splice(0) as { batch: { rows: number; columns: { validity: Uint8Array }[] }; release: () => void }[];
    first.release();
    assert.equal(first.batch.rows, 0);
    assert.equal(first.batch.columns[0].validity[0], 0xff, "its NULL is cleared");
    // The batch filling meanwhile was made when the first was handed on; the one after it is the first again.
    batcher.row([Buffer.from("y")]);
    batcher.row([Buffer.from("z")]);
    const batches = batcher.ready.filter((e) => "batch" in e) as { batch: unknown }[];
    assert.notEqual(batches[0].batch, first.batch);
    assert.equal(batches[1].batch, first.batch);
  });
});
