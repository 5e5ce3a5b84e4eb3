// A T-SQL query's rows (every column the server's text, see types.ts) → CSV blocks for the shared chunk
// pipeline (csv/chunks.ts), through the shared block writer (csv/blocks.ts). The request streams (mssql's
// `stream` mode) and is paused while enough blocks wait, so TDS backpressure reaches the server and
// memory stays bounded whatever the table's size.

import type { Request } from "mssql";
import { BlockWriter, pushedBlocks } from "../csv/blocks.ts";
import type { CsvBlock } from "../csv/chunks.ts";

export interface MssqlRowStream {
  readonly groupRows: number;
  /** Positions of the cursor columns: each chunk's last row reports them. */
  readonly cursorIndexes: readonly number[];
  readonly maxRowBytes: number;
}

/** Run `sql` on `request` (in stream mode) and yield its rows as CSV blocks; `cursors` gets each chunk's last cursor values, in order. */
export function mssqlBlocks(request: Request, sql: string, options: MssqlRowStream, cursors: (readonly (string | null)[] | undefined)[]): AsyncGenerator<CsvBlock> {
  const writer = new BlockWriter(options, (cursor) => cursors.push(cursor));
  return pushedBlocks(writer, (push) => {
    request.stream = true;
    request.arrayRowMode = true;
    request.on("row", (row: unknown[]) => push.row(row.map((v) => (v === null || v === undefined ? null : String(v)))));
    request.on("error", (error: unknown) => push.fail(error));
    request.on("done", () => push.end());
    void request.query(sql).catch(() => undefined); // failures arrive as "error" events
    return { pause: () => request.pause(), resume: () => request.resume(), stop: () => request.cancel() };
  });
}
