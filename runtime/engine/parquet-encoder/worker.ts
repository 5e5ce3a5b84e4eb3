// An encoder worker: a single-threaded DuckDB in its own thread that writes chunks to Parquet from rows
// the main thread decodes (protocol.ts). Its table function pulls each batch synchronously off the rows
// port, so DuckDB encodes a chunk while its rows are still arriving rather than after the last one, and
// the main thread's event loop never waits on DuckDB. The worker's JavaScript does nothing else: blocking
// it in Atomics.wait between batches costs nobody anything.

import duckdb from "@duckdb/node-bindings";
import { parentPort, receiveMessageOnPort, workerData } from "node:worker_threads";
import { type BatchMessage, type BlockLayout, blockLayout, writeBatchInto } from "./batch.ts";
import { type ColumnTypeSpec, type EncoderInput, type EncoderOutput, type EncoderSetup, TABLE_FUNCTION } from "./protocol.ts";

const DECIMAL_TYPE_ID = 19; // DUCKDB_TYPE_DECIMAL

const { port, signal, memoryLimit, tempDirectory, setup } = workerData as EncoderSetup;

function post(message: EncoderOutput, transferList: ArrayBuffer[] = []): void {
  parentPort!.postMessage(message, transferList);
}

/** What the rows port said, one batch at a time. */
type Input = Exclude<EncoderInput, { batches: unknown }> | { readonly batch: BatchMessage };

const pending: BatchMessage[] = [];

/** The next input on the rows port, sleeping until one comes. */
function next(): Input {
  const batch = pending.shift();
  if (batch) return { batch };
  for (;;) {
    const seen = Atomics.load(signal, 0);
    const received = receiveMessageOnPort(port);
    if (received) {
      const message = received.message as EncoderInput;
      if (!("batches" in message)) return message;
      pending.push(...message.batches);
      return { batch: pending.shift()! };
    }
    returnBatches();
    Atomics.store(signal, 1, 1);
    // Woken by the main thread's notify (none is lost: the wait returns at once if the counter moved since
    // `seen`); the timeout is only a safety net.
    Atomics.wait(signal, 0, seen, 50);
    Atomics.store(signal, 1, 0);
  }
}

let returning: BatchMessage[] = [];

/** Hand a batch's buffers back to the main thread, to be filled again (a few at a time, and before sleeping). */
function giveBack(batch: BatchMessage): void {
  returning.push(batch);
  if (returning.length >= 16) returnBatches();
}

function returnBatches(): void {
  if (returning.length === 0) return;
  const batches = returning;
  returning = [];
  const transferList = batches.flatMap((b) => [b.block, ...b.heaps.filter((h): h is ArrayBuffer => h !== null)]);
  post({ returned: batches.map((b) => ({ id: b.id, block: b.block, heaps: b.heaps })) }, transferList);
}

function logicalType(spec: ColumnTypeSpec): duckdb.LogicalType {
  return spec.id === DECIMAL_TYPE_ID ? duckdb.create_decimal_type(spec.width!, spec.scale!) : duckdb.create_logical_type(spec.id as duckdb.Type);
}

/** The chunk being written: its columns, its batches' layout, and whether its rows have all been read (end or abort seen). */
let current: { types: duckdb.LogicalType[]; layout: BlockLayout; finished: boolean } | undefined;

function rowsFunction(): duckdb.TableFunction {
  const fn = duckdb.create_table_function();
  duckdb.table_function_set_name(fn, TABLE_FUNCTION);
  duckdb.table_function_set_bind(fn, (info) => {
    if (!current) throw new Error("no chunk is being written");
    current.types.forEach((type, i) => duckdb.bind_add_result_column(info, `c${i}`, type));
  });
  duckdb.table_function_set_init(fn, () => {});
  duckdb.table_function_set_function(fn, (_info, output) => {
    const chunk = current!;
    if (chunk.finished) {
      duckdb.data_chunk_set_size(output, 0);
      return;
    }
    const message = next();
    if ("batch" in message) {
      writeBatchInto(output, message.batch, chunk.layout);
      giveBack(message.batch);
    } else if ("end" in message) {
      chunk.finished = true;
      duckdb.data_chunk_set_size(output, 0);
    } else if ("abort" in message) {
      chunk.finished = true;
      throw new Error(message.abort);
    } else {
      chunk.finished = true;
      throw new Error("a chunk began before the previous one ended");
    }
  });
  return fn;
}

/** After a failed chunk: read (and give back) the rest of its rows, up to its end. */
function skipRest(): void {
  for (;;) {
    const message = next();
    if ("batch" in message) giveBack(message.batch);
    else return;
  }
}

async function open(): Promise<duckdb.Connection> {
  const config = duckdb.create_config();
  duckdb.set_config(config, "memory_limit", memoryLimit);
  duckdb.set_config(config, "threads", "1");
  duckdb.set_config(config, "temp_directory", tempDirectory);
  duckdb.set_config(config, "preserve_insertion_order", "true");
  const db = await duckdb.open(":memory:", config);
  const con = await duckdb.connect(db);
  for (const statement of setup) await duckdb.query(con, statement);
  duckdb.register_table_function(con, rowsFunction());
  return con;
}

async function serve(con: duckdb.Connection): Promise<never> {
  for (;;) {
    const message = next();
    if (!("begin" in message)) {
      // Rows of a chunk given up before it began (or its end): nothing to write.
      if ("batch" in message) giveBack(message.batch);
      continue;
    }
    const { index, sql, types, widths } = message.begin;
    current = { types: types.map(logicalType), layout: blockLayout(widths), finished: false };
    try {
      const result = await duckdb.query(con, sql);
      returnBatches();
      post({ done: index, rows: duckdb.rows_changed(result) });
    } catch (error) {
      post({ failed: index, message: error instanceof Error ? error.message : String(error) });
      if (!current.finished) skipRest();
      returnBatches();
    } finally {
      current = undefined;
    }
  }
}

let con: duckdb.Connection;
try {
  con = await open();
} catch (error) {
  post({ startFailed: error instanceof Error ? error.message : String(error) });
  process.exit(1);
}
post({ ready: true });
await serve(con);
