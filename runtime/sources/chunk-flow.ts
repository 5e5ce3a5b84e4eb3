// Flow control shared by the chunk pipelines (csv/chunks.ts, append/parquet-chunks.ts): chunks handed
// on in production order, and a bound on how many exist at once.

import { rm } from "node:fs/promises";

/** Promises of chunks in production order; `next` waits for one to be pushed or for the end. */
export class OrderedQueue<T> {
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
export class Slots {
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

/** Yield the queue's chunks in order; once the consumer is done with one, its file is deleted and its slot freed. */
export async function* handOn<T extends { readonly file: string }>(queue: OrderedQueue<T>, slots: Slots): AsyncGenerator<T, void, undefined> {
  for (;;) {
    const next = await queue.next();
    if (next === undefined) return;
    const chunk = await next;
    try {
      yield chunk;
    } finally {
      await rm(chunk.file, { force: true });
      slots.release();
    }
  }
}
