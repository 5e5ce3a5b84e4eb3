// What the main thread and an encoder worker (worker.ts) say to each other. Rows flow on a dedicated
// port that the worker reads synchronously from inside DuckDB's table function (so a chunk streams into
// DuckDB while it is still arriving); the worker answers on its parent port, which the main thread reads
// as events.

import type { MessagePort } from "node:worker_threads";
import type { BatchMessage, ReturnedBatch } from "./batch.ts";

/** A column's DuckDB type, as the worker rebuilds it: a DUCKDB_TYPE id, with width and scale for DECIMAL. */
export interface ColumnTypeSpec {
  readonly id: number;
  readonly width?: number;
  readonly scale?: number;
}

/** The worker's start: its DuckDB's settings and the statements that lock it down (engine/sandbox.ts). */
export interface EncoderSetup {
  readonly memoryLimit: string;
  readonly tempDirectory: string;
  readonly setup: readonly string[];
  /** Rows arrive here, in order. */
  readonly port: MessagePort;
  /**
   * [0] is bumped after every message posted on `port`, so the worker can sleep on it (Atomics.wait);
   * [1] is 1 while the worker sleeps, so the main thread wakes it only then (a wake is a system call).
   */
  readonly signal: Int32Array;
}

/** Main → worker, on the rows port. */
export type EncoderInput =
  /** Start a chunk: run `sql`, whose FROM reads `TABLE_FUNCTION` with columns `c0…` of these types. */
  | { readonly begin: { readonly index: number; readonly sql: string; readonly types: readonly ColumnTypeSpec[]; readonly widths: readonly number[] } }
  /** Batches of the chunk, in order (several per message: a message costs more than a batch's bytes). */
  | { readonly batches: readonly BatchMessage[] }
  /** The chunk's rows are all sent. */
  | { readonly end: true }
  /** Give the chunk up (the source failed or the caller stopped). */
  | { readonly abort: string };

/** Worker → main, on the parent port. */
export type EncoderOutput =
  | { readonly ready: true }
  | { readonly startFailed: string }
  | { readonly returned: readonly ReturnedBatch[] }
  | { readonly done: number; readonly rows: number }
  | { readonly failed: number; readonly message: string };

/** The table function a chunk's statement reads its rows from. */
export const TABLE_FUNCTION = "mallard_encoder_rows";
