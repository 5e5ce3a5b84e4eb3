// Rows a driver hands over as text (MySQL/MariaDB's text protocol: each value its exact text, or NULL)
// → VARCHAR batches for the Parquet encoder (parquet-chunks.ts), whose select list casts each column to
// its type in DuckDB, in the encoder's thread. No CSV is written or parsed: a value's bytes are copied
// once, into the batch, and NULL and '' stay apart without quoting. A chunk is cut every `groupRows`
// rows with its last row's cursor values as text.

import { type StringColumn, VECTOR_ROWS, VectorBatch } from "../../engine/parquet-encoder/batch.ts";
import type { RowValue, RowWriter } from "../pushed-rows.ts";
import type { AppendEvent } from "./parquet-chunks.ts";

export interface RowBatcherOptions {
  /** Values per row. */
  readonly columns: number;
  /** Rows per chunk. */
  readonly groupRows: number;
  /** Columns whose values each chunk's last row reports (the cursor). */
  readonly cursorIndexes: readonly number[];
}

export class RowBatcher implements RowWriter<AppendEvent> {
  readonly ready: AppendEvent[] = [];
  private readonly pool: VectorBatch[] = [];
  private readonly widths: readonly number[];
  private batch: VectorBatch;
  private groupRowCount = 0;
  private last: readonly RowValue[] | undefined;

  /** `onChunkEnd` is called with each chunk's last cursor values just before its end is ready. */
  constructor(
    private readonly options: RowBatcherOptions,
    private readonly onChunkEnd: (cursor: (string | null)[] | undefined) => void = () => {},
  ) {
    this.widths = Array.from({ length: options.columns }, () => 0);
    this.batch = new VectorBatch(this.widths);
  }

  row(values: readonly RowValue[]): void {
    const batch = this.batch;
    const r = batch.rows;
    for (let c = 0; c < values.length; c++) {
      const value = values[c];
      if (value === null) batch.setNull(c, r);
      else {
        const bytes = typeof value === "string" ? Buffer.from(value, "utf8") : value;
        (batch.columns[c] as StringColumn).set(r, bytes, 0, bytes.length);
      }
    }
    batch.rows = r + 1;
    this.last = values;
    if (++this.groupRowCount === this.options.groupRows) this.endChunk();
    else if (batch.rows === VECTOR_ROWS) this.emit();
  }

  /** The rows of an unfinished chunk end it (the result set is over). */
  finish(): void {
    if (this.groupRowCount > 0) this.endChunk();
  }

  private endChunk(): void {
    if (this.batch.rows > 0) this.emit();
    const cursor = this.options.cursorIndexes.length && this.last
      ? this.options.cursorIndexes.map((i) => {
        const v = this.last![i];
        return v === null ? null : typeof v === "string" ? v : v.toString("utf8");
      })
      : undefined;
    this.onChunkEnd(cursor);
    this.ready.push({ chunkEnd: true, lastRow: cursor });
    this.groupRowCount = 0;
  }

  private emit(): void {
    const batch = this.batch;
    this.ready.push({
      batch,
      release: () => {
        batch.clear();
        this.pool.push(batch);
      },
    });
    this.batch = this.pool.pop() ?? new VectorBatch(this.widths);
  }
}
