// A MySQL query's rows → CSV blocks for the shared chunk pipeline (csv/chunks.ts). Rows arrive as the
// text protocol's bytes (typeCast: false: no JS numbers, dates or strings are made) and go through the
// shared block writer (csv/blocks.ts), which pauses the connection's socket while enough blocks wait, so
// TCP backpressure reaches the server and memory stays bounded whatever the table's size.

import type mysql from "mysql2";
import { BlockWriter, pushedBlocks } from "../csv/blocks.ts";
import type { CsvBlock } from "../csv/chunks.ts";
import { cutConnection } from "./connect.ts";

export interface RowStreamOptions {
  /** Rows per chunk: a block ends a chunk every `groupRows` rows. */
  readonly groupRows: number;
  /** Per column: its text never needs CSV quoting (numbers, dates, hex), except to tell empty from NULL. */
  readonly plain: readonly boolean[];
  /** Per column: a date or datetime whose zero values (`0000-00-00`, `2024-00-15`) are counted. */
  readonly zeroDates: readonly boolean[];
  /** Columns whose values each chunk's last row reports (the cursor). */
  readonly cursorIndexes: readonly number[];
  readonly maxRowBytes: number;
}

/** What one chunk's rows held besides the rows: its last cursor values and its zero dates per column. */
export interface ChunkFacts {
  readonly cursor?: readonly (string | null)[];
  readonly zeroDates: readonly number[];
}

/**
 * Run `sql` and yield its rows as CSV blocks. `facts` receives one entry per chunk, in order, pushed
 * before the block that ends the chunk is yielded.
 */
export function queryBlocks(connection: mysql.Connection, sql: string, options: RowStreamOptions, facts: ChunkFacts[]): AsyncGenerator<CsvBlock> {
  const zero = options.zeroDates;
  const counting = zero.some(Boolean);
  let zeroDates = zero.map(() => 0);
  const writer = new BlockWriter(options, (cursor) => {
    facts.push({ cursor, zeroDates });
    zeroDates = zero.map(() => 0);
  });
  return pushedBlocks(writer, (push) => {
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
  });
}

/** Count dates with a zero month or day (`YYYY-MM-DD…`: month at 5-6, day at 8-9) in the flagged columns. */
function countZeroDates(values: readonly (Buffer | null)[], zero: readonly boolean[], counts: number[]): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (zero[i] && v !== null && v.length >= 10 && ((v[5] === 0x30 && v[6] === 0x30) || (v[8] === 0x30 && v[9] === 0x30))) counts[i]++;
  }
}
