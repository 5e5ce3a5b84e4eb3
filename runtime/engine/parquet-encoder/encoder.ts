// The main thread's side of an encoder worker (worker.ts): chunks begin, batches stream in (transferred,
// not copied, and handed back to be refilled), and each chunk's promise settles when DuckDB has written
// its Parquet file. A bounded number of batches is in flight, so memory does not grow with the table and
// the source waits (TCP backpressure) while the encoder catches up. Engines keep idle encoders in a pool
// (pool.ts).

import type { DuckDBType } from "@duckdb/node-api";
import { MessageChannel, type MessagePort, Worker } from "node:worker_threads";
import type { BatchMessage, ReturnedBatch, VectorBatch } from "./batch.ts";
import type { ColumnTypeSpec, EncoderInput, EncoderOutput } from "./protocol.ts";
import { workerEntry } from "./worker-entry.ts";

export { TABLE_FUNCTION } from "./protocol.ts";

/** Batches (of 2048 rows) sent and not yet handed back: ~10 MB for a table of a few dozen columns… */
const BATCHES_IN_FLIGHT = 48;
/** …and their bytes, which bound a wide table's (a batch of 500 text columns holds ~17 MB). */
const BYTES_IN_FLIGHT = 64 << 20;
/** Batches per message (a message costs ~100 µs, about what decoding 2048 rows of a small table costs). */
const BATCHES_PER_MESSAGE = 16;

export interface EncoderSettings {
  /** DuckDB's memory limit in the worker. */
  readonly memoryLimit: string;
  /** Its spill folder (one per worker). */
  readonly tempDirectory: string;
  /** Statements run before any other: time zone, lock-down (engine/sandbox.ts). */
  readonly setup: readonly string[];
}

interface PendingChunk {
  readonly index: number;
  readonly resolve: (rows: number) => void;
  readonly reject: (error: Error) => void;
}

export class ParquetEncoder {
  private readonly sent = new Map<number, { batch: VectorBatch; release: () => void; bytes: number }>();
  private bytesInFlight = 0;
  private readonly chunks: PendingChunk[] = [];
  /** Batches sent but not yet posted (posted BATCHES_PER_MESSAGE at a time, and at a chunk's end). */
  private outgoing: { message: BatchMessage; transferList: ArrayBuffer[] }[] = [];
  private nextIndex = 0;
  private chunkOpen = false;
  private broken: Error | undefined;
  private waiters: (() => void)[] = [];

  private constructor(
    private readonly worker: Worker,
    private readonly port: MessagePort,
    private readonly signal: Int32Array,
  ) {
    worker.on("message", (message: EncoderOutput) => this.receive(message));
    worker.on("error", (error) => this.fail(error));
    worker.on("exit", (code) => this.fail(new Error(`the Parquet encoder thread exited (code ${code})`)));
  }

  /** A worker with its DuckDB open and locked down. */
  static async start(settings: EncoderSettings): Promise<ParquetEncoder> {
    const { port1, port2 } = new MessageChannel();
    const signal = new Int32Array(new SharedArrayBuffer(8));
    const worker = new Worker(await workerEntry(), { workerData: { ...settings, port: port2, signal }, transferList: [port2] });
    await started(worker);
    return new ParquetEncoder(worker, port1, signal);
  }

  /** Whether it can take another chunk: no failure, and nothing of an earlier chunk in flight. */
  get idle(): boolean {
    return !this.broken && !this.chunkOpen && this.chunks.length === 0 && this.sent.size === 0;
  }

  /**
   * Start a chunk: `sql` reads `TABLE_FUNCTION` (columns `c0…` of `types`; `widths` as the batches hold
   * them). Answers the promise of the rows DuckDB wrote, which settles after `end`.
   */
  begin(sql: string, types: readonly DuckDBType[], widths: readonly number[]): Promise<number> {
    if (this.broken) return Promise.reject(this.broken);
    if (this.chunkOpen) throw new Error("a chunk is already open");
    const index = ++this.nextIndex;
    const done = new Promise<number>((resolve, reject) => this.chunks.push({ index, resolve, reject }));
    done.catch(() => {}); // the caller awaits it later; a failure meanwhile is not unhandled
    this.chunkOpen = true;
    this.post({ begin: { index, sql, types: types.map(typeSpec), widths } });
    return done;
  }

