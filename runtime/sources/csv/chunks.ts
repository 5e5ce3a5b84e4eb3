// The extraction pipeline shared by sources that can stream CSV: the source frames its byte stream into
// chunks (whole rows), and DuckDB turns each into a Parquet file with explicit column types while the
// next chunk keeps streaming. The source's process and DuckDB each hold a core; memory stays bounded
// because bytes flow with backpressure and at most `inFlight` chunks exist at once.

import type { DuckDBConnection } from "@duckdb/node-api";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { type Engine, queryRows } from "../../engine/engine.ts";
import { quoteLiteral } from "../../engine/sql.ts";
import { handOn, OrderedQueue, Slots } from "../chunk-flow.ts";
import { parseCsvRow } from "./rows.ts";
import { createStaging, type StagedChunk, type StagingMode } from "./staging.ts";

/** Parquet codecs a chunk can be written with. Bronze's choice and its measurement: docs/extraction.md. */
export type ChunkCodec = "zstd" | "snappy" | "uncompressed" | "lz4_raw";

/** Bronze's Parquet codec and level, for every source: see docs/extraction.md ("Codec"). */
export const BRONZE_CODEC: { readonly codec: ChunkCodec; readonly level?: number } = { codec: "zstd", level: 1 };

/**
 * Bronze's Parquet layout, for every source that streams rows (databases, REST APIs; a file drop's files
 * are converted in one DuckDB COPY with the engine's defaults): version 2 data pages and encodings (delta-encoded integers
 * and string lengths) and no dictionary pages. Bronze is read by Mallard's own models (DuckDB); silver
 * and gold, which other tools read, keep version 1 pages. Against v1 with dictionaries it costs less than
 * half the CPU to write and is a third smaller (docs/extraction.md, "Codec per layer").
 */
export const BRONZE_LAYOUT: ParquetLayout = { pageVersion: "v2", dictionary: false };

/** How a chunk's Parquet pages are laid out (BRONZE_LAYOUT unless a connector is told otherwise). */
export interface ParquetLayout {
  /** v1: data page v1, PLAIN encodings; v2: data page v2, delta encodings. */
  readonly pageVersion: "v1" | "v2";
  /** Dictionary-encode columns (DuckDB drops the dictionary of a column with too many distinct values). */
  readonly dictionary: boolean;
}

/** Bytes of a CSV stream, framed by the source: rows completed in it, and where chunks end. */
export interface CsvBlock {
  readonly data: Buffer;
  /** Rows whose last byte is in this block. */
  readonly rows: number;
  /** The chunk ends with this block (at a row boundary). */
  readonly chunkEnd: boolean;
  /** With `chunkEnd`, when asked for: the chunk's last row as the source wrote it, without the newline. */
  readonly lastRow?: Buffer;
  /** Called once `data` has been written out: the source may reuse its memory. */
  readonly release?: () => void;
}

/** What every chunk pipeline takes (this one and append/parquet-chunks.ts), besides its input's own options. */
export interface ParquetChunkOptions {
  /** Folder for the chunk files (a fresh subfolder is made and removed). */
  readonly workDir: string;
  /** DuckDB select list over `c0…` giving the Parquet columns, their names and types. */
  readonly selectList: string;
  readonly codec: ChunkCodec;
  /** zstd level (1 is the bronze choice: see docs/extraction.md). */
  readonly compressionLevel?: number;
  /** Rows per Parquet row group. @default 122880 (DuckDB's) */
  readonly rowGroupRows?: number;
  /** @default BRONZE_LAYOUT */
  readonly layout?: ParquetLayout;
  /** Chunks that may exist at once: filling, converting, or held by the consumer. @default 2 */
  readonly inFlight?: number;
  /** Stop the source when the consumer stops early (close its connection). */
  readonly stopSource: () => void;
  /** Told the rows of each block or batch as it arrives (progress). */
  readonly onRows?: (rows: number) => void;
}

/** A chunk's Parquet file, as every chunk pipeline hands it on. */
export interface ParquetChunk {
  readonly file: string;
  readonly rows: number;
  readonly bytes: number;
  /** Fields of the chunk's last row as the source wrote them (NULL as null), when the source kept it. */
  readonly lastRow?: readonly (string | null)[];
}

export interface CsvChunkOptions extends ParquetChunkOptions {
  /** Number of CSV fields per row; DuckDB reads them as VARCHAR columns `c0`, `c1`, …. */
  readonly fieldCount: number;
  readonly staging: StagingMode;
  /** Largest row, in CSV bytes. @default 8 MiB */
  readonly maxRowBytes?: number;
}

/**
 * DuckDB's CSV buffer. Small buffers cost less CPU and memory than large ones (measured: 8 MB beat 32 and
 * 128 MB); a row's CSV text must fit in one, so this is also the largest row. Raise `maxRowBytes` for
 * tables with bigger rows.
 */
export const DEFAULT_MAX_ROW_BYTES = 8 << 20;

