// A SQL read's chunks for sources whose driver hands over rows (SQL Server, Oracle): the CSV blocks their
// shared block writer made go through DuckDB into Parquet (csv/chunks.ts, bronze's codec), and each chunk
// carries the cursor its last row ended on, so a killed load resumes after the last committed chunk.

import type { Engine } from "../../engine/engine.ts";
import { SourceError } from "../../errors.ts";
import { BRONZE_CODEC, type CsvBlock, csvToParquetChunks } from "../csv/chunks.ts";
import { defaultStaging } from "../csv/staging.ts";
import { cursorPosition } from "../incremental.ts";
import type { Chunk, ReadRequest } from "../source.ts";

export interface RowChunkOptions {
  /** Number of fields per CSV row (the selected columns). */
  readonly fieldCount: number;
  /** DuckDB select list over `c0…` typing and naming each column. */
  readonly selectList: string;
  /** Largest row, as CSV text. @default 8 MiB */
  readonly maxRowBytes?: number;
  /** Stop the source's query when the reader stops early. */
  readonly stopSource: () => void;
}

/** Refuse a request whose chunk size is not a positive whole number. */
export function requireChunkRows(request: ReadRequest): void {
  if (!Number.isInteger(request.chunkRows) || request.chunkRows < 1) throw new SourceError(`chunkRows must be a positive whole number (got ${request.chunkRows})`);
}

/** Chunks of `blocks`; `cursors` receives each chunk's last cursor values, in order, before its block ends the chunk. */
export async function* rowChunks(
  request: ReadRequest, engine: Engine, blocks: AsyncIterable<CsvBlock>,
  cursors: (readonly (string | null)[] | undefined)[], options: RowChunkOptions,
): AsyncGenerator<Chunk> {
  const chunks = csvToParquetChunks(blocks, engine, {
    workDir: request.workDir,
    fieldCount: options.fieldCount,
    selectList: options.selectList,
    codec: BRONZE_CODEC.codec,
    compressionLevel: BRONZE_CODEC.level,
    staging: defaultStaging,
    maxRowBytes: options.maxRowBytes,
    stopSource: options.stopSource,
  });
  for await (const chunk of chunks) {
    const cursor = cursors.shift();
    yield {
      file: chunk.file,
      rows: chunk.rows,
      bytes: chunk.bytes,
      lastCursor: request.slice && cursor ? cursorPosition(request.slice, cursor) : undefined,
    };
  }
}