  /** Send a batch of the open chunk; `release` runs when its buffers are back. Waits while too many are in flight. */
  async send(batch: VectorBatch, release: () => void): Promise<void> {
    const bytes = batch.bytes;
    while (!this.broken && this.sent.size > 0 && (this.sent.size >= BATCHES_IN_FLIGHT || this.bytesInFlight + bytes > BYTES_IN_FLIGHT)) {
      // What waits to be posted goes first: the worker can only hand back what it has.
      this.flush();
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    if (this.broken) throw this.broken;
    this.sent.set(batch.id, { batch, release, bytes });
    this.bytesInFlight += bytes;
    this.outgoing.push(batch.transfer());
    if (this.outgoing.length >= BATCHES_PER_MESSAGE) this.flush();
  }

  /** The open chunk has all its rows. */
  end(): void {
    this.chunkOpen = false;
    this.flush();
    this.post({ end: true });
  }

  /** Give up the open chunk (its promise rejects with `reason`). */
  abort(reason: string): void {
    if (!this.chunkOpen) return;
    this.chunkOpen = false;
    this.flush();
    this.post({ abort: reason });
  }

  /** Wait until every chunk began has settled and every batch is back (after an abort, before reuse). */
  async settle(): Promise<void> {
    while (!this.broken && (this.chunks.length > 0 || this.sent.size > 0)) {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  async terminate(): Promise<void> {
    this.broken ??= new Error("the Parquet encoder was closed");
    this.port.close();
    await this.worker.terminate();
  }

  private flush(): void {
    if (this.outgoing.length === 0) return;
    const batches = this.outgoing;
    this.outgoing = [];
    this.post({ batches: batches.map((b) => b.message) }, batches.flatMap((b) => b.transferList));
  }

  private post(message: EncoderInput, transferList: ArrayBuffer[] = []): void {
    this.port.postMessage(message, transferList);
    Atomics.add(this.signal, 0, 1);
    if (Atomics.load(this.signal, 1) === 1) Atomics.notify(this.signal, 0);
  }

  private receive(message: EncoderOutput): void {
    if ("returned" in message) for (const batch of message.returned) this.takeBack(batch);
    else if ("done" in message) this.settleChunk(message.done, (chunk) => chunk.resolve(message.rows));
    else if ("failed" in message) this.settleChunk(message.failed, (chunk) => chunk.reject(new Error(message.message)));
    this.wake();
  }

  private takeBack(returned: ReturnedBatch): void {
    const entry = this.sent.get(returned.id);
    if (!entry) return;
    this.sent.delete(returned.id);
    this.bytesInFlight -= entry.bytes;
    entry.batch.adopt(returned);
    entry.release();
  }

  private settleChunk(index: number, settle: (chunk: PendingChunk) => void): void {
    const at = this.chunks.findIndex((c) => c.index === index);
    if (at >= 0) settle(this.chunks.splice(at, 1)[0]);
  }

  private fail(error: Error): void {
    this.broken ??= error;
    for (const chunk of this.chunks.splice(0)) chunk.reject(this.broken);
    this.wake();
  }

  private wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }
}

/** Waits for a new worker's first word: ready, or why it could not start. */
function started(worker: Worker): Promise<void> {
  return new Promise((resolve, reject) => {
    const failed = (why: string) => {
      cleanup();
      void worker.terminate();
      reject(new Error(`the Parquet encoder could not start: ${why}`));
    };
    const onMessage = (message: EncoderOutput) => {
      if (!("ready" in message)) return failed("startFailed" in message ? message.startFailed : "unexpected message");
      cleanup();
      resolve();
    };
    const onError = (error: Error) => failed(error.message);
    const onExit = (code: number) => failed(`its thread exited with code ${code}`);
    const cleanup = () => {
      worker.off("message", onMessage);
      worker.off("error", onError);
      worker.off("exit", onExit);
    };
    worker.on("message", onMessage);
    worker.on("error", onError);
    worker.on("exit", onExit);
  });
}

/** A DuckDB type as the worker rebuilds it. */
function typeSpec(type: DuckDBType): ColumnTypeSpec {
  const decimal = type as DuckDBType & { width?: number; scale?: number };
  return decimal.width === undefined ? { id: type.typeId } : { id: type.typeId, width: decimal.width, scale: decimal.scale };
}
