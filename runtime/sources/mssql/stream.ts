// A T-SQL query's rows (every column the server's text, see types.ts) → CSV blocks for the shared chunk
// pipeline (csv/chunks.ts). The request streams (mssql's `stream` mode) and is paused while enough blocks
// wait, so TDS backpressure reaches the server and memory stays bounded whatever the table's size.

import type { Request } from "mssql";
import type { CsvBlock } from "../csv/chunks.ts";

const BLOCK_BYTES = 1 << 20;
const PAUSE_AT = 8;
const RESUME_AT = 2;

/** One CSV line: NULL as an empty field, every value quoted (so '' is not NULL), quotes doubled. */
export function csvLine(values: readonly (string | null)[]): string {
  return values.map((v) => (v === null ? "" : `"${v.replace(/"/g, '""')}"`)).join(",") + "\n";
}

export interface MssqlRowStream {
  readonly groupRows: number;
  /** Positions of the cursor columns: each chunk's last row reports them. */
  readonly cursorIndexes: readonly number[];
  readonly maxRowBytes: number;
}

/** Run `sql` on `request` (in stream mode) and yield its rows as CSV blocks; `cursors` gets each chunk's last cursor values, in order. */
export async function* mssqlBlocks(request: Request, sql: string, options: MssqlRowStream, cursors: (readonly (string | null)[] | undefined)[]): AsyncGenerator<CsvBlock> {
  const ready: CsvBlock[] = [];
  let lines: string[] = [];
  let bytes = 0;
  let blockRows = 0;
  let chunkRows = 0;
  let rowNumber = 0;
  let last: (string | null)[] | undefined;
  let failure: unknown;
  let ended = false;
  let paused = false;
  let wake: (() => void) | undefined;
  const notify = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const flush = (chunkEnd: boolean) => {
    if (!lines.length && !chunkEnd) return;
    ready.push({ data: Buffer.from(lines.join(""), "utf8"), rows: blockRows, chunkEnd });
    lines = [];
    bytes = 0;
    blockRows = 0;
  };
  request.stream = true;
  request.arrayRowMode = true;
  request.on("row", (row: unknown[]) => {
    if (failure !== undefined) return;
    rowNumber++;
    const values = row.map((v) => (v === null || v === undefined ? null : String(v)));
    const line = csvLine(values);
    if (line.length > options.maxRowBytes) {
      failure = new Error(`row ${rowNumber} is ${line.length} bytes as CSV, more than the ${options.maxRowBytes} bytes a row may have (raise maxRowBytes)`);
      request.cancel();
      notify();
      return;
    }
    lines.push(line);
    bytes += line.length;
    blockRows++;
    if (options.cursorIndexes.length) last = options.cursorIndexes.map((i) => values[i]);
    if (++chunkRows === options.groupRows) {
      cursors.push(last);
      flush(true);
      chunkRows = 0;
    } else if (bytes >= BLOCK_BYTES) {
      flush(false);
    }
    if (ready.length >= PAUSE_AT && !paused) {
      paused = true;
      request.pause();
    }
    if (ready.length) notify();
  });
  request.on("error", (error: unknown) => {
    failure ??= error;
    notify();
  });
  request.on("done", () => {
    if (chunkRows > 0) {
      cursors.push(last);
      flush(true);
    }
    ended = true;
    notify();
  });
  void request.query(sql).catch(() => undefined); // failures arrive as "error" events
  for (;;) {
    if (failure !== undefined) throw failure;
    const block = ready.shift();
    if (block) {
      if (paused && ready.length < RESUME_AT) {
        paused = false;
        request.resume();
      }
      yield block;
      continue;
    }
    if (ended) return;
    await new Promise<void>((resolve) => (wake = resolve));
  }
}
