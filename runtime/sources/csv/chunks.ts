// The extraction pipeline shared by sources that can stream CSV: cut the byte stream into chunks of
// `chunkRows` rows and have DuckDB turn each into a Parquet file with explicit column types, while the
// next chunk keeps streaming. The source's process and DuckDB each hold a core; memory stays bounded
// because bytes flow with backpressure and at most `inFlight` chunks exist at once.

import type { DuckDBConnection } from "@duckdb/node-api";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { type Engine, queryRows } from "../../engine/engine.ts";
import { quoteLiteral } from "../../engine/sql.ts";
import { CsvRowScanner, parseCsvRow } from "./rows.ts";
import { openStage, type StagedChunk, type StagingMode } from "./staging.ts";

/** Parquet codecs a chunk can be written with. Bronze's choice and its measurement: docs/extraction.md. */
export type ChunkCodec = "zstd" | "snappy" | "uncompressed" | "lz4_raw";

export interface CsvChunkOptions {
  readonly chunkRows: number;
  /** Folder for the chunk files (a fresh subfolder is made and removed). */
  readonly workDir: string;
  /** Number of CSV fields per row; DuckDB reads them as VARCHAR columns `c0`, `c1`, …. */
  readonly fieldCount: number;
  /** DuckDB select list over `c0…` giving the Parquet columns, their names and types. */
  readonly selectList: string;
  /** Keep each chunk's last row parsed into fields (for cursor checkpoints). */
  readonly keepLastRow: boolean;
  readonly codec: ChunkCodec;
  readonly staging: StagingMode;
  /** Chunks that may exist at once: streaming, converting, or held by the consumer. @default 2 */
  readonly inFlight?: number;
}

export interface CsvParquetChunk {
  readonly file: string;
  readonly rows: number;
  readonly bytes: number;
  /** Fields of the chunk's last row as the source wrote them (NULL as null), when `keepLastRow`. */
  readonly lastRow?: readonly (string | null)[];
}

/** Large rows (big jsonb, text) must fit DuckDB's line limit; the buffer must hold a few lines. */
const MAX_LINE_BYTES = 64 << 20;
const BUFFER_BYTES = 128 << 20;

/**
 * Parquet chunks of the CSV `source`, in order. Each file is removed when the iteration resumes after
 * yielding it, so the consumer must move or copy it first. Stopping early (break) stops the source.
 */
