// A MySQL query's rows → VARCHAR batches for the Parquet encoder (append/row-batches.ts): each row packet
// of the text protocol is read in place (text-rows.ts: no JS numbers, dates, strings or Buffers are made),
// each value copied once into a batch, and DuckDB casts them to their types in the encoder's thread. The connection's
// socket is paused while enough batches wait (pushed-rows.ts), so TCP backpressure reaches the server and
// memory stays bounded whatever the table's size.

import type mysql from "mysql2";
import type { AppendEvent } from "../append/parquet-chunks.ts";
import { RowBatcher } from "../append/row-batches.ts";
import { pushedRows } from "../pushed-rows.ts";
import { cutConnection } from "./connect.ts";
import { type MysqlPacket, MysqlTextRows } from "./text-rows.ts";

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
  const rows = new MysqlTextRows(options.zeroDates, options.cursorIndexes);
  const batcher = new RowBatcher(rows, options.groupRows, () => facts.push({ zeroDates: rows.takeZeroDates() }));
  return pushedRows(batcher, (push) => {
    const query = connection.query({ sql, rowsAsArray: true, typeCast: false });
    // mysql2 emits as a row whatever its per-result row parser returns from the packet; this one returns
    // the packet itself, read in place by MysqlTextRows, so no value is made per field. The parser is the
    // query's `_rowParser` (mysql2 3.x, pinned by the lockfile), which mysql2 sets once the columns are
    // read: the setter keeps ours (tested by test/runtime/sources/mysql: types, chunks, cursors, NULLs).
    Object.defineProperty(query, "_rowParser", { configurable: true, get: () => PACKET_AS_ROW, set: () => {} });
    query.on("result", (row) => {
      const packet = row as unknown as MysqlPacket;
      if (typeof packet.offset !== "number") return push.fail(new Error("mysql2 no longer hands row packets to its query's _rowParser: this mysql2 version is not supported"));
      push.row(packet);
    });
    query.on("error", (error) => push.fail(error));
    query.on("end", () => push.end());
    return { pause: () => connection.pause(), resume: () => connection.resume(), stop: () => cutConnection(connection) };
  }, { pauseAt: PAUSE_AT, resumeAt: RESUME_AT });
}

/** A row parser that hands the packet on. */
const PACKET_AS_ROW = { next: (packet: MysqlPacket): MysqlPacket => packet };
