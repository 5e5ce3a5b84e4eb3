// Rows a driver hands over as text (MySQL/MariaDB's text protocol: each value its exact text, or NULL)
// → VARCHAR batches for the Parquet encoder (parquet-chunks.ts), whose select list casts each column to
// its type in DuckDB, in the encoder's thread. No CSV is written or parsed: a value's bytes are copied
// once, into the batch, and NULL and '' stay apart without quoting. A chunk is cut every `groupRows`
// rows with its last row's cursor values as text. How a row is read is its format's business (MySQL's:
// the protocol's own bytes, mysql/text-rows.ts).

import { BatchPool, VECTOR_ROWS, type VectorBatch } from "../../engine/parquet-encoder/batch.ts";
import type { RowValue, RowWriter } from "../pushed-rows.ts";
import type { AppendEvent } from "./parquet-chunks.ts";

/** How rows of one shape are written into a batch. */
export interface RowFormat<R> {
  /** Values per row. */
  readonly columns: number;
  /** Write `row` as row `r` of `batch`: every column set, or set NULL. */
  write(row: R, batch: VectorBatch, r: number): void;
  /** The cursor values, as text, of the row written last (asked when a chunk ends with it). */
  lastCursor(): (string | null)[] | undefined;
}

export class RowBatcher<R = readonly RowValue[]> implements RowWriter<AppendEvent, R> {
  readonly ready: AppendEvent[] = [];
  private readonly pool: BatchPool;
  private batch: VectorBatch;
  private groupRowCount = 0;

  /** `onChunkEnd` is called with each chunk's last cursor values just before its end is ready. */
  constructor(
    private readonly format: RowFormat<R>,
    private readonly groupRows: number,
    private readonly onChunkEnd: (cursor: (string | null)[] | undefined) => void = () => {},
  ) {
    this.pool = new BatchPool(Array.from({ length: format.columns }, () => 0));
    this.batch = this.pool.take();
  }

  row(row: R): void {
    const batch = this.batch;
    this.format.write(row, batch, batch.rows);
    batch.rows++;
    if (++this.groupRowCount === this.groupRows) this.endChunk();
    else if (batch.rows === VECTOR_ROWS) this.emit();
  }

  /** The rows of an unfinished chunk end it (the result set is over). */
  finish(): void {
    if (this.groupRowCount > 0) this.endChunk();
  }

  private endChunk(): void {
    if (this.batch.rows > 0) this.emit();
    const cursor = this.format.lastCursor();
    this.onChunkEnd(cursor);
    this.ready.push({ chunkEnd: true, lastRow: cursor });
    this.groupRowCount = 0;
  }

  private emit(): void {
    this.ready.push(this.pool.lend(this.batch));
    this.batch = this.pool.take();
  }
}
