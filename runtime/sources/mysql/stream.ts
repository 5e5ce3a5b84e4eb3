// A MySQL query's rows → VARCHAR batches for the Parquet encoder (append/row-batches.ts): rows arrive as
// the text protocol's bytes (typeCast: false: no JS numbers, dates or strings are made), each value is
// copied once into a batch, and DuckDB casts them to their types in the encoder's thread. The connection's
// socket is paused while enough batches wait (pushed-rows.ts), so TCP backpressure reaches the server and
// memory stays bounded whatever the table's size.

import type mysql from "mysql2";
import type { AppendEvent } from "../append/parquet-chunks.ts";
import { RowBatcher } from "../append/row-batches.ts";
import { pushedRows } from "../pushed-rows.ts";
import { cutConnection } from "./connect.ts";

/** Batches (2048 rows each) waiting for the encoder before the connection pauses, and how few before it resumes. */
const PAUSE_AT = 16;
const RESUME_AT = 4;

export interface RowStreamOptions {
  /** Rows per chunk. */
  readonly groupRows: number;
  /** Per column: a date or datetime whose zero values (`0000-00-00`, `2024-00-15`) are counted. */
  readonly zeroDates: readonly boolean[];
  /** Columns whose values each chunk's last row reports (the cursor). */
  readonly cursorIndexes: readonly number[];
}

/** What one chunk's rows held besides the rows: its zero dates per column. */
export interface ChunkFacts {
  readonly zeroDates: readonly number[];
}

/**
 * Run `sql` and yield its rows as batches, a chunk's end carrying its last cursor values. `facts` receives
 * one entry per chunk, in order, pushed before the chunk's end is yielded.
 */
export function queryBatches(connection: mysql.Connection, sql: string, options: RowStreamOptions, facts: ChunkFacts[]): AsyncGenerator<AppendEvent> {
  const zero = options.zeroDates;
  const counting = zero.some(Boolean);
  let zeroDates = zero.map(() => 0);
  const batcher = new RowBatcher({ columns: zero.length, groupRows: options.groupRows, cursorIndexes: options.cursorIndexes }, () => {
    facts.push({ zeroDates });
    zeroDates = zero.map(() => 0);
  });
  return pushedRows(batcher, (push) => {
    const query = connection.query({ sql, rowsAsArray: true, typeCast: false });
    query.on("result", (row) => {
      const values = row as unknown as readonly (Buffer | null)[];
      // Counted before the row is written: its chunk may end with it.
      if (counting) countZeroDates(values, zero, zeroDates);
      push.row(values);
    });
    query.on("error", (error) => push.fail(error));
    query.on("end", () => push.end());
    return { pause: () => connection.pause(), resume: () => connection.resume(), stop: () => cutConnection(connection) };
  }, { pauseAt: PAUSE_AT, resumeAt: RESUME_AT });
}

/** Count dates with a zero month or day (`YYYY-MM-DD…`: month at 5-6, day at 8-9) in the flagged columns. */
function countZeroDates(values: readonly (Buffer | null)[], zero: readonly boolean[], counts: number[]): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (zero[i] && v !== null && v.length >= 10 && ((v[5] === 0x30 && v[6] === 0x30) || (v[8] === 0x30 && v[9] === 0x30))) counts[i]++;
  }
}
