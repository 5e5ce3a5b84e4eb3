// The extraction pipeline for sources that decode rows themselves (PostgreSQL's binary COPY): batches of
// rows already in DuckDB's layout are held per chunk, and once a chunk is complete DuckDB writes it to
// Parquet (through a typed SELECT) from a table function that hands it the batches, while the next chunk
// is decoded. No text travels between the source and DuckDB, and the rows are not copied into a table
// first (an appender's copy cost 0.3 CPU s per 2M rows on the JavaScript thread, measured). Memory stays
// bounded: at most `inFlight` chunks exist at once, and the source waits (TCP backpressure) while they do.

import { BIGINT, type DuckDBConnection, DuckDBTableFunction, type DuckDBType } from "@duckdb/node-api";
import duckdb from "@duckdb/node-bindings";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { type Engine, queryRows } from "../../engine/engine.ts";
import { quoteLiteral } from "../../engine/sql.ts";
import { handOn, OrderedQueue, Slots } from "../chunk-flow.ts";
import { type ParquetChunk, type ParquetChunkOptions, parquetOptions } from "../csv/chunks.ts";
import type { VectorBatch } from "./vector-batch.ts";

/** A batch of rows to append (then `release` it), or the end of a chunk with its last row's cursor values. */
export type AppendEvent =
  | { readonly batch: VectorBatch; readonly release: () => void }
  | { readonly chunkEnd: true; readonly lastRow?: readonly (string | null)[] };

export interface AppendChunkOptions extends ParquetChunkOptions {
  /** DuckDB types of the batches' columns, appended as `c0`, `c1`, …. */
  readonly stageTypes: readonly DuckDBType[];
}

interface Held {
  readonly index: number;
  readonly batches: { batch: VectorBatch; release: () => void }[];
  rows: number;
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
  const state: { stopped: boolean; held?: Held } = { stopped: false };
  const ready = new Map<number, Held>();
  // One connection converts chunks in order; its table function reads the chunk named by its argument.
  const name = `mallard_batches_${randomBytes(6).toString("hex")}`;
  const con: DuckDBConnection = await engine.connectSingleThreaded();
  con.registerTableFunction(batchScan(name, options.stageTypes, ready));
  let converting: Promise<unknown> = Promise.resolve();

  const convert = (held: Held, lastRow: readonly (string | null)[] | undefined): Promise<ParquetChunk> => {
    const parquet = join(dir, `chunk-${String(held.index).padStart(6, "0")}.parquet`);
    const run = converting.catch(() => {}).then(async () => {
      ready.set(held.index, held);
      try {
        const [{ Count }] = await queryRows<{ Count: bigint }>(
          con,
          `COPY (SELECT ${options.selectList} FROM ${name}(${held.index})) TO ${quoteLiteral(parquet)} ${parquetOptions(options)}`,
        );
        if (Number(Count) !== held.rows) throw new Error(`DuckDB wrote ${Count} rows of a chunk of ${held.rows}`);
      } finally {
        ready.delete(held.index);
        for (const b of held.batches.splice(0)) b.release();
      }
      const { size } = await stat(parquet);
      return { file: parquet, rows: held.rows, bytes: size, lastRow };
    });
    converting = run;
    return run;
  };

  const produce = async (): Promise<void> => {
    let index = 0;
    try {
      for await (const event of source) {
        if (state.stopped) return;
        if (!state.held) {
          await slots.acquire();
          if (state.stopped) return;
          state.held = { index: ++index, batches: [], rows: 0 };
        }
        const held = state.held;
        if ("batch" in event) {
          held.rows += event.batch.rows;
          held.batches.push(event);
          if (event.batch.rows) options.onRows?.(event.batch.rows);
        } else {
          queue.push(convert(held, event.lastRow));
          state.held = undefined;
        }
      }
      if (state.held) throw new Error("the source's stream ended in the middle of a chunk");
      queue.close();
    } catch (error) {
      queue.close(error);
    } finally {
      state.held = undefined;
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
    await converting.catch(() => {});
    con.closeSync();
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * `name(index)`: the held batches of chunk `index`, one per call, as columns `c0…`. DuckDB calls it from
 * its thread; the callback runs on the JavaScript thread and only copies a batch into the output vectors.
 */
function batchScan(name: string, types: readonly DuckDBType[], ready: ReadonlyMap<number, Held>): DuckDBTableFunction {
  return DuckDBTableFunction.create({
    name,
    parameterTypes: [BIGINT],
    bindFunction: (info) => {
      const index = Number(info.getParameter(0));
      types.forEach((type, i) => info.addResultColumn(`c${i}`, type));
      info.setBindData({ index });
    },
    initFunction: (info) => info.setInitData({ next: 0 }),
    mainFunction: (info, output) => {
      const { index } = info.bindData as { index: number };
      const progress = info.initData as { next: number };
      const held = ready.get(index);
      const next = held?.batches[progress.next];
      if (!next) {
        duckdb.data_chunk_set_size(output.chunk, 0);
        return;
      }
      progress.next++;
      next.batch.writeInto(output.chunk);
    },
  });
}
