// Rows a driver pushes (events) turned into something a reader pulls: a writer makes blocks or batches of
// them, and the driver is paused while enough wait, so backpressure reaches the server and memory stays
// bounded. Used by the CSV blocks of SQL Server (csv/blocks.ts) and the batches of MySQL/MariaDB
// (append/row-batches.ts).

/** A value as a driver gives it: bytes, text, or NULL. */
export type RowValue = Buffer | string | null;

/** Makes something of rows (`R`: as the driver hands one over): `ready` holds what is made and not yet taken; `finish` ends the last group. */
export interface RowWriter<T, R = readonly RowValue[]> {
  readonly ready: T[];
  row(row: R): void;
  finish(): void;
}

/** What a pushing driver is told: each row, a failure, the end. */
export interface RowPush<R = readonly RowValue[]> {
  row(row: R): void;
  fail(error: unknown): void;
  end(): void;
}

/** How the buffering controls a pushing driver. */
export interface PushControl {
  pause(): void;
  resume(): void;
  /** Abandon the result (a failure, or the reader stopped early): cancel the query or cut the connection. */
  stop(): void;
}

/**
 * What `writer` makes of the rows a driver pushes: `start` runs the query, feeding `push`, and answers how
 * to pause, resume and stop it. The driver is paused while `pauseAt` things wait and resumed below
 * `resumeAt`; a row the writer refuses stops it. Stopped early or failed, the driver is stopped.
 */
export async function* pushedRows<T, R>(
  writer: RowWriter<T, R>, start: (push: RowPush<R>) => PushControl, limits: { pauseAt: number; resumeAt: number },
): AsyncGenerator<T> {
  let failure: unknown;
  let ended = false;
  let paused = false;
  let wake: (() => void) | undefined;
  const notify = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    control.stop();
  };
  const control: PushControl = start({
    row(row) {
      if (failure !== undefined) return;
      try {
        writer.row(row);
      } catch (error) {
        failure = error;
        stop();
        notify();
        return;
      }
      if (writer.ready.length >= limits.pauseAt && !paused) {
        paused = true;
        control.pause();
      }
      if (writer.ready.length) notify();
    },
    fail(error) {
      failure ??= error;
      notify();
    },
    end() {
      ended = true;
      notify();
    },
  });

  let clean = false;
  try {
    for (;;) {
      if (failure !== undefined) throw failure;
      const block = writer.ready.shift();
      if (block !== undefined) {
        if (paused && writer.ready.length < limits.resumeAt) {
          paused = false;
          control.resume();
        }
        yield block;
        continue;
      }
      if (ended) break;
      await new Promise<void>((resolve) => (wake = resolve));
    }
    writer.finish();
    for (const block of writer.ready.splice(0)) yield block;
    clean = true;
  } finally {
    // Stopped early or failed: the rest of the result is not wanted.
    if (!clean && !ended) stop();
  }
}
