// The extraction pipeline for sources that decode rows themselves (PostgreSQL's binary COPY): batches of
// rows already in DuckDB's layout stream to a Parquet encoder (engine/parquet-encoder/: a DuckDB in a
// worker thread) while they are decoded, so the source's transfer, the decoding and the Parquet encoding
// all run at once, and the last chunk's encoding finishes with its last rows instead of starting then.
// No text travels between the source and DuckDB, and the rows are not copied into a table first (an
// appender's copy cost 0.3 CPU s per 2M rows on the JavaScript thread, measured). Memory stays bounded
// and flat in table size: a few dozen batches in flight, at most `inFlight` chunk files at once, and the
// source waits (TCP backpressure) while the encoder catches up.

import type { DuckDBType } from "@duckdb/node-api";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Engine } from "../../engine/engine.ts";
import type { VectorBatch } from "../../engine/parquet-encoder/batch.ts";
import { TABLE_FUNCTION } from "../../engine/parquet-encoder/encoder.ts";
import { quoteLiteral } from "../../engine/sql.ts";
import { handOn, OrderedQueue, Slots } from "../chunk-flow.ts";
import { type ParquetChunk, type ParquetChunkOptions, parquetOptions } from "../csv/chunks.ts";

/** A batch of rows to append (then `release` it), or the end of a chunk with its last row's cursor values. */
export type AppendEvent =
  | { readonly batch: VectorBatch; readonly release: () => void }
  | { readonly chunkEnd: true; readonly lastRow?: readonly (string | null)[] };

export interface AppendChunkOptions extends ParquetChunkOptions {
  /** DuckDB types of the batches' columns, read as `c0`, `c1`, …. */
  readonly stageTypes: readonly DuckDBType[];
  /** Their widths in the batches (VectorBatch), 0 for strings. */
  readonly widths: readonly number[];
}

/**
 * Parquet chunks of the batches, in order. Each file is removed when the iteration resumes after yielding
 * it, so the consumer must move or copy it first. Stopping early (break) stops the source.
 */
export async function* appendToParquetChunks(
  source: AsyncIterable<AppendEvent>,
  engine: Engine,
  options: AppendChunkOptions,
): AsyncGenerator<ParquetChunk> {
  const T = (w: string) => process.env.TRACE && console.error(`${performance.now().toFixed(0)} ${w}`);
  T("append start");
  const inFlight = Math.max(2, options.inFlight ?? 2);
  const dir = await mkdtemp(join(options.workDir, "chunks-"));
  const queue = new OrderedQueue<ParquetChunk>();
  const slots = new Slots(inFlight);
  const state = { stopped: false };
  const encoder = await engine.acquireParquetEncoder().catch(async (error: unknown) => {
    await rm(dir, { recursive: true, force: true });
    throw error;
  });

  T("encoder acquired");
  const produce = async (): Promise<void> => {
    let index = 0;
    let open: { file: string; rows: number; written: Promise<number>; lastRow?: readonly (string | null)[] } | undefined;
    try {
      for await (const event of source) {
        if (state.stopped) return;
        if (!open) {
          await slots.acquire();
          if (state.stopped) return;
          const file = join(dir, `chunk-${String(++index).padStart(6, "0")}.parquet`);
          const sql = `COPY (SELECT ${options.selectList} FROM ${TABLE_FUNCTION}()) TO ${quoteLiteral(file)} ${parquetOptions(options)}`;
          open = { file, rows: 0, written: encoder.begin(sql, options.stageTypes, options.widths) };
          T("chunk begin");
        }
        if ("batch" in event) {
          const rows = event.batch.rows;
          open.rows += rows;
          await encoder.send(event.batch, event.release);
          if (rows) options.onRows?.(rows);
        } else {
          encoder.end();
          T("chunk end sent");
          const chunk = open;
          open = undefined;
          queue.push(chunk.written.then(async (written) => {
            if (written !== chunk.rows) throw new Error(`DuckDB wrote ${written} rows of a chunk of ${chunk.rows}`);
            T("chunk written");
            const { size } = await stat(chunk.file);
            return { file: chunk.file, rows: chunk.rows, bytes: size, lastRow: event.lastRow };
          }));
        }
      }
      if (open) throw new Error("the source's stream ended in the middle of a chunk");
      queue.close();
    } catch (error) {
      queue.close(error);
    } finally {
      if (open) encoder.abort("the extraction stopped");
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
    await producer;
    await queue.drain();
    await encoder.settle();
    await engine.releaseParquetEncoder(encoder);
    await rm(dir, { recursive: true, force: true });
  }
}
