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
import { type ParquetEncoder, TABLE_FUNCTION } from "../../engine/parquet-encoder/encoder.ts";
import { quoteLiteral } from "../../engine/sql.ts";
import { handOn, OrderedQueue, Slots } from "../chunk-flow.ts";
import { type ParquetChunk, type ParquetChunkOptions, parquetOptions } from "../csv/chunks.ts";

/** A batch of rows to append (then `release` it), or the end of a chunk with its last row's cursor values. */
export type AppendEvent =
  | { readonly batch: VectorBatch; readonly release: () => void }
  | { readonly chunkEnd: true; readonly lastRow?: readonly (string | null)[] };

/** Decoded bytes that may wait for the encoder's thread to start (~50–100 ms of decoding). */
const BACKLOG_BYTES = 32 << 20;

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
  const inFlight = Math.max(2, options.inFlight ?? 2);
  const dir = await mkdtemp(join(options.workDir, "chunks-"));
  const queue = new OrderedQueue<ParquetChunk>();
  const slots = new Slots(inFlight);
  const state = { stopped: false };
  // The source starts at once: while the encoder's thread starts, decoded batches wait in a backlog.
  const encoding = engine.acquireParquetEncoder();
  let started: ParquetEncoder | undefined;
  encoding.then((encoder) => (started = encoder), () => {});

  const produce = async (): Promise<void> => {
    let encoder: ParquetEncoder | undefined;
    let index = 0;
    let open: { file: string; rows: number; written: Promise<number> } | undefined;
    const backlog: AppendEvent[] = [];
    let backlogBytes = 0;

    const handle = async (encoder: ParquetEncoder, event: AppendEvent): Promise<void> => {
      if (!open) {
        await slots.acquire();
        if (state.stopped) return;
        const file = join(dir, `chunk-${String(++index).padStart(6, "0")}.parquet`);
        const sql = `COPY (SELECT ${options.selectList} FROM ${TABLE_FUNCTION}()) TO ${quoteLiteral(file)} ${parquetOptions(options)}`;
        open = { file, rows: 0, written: encoder.begin(sql, options.stageTypes, options.widths) };
      }
      if ("batch" in event) {
        const rows = event.batch.rows;
        open.rows += rows;
        await encoder.send(event.batch, event.release);
        if (rows) options.onRows?.(rows);
        return;
      }
      encoder.end();
      const chunk = open;
      open = undefined;
      queue.push(chunk.written.then(async (written) => {
        if (written !== chunk.rows) throw new Error(`DuckDB wrote ${written} rows of a chunk of ${chunk.rows}`);
        const { size } = await stat(chunk.file);
        return { file: chunk.file, rows: chunk.rows, bytes: size, lastRow: event.lastRow };
      }));
    };

    /** Take the encoder and give it the backlog (`encoder` is set first: a failure here still aborts its chunk). */
    const ready = async (): Promise<ParquetEncoder> => {
      const taken = (encoder = await encoding);
      for (const event of backlog.splice(0)) if (!state.stopped) await handle(taken, event);
      return taken;
    };

    try {
      for await (const event of source) {
        if (state.stopped) return;
        if (!encoder) {
          if (!started && backlogBytes < BACKLOG_BYTES) {
            backlog.push(event);
            backlogBytes += "batch" in event ? event.batch.bytes : 0;
            continue;
          }
          encoder = await ready();
        }
        await handle(encoder, event);
      }
      if (!encoder && backlog.length > 0) encoder = await ready();
      if (open) throw new Error("the source's stream ended in the middle of a chunk");
      queue.close();
    } catch (error) {
      queue.close(error);
    } finally {
      if (open) encoder?.abort("the extraction stopped");
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
    const encoder = await encoding.catch(() => undefined);
    if (encoder) {
      await encoder.settle();
      await engine.releaseParquetEncoder(encoder);
    }
    await rm(dir, { recursive: true, force: true });
  }
}
