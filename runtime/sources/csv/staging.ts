// How a CSV chunk reaches DuckDB. `fifo`: through a named pipe that DuckDB reads while the bytes are still
// arriving, so parsing and Parquet encoding overlap the source's COPY within a chunk and nothing touches
// the disk. `files`: the chunk is written to a file and converted once complete (while the next chunk
// streams), for platforms without named pipes (Windows).

import { execFile } from "node:child_process";
import { once } from "node:events";
import { constants, createWriteStream, openSync } from "node:fs";
import { rm } from "node:fs/promises";
import { Socket } from "node:net";
import { join } from "node:path";
import type { Writable } from "node:stream";
import { promisify } from "node:util";

export type StagingMode = "fifo" | "files";

/** The default: named pipes wherever the OS has them. */
export const defaultStaging: StagingMode = process.platform === "win32" ? "files" : "fifo";

/** Turns a CSV file (or pipe) into Parquet and answers the number of rows it read. */
export type Converter = (csvPath: string) => Promise<number>;

export interface StagedChunk {
  /**
   * Append bytes; resolves when they are accepted (the caller waits here when DuckDB falls behind).
   * `written` is called once they have left the process (the caller may then reuse the memory).
   */
  write(bytes: Buffer, written?: () => void): Promise<void>;
  /** No more bytes: resolves with the rows DuckDB converted once the Parquet file is complete. */
  finish(): Promise<number>;
  /** Abandon the chunk (the stream failed or the reader stopped): unblock DuckDB, ignore its result. */
  abort(): Promise<void>;
}

export interface Staging {
  /** Stage chunk `index` (1, 2, …); DuckDB starts converting through `convert` when it can. */
  open(index: number, convert: Converter): Promise<StagedChunk>;
}

/**
 * Staging in `dir` for up to `slots` chunks at once. Named pipes are made once (one `mkfifo` for all:
 * spawning from a process holding DuckDB's memory is not free) and reused round-robin: chunk i + slots
 * opens pipe i again only after chunk i's conversion has finished.
 */
export async function createStaging(mode: StagingMode, dir: string, slots: number): Promise<Staging> {
  if (mode === "files") return { open: (index, convert) => openFileStage(join(dir, `chunk-${index}.csv`), convert) };
  const pipes = Array.from({ length: slots }, (_, i) => join(dir, `pipe-${i}.csv`));
  await promisify(execFile)("mkfifo", ["-m", "600", ...pipes]);
  return { open: (index, convert) => openFifoStage(pipes[index % slots], convert) };
}

/**
 * Bytes the writer queues before waiting. DuckDB reads a pipe in bursts (a buffer, then parse and encode
 * it); a queue several DuckDB buffers deep keeps the source streaming meanwhile (a pipe holds only 64 KB).
 */
const HIGH_WATER_MARK = 32 << 20;

async function openFileStage(csvPath: string, convert: Converter): Promise<StagedChunk> {
  const out = createWriteStream(csvPath, { highWaterMark: HIGH_WATER_MARK });
  const sink = new Sink(out);
  return {
    write: (bytes, written) => sink.write(bytes, written),
    async finish() {
      await sink.end();
      try {
        return await convert(csvPath);
      } finally {
        await rm(csvPath, { force: true });
      }
    },
    async abort() {
      out.destroy(new Error("extraction stopped"));
      await rm(csvPath, { force: true });
    },
  };
}

async function openFifoStage(fifoPath: string, convert: Converter): Promise<StagedChunk> {
  // DuckDB opens the pipe for reading when the query starts and blocks there until a writer appears.
  const conversion = settle(convert(fifoPath));
  const socket = await openPipeWriter(fifoPath, conversion);
  const sink = new Sink(socket);
  // When DuckDB fails it closes the pipe and our next write fails with EPIPE: report DuckDB's reason.
  const explain = async (error: unknown): Promise<never> => {
    const outcome = await Promise.race([conversion.promise, new Promise((r) => setTimeout(r, 5_000).unref())]);
    if (outcome && (outcome as Settled<number>).error !== undefined) throw (outcome as Settled<number>).error;
    throw error;
  };
  return {
    async write(bytes, written) {
      try {
        await sink.write(bytes, written);
      } catch (error) {
        await explain(error);
      }
    },
    async finish() {
      try {
        await sink.end();
      } catch (error) {
        await explain(error);
      }
      const outcome = await conversion.promise;
      if (outcome.error !== undefined) throw outcome.error;
      return outcome.value as number;
    },
    async abort() {
      // With an error, so a write waiting for 'drain' fails instead of waiting forever.
      socket.destroy(new Error("extraction stopped"));
      await conversion.promise;
    },
  };
}

interface Settled<T> {
  value?: T;
  error?: unknown;
}

/** A promise that never rejects (so no rejection goes unhandled while nobody awaits it), and its state. */
function settle<T>(promise: Promise<T>): { promise: Promise<Settled<T>>; done: boolean } {
  const state = {
    done: false,
    promise: promise.then(
      (value) => ({ value }),
      (error: unknown) => ({ error: error ?? new Error("conversion failed") }),
    ),
  };
  void state.promise.then(() => (state.done = true));
  return state;
}

/**
 * Open the pipe's write end without blocking a libuv thread: a non-blocking open fails with ENXIO until
 * the reader is there, so poll. Writes then go through the event loop like a socket's.
 */
async function openPipeWriter(fifoPath: string, conversion: { promise: Promise<Settled<number>>; done: boolean }): Promise<Socket> {
  let delay = 1;
  for (;;) {
    try {
      const fd = openSync(fifoPath, constants.O_WRONLY | constants.O_NONBLOCK);
      return new Socket({ fd, readable: false, writable: true, writableHighWaterMark: HIGH_WATER_MARK } as ConstructorParameters<typeof Socket>[0]);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENXIO") throw error;
    }
    if (conversion.done) {
      const outcome = await conversion.promise;
      throw outcome.error ?? new Error(`DuckDB finished without reading ${fifoPath}`);
    }
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 20);
  }
}

/** Writes with backpressure; remembers the first error so later writes fail with it. */
class Sink {
  private failure: unknown;

  constructor(private readonly out: Writable) {
    out.on("error", (error) => (this.failure ??= error));
  }

  async write(bytes: Buffer, written?: () => void): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    // Released only on success: after a failure nothing reuses the memory anyway.
    if (!this.out.write(bytes, (error) => error || written?.())) await once(this.out, "drain");
  }

  async end(): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    this.out.end();
    await once(this.out, "close");
    if (this.failure !== undefined) throw this.failure;
  }
}