export async function* csvToParquetChunks(
  source: Readable,
  engine: Engine,
  options: CsvChunkOptions,
): AsyncGenerator<CsvParquetChunk> {
  const inFlight = Math.max(2, options.inFlight ?? 2);
  const dir = await mkdtemp(join(options.workDir, "chunks-"));
  const connections = new Map<number, DuckDBConnection>();
  const queue = new OrderedQueue<CsvParquetChunk>();
  const slots = new Slots(inFlight);
  const state: { stopped: boolean; stage?: StagedChunk } = { stopped: false };

  const convert = (index: number, parquet: string) => async (csvPath: string): Promise<number> => {
    const slot = index % inFlight;
    const con = connections.get(slot) ?? connections.set(slot, await engine.connect()).get(slot)!;
    const rows = await queryRows<{ Count: bigint }>(con, conversionSql(csvPath, parquet, options));
    return Number(rows[0].Count);
  };

  const produce = async (): Promise<void> => {
    const scanner = new CsvRowScanner(options.keepLastRow);
    let index = 0;
    let rowsInChunk = 0;
    let parquet = "";
    const complete = (stage: StagedChunk, rows: number, file: string) => {
      const lastRow = options.keepLastRow ? scanner.takeLastRow() : undefined;
      queue.push(finishChunk(stage, rows, file, lastRow));
    };
    try {
      for await (const buf of source as AsyncIterable<Buffer>) {
        let pos = 0;
        while (pos < buf.length) {
          if (state.stopped) return;
          if (!state.stage) {
            await slots.acquire();
            if (state.stopped) return;
            index++;
            parquet = join(dir, `chunk-${String(index).padStart(6, "0")}.parquet`);
            state.stage = await openStage(options.staging, join(dir, `chunk-${index}.csv`), convert(index, parquet));
          }
          const { rows, end } = scanner.scan(buf, pos, options.chunkRows - rowsInChunk);
          await state.stage.write(buf.subarray(pos, end));
          rowsInChunk += rows;
          pos = end;
          if (rowsInChunk === options.chunkRows) {
            complete(state.stage, rowsInChunk, parquet);
            state.stage = undefined;
            rowsInChunk = 0;
          }
        }
      }
      if (scanner.midRow) throw new Error("the source's CSV stream ended in the middle of a row");
      if (state.stage && rowsInChunk > 0) {
        complete(state.stage, rowsInChunk, parquet);
        state.stage = undefined;
      }
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
    for (;;) {
      const next = await queue.next();
      if (next === undefined) break;
      const chunk = await next;
      try {
        yield chunk;
      } finally {
        await rm(chunk.file, { force: true });
        slots.release();
      }
    }
    completed = true;
  } finally {
    state.stopped = true;
    slots.cancel();
    // Stop the source only when stopping early: after a clean end its connection is still in use.
    if (!completed) source.destroy();
    await state.stage?.abort().catch(() => {});
    await producer;
    await queue.drain();
    for (const con of connections.values()) con.closeSync();
    await rm(dir, { recursive: true, force: true });
  }
}

async function finishChunk(stage: StagedChunk, rows: number, file: string, lastRow: Buffer | undefined): Promise<CsvParquetChunk> {
  const converted = await stage.finish();
  if (converted !== rows) throw new Error(`DuckDB read ${converted} rows from a chunk of ${rows} (a CSV framing mismatch)`);
  const { size } = await stat(file);
  return { file, rows, bytes: size, lastRow: lastRow && parseCsvRow(lastRow.toString("utf8")) };
}

/** DuckDB statement converting one CSV chunk to Parquet: every field read as text, typed by `selectList`. */
export function conversionSql(csvPath: string, parquet: string, options: Pick<CsvChunkOptions, "fieldCount" | "selectList" | "codec">): string {
  const columns = Array.from({ length: options.fieldCount }, (_, i) => `'c${i}': 'VARCHAR'`).join(", ");
  const csv = `read_csv(${quoteLiteral(csvPath)}, columns = {${columns}}, header = false, auto_detect = false, ` +
    `delim = ',', quote = '"', escape = '"', new_line = '\\n', allow_quoted_nulls = false, ` +
    `max_line_size = ${MAX_LINE_BYTES}, buffer_size = ${BUFFER_BYTES})`;
  return `COPY (SELECT ${options.selectList} FROM ${csv}) TO ${quoteLiteral(parquet)} ` +
    `(FORMAT parquet, COMPRESSION ${options.codec}, ROW_GROUP_SIZE 122880)`;
}

/** Promises of chunks in production order; `next` waits for one to be pushed or for the end. */
class OrderedQueue<T> {
  private readonly items: Promise<T>[] = [];
  private closed = false;
  private failure: unknown;
  private wake: (() => void) | undefined;

  push(item: Promise<T>): void {
    item.catch(() => {}); // awaited later by `next`'s caller; must not count as unhandled meanwhile
    this.items.push(item);
    this.wake?.();
  }

  close(failure?: unknown): void {
    this.closed = true;
    this.failure = failure;
    this.wake?.();
  }

  async next(): Promise<Promise<T> | undefined> {
    while (this.items.length === 0) {
      if (this.closed) {
        if (this.failure !== undefined) throw this.failure;
        return undefined;
      }
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
    return this.items.shift();
  }

  /** Wait for chunks nobody will take (after an early stop), so their DuckDB work ends before cleanup. */
  async drain(): Promise<void> {
    await Promise.allSettled(this.items.splice(0));
  }
}

/** A counting semaphore that can be cancelled (waiters resume and see the stop flag). */
class Slots {
  private waiters: (() => void)[] = [];

  constructor(private free: number) {}

  async acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.free++;
  }

  cancel(): void {
    for (const wake of this.waiters.splice(0)) wake();
    this.free = Number.POSITIVE_INFINITY;
  }
}