/**
 * Parquet chunks of the framed CSV `source`, in order. Each file is removed when the iteration resumes
 * after yielding it, so the consumer must move or copy it first. Stopping early (break) stops the source.
 */
export async function* csvToParquetChunks(
  source: AsyncIterable<CsvBlock>,
  engine: Engine,
  options: CsvChunkOptions,
): AsyncGenerator<ParquetChunk> {
  const inFlight = Math.max(2, options.inFlight ?? 2);
  const dir = await mkdtemp(join(options.workDir, "chunks-"));
  const connections = new Map<number, DuckDBConnection>();
  const queue = new OrderedQueue<ParquetChunk>();
  const slots = new Slots(inFlight);
  const state: { stopped: boolean; stage?: StagedChunk } = { stopped: false };

  const convert = (index: number, parquet: string) => async (csvPath: string): Promise<number> => {
    const slot = index % inFlight;
    const con = connections.get(slot) ?? connections.set(slot, await engine.connect()).get(slot)!;
    const rows = await queryRows<{ Count: bigint }>(con, conversionSql(csvPath, parquet, options));
    return Number(rows[0].Count);
  };

  const produce = async (): Promise<void> => {
    const staging = await createStaging(options.staging, dir, inFlight);
    let index = 0;
    let rowsInChunk = 0;
    let parquet = "";
    try {
      for await (const block of source) {
        if (state.stopped) return;
        if (!state.stage) {
          await slots.acquire();
          if (state.stopped) return;
          index++;
          parquet = join(dir, `chunk-${String(index).padStart(6, "0")}.parquet`);
          state.stage = await staging.open(index, convert(index, parquet));
        }
        if (block.data.length) await state.stage.write(block.data, block.release);
        else block.release?.();
        rowsInChunk += block.rows;
        if (block.rows) options.onRows?.(block.rows);
        if (block.chunkEnd) {
          queue.push(finishChunk(state.stage, rowsInChunk, parquet, block.lastRow));
          state.stage = undefined;
          rowsInChunk = 0;
        }
      }
      if (state.stage) throw new Error("the source's CSV stream ended in the middle of a chunk");
      queue.close();
    } catch (error) {
      queue.close(error);
    } finally {
      const stage = state.stage;
      state.stage = undefined;
      await stage?.abort().catch(() => {});
    }
  };

  const producer = produce();
  let completed = false;
  try {
    yield* handOn(queue, slots);
    completed = true;
  } finally {
    state.stopped = true;
    slots.cancel();
    // Stop the source only when stopping early: after a clean end its connection is still in use.
    if (!completed) options.stopSource();
    await state.stage?.abort().catch(() => {});
    await producer;
    await queue.drain();
    for (const con of connections.values()) con.closeSync();
    await rm(dir, { recursive: true, force: true });
  }
}

async function finishChunk(stage: StagedChunk, rows: number, file: string, lastRow: Buffer | undefined): Promise<ParquetChunk> {
  const converted = await stage.finish();
  if (converted !== rows) throw new Error(`DuckDB read ${converted} rows from a chunk of ${rows} (a CSV framing mismatch)`);
  const { size } = await stat(file);
  return { file, rows, bytes: size, lastRow: lastRow && parseCsvRow(lastRow.toString("utf8")) };
}

/** DuckDB statement converting one CSV chunk to Parquet: every field read as text, typed by `selectList`. */
export function conversionSql(
  csvPath: string,
  parquet: string,
  options: Pick<CsvChunkOptions, "fieldCount" | "selectList" | "codec" | "compressionLevel" | "maxRowBytes" | "rowGroupRows" | "layout">,
): string {
  const maxRow = options.maxRowBytes ?? DEFAULT_MAX_ROW_BYTES;
  const columns = Array.from({ length: options.fieldCount }, (_, i) => `'c${i}': 'VARCHAR'`).join(", ");
  const csv = `read_csv(${quoteLiteral(csvPath)}, columns = {${columns}}, header = false, auto_detect = false, ` +
    `delim = ',', quote = '"', escape = '"', new_line = '\\n', allow_quoted_nulls = false, ` +
    `max_line_size = ${maxRow}, buffer_size = ${maxRow})`;
  return `COPY (SELECT ${options.selectList} FROM ${csv}) TO ${quoteLiteral(parquet)} ${parquetOptions(options)}`;
}

/** The options of a chunk's `COPY … TO 'x.parquet'`: codec, level, row-group size and page layout. */
export function parquetOptions(options: { codec: ChunkCodec; compressionLevel?: number; rowGroupRows?: number; layout?: ParquetLayout }): string {
  const level = options.compressionLevel === undefined ? "" : `, COMPRESSION_LEVEL ${options.compressionLevel}`;
  const { pageVersion, dictionary } = options.layout ?? BRONZE_LAYOUT;
  const layout = `, PARQUET_VERSION ${pageVersion}${dictionary ? "" : ", DICTIONARY_SIZE_LIMIT 0"}`;
  return `(FORMAT parquet, COMPRESSION ${options.codec}${level}${layout}, ROW_GROUP_SIZE ${options.rowGroupRows ?? 122880})`;
}
