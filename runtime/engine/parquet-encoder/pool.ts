// An engine's Parquet encoders: one thread per concurrent extraction, not per table. An encoder given back
// idle and healthy waits for the next extraction; the engine's close ends every thread.

import { type EncoderSettings, ParquetEncoder } from "./encoder.ts";

/** Idle encoders of one engine, reused across extractions; closed with the engine. */
export class EncoderPool {
  private readonly idle: ParquetEncoder[] = [];
  private readonly all = new Set<ParquetEncoder>();
  private started = 0;
  private starting: Promise<ParquetEncoder> | undefined;
  private closed = false;

  constructor(private readonly settings: (n: number) => EncoderSettings) {}

  /** An idle encoder, or a new one. */
  async acquire(): Promise<ParquetEncoder> {
    if (this.closed) throw new Error("the engine is closed");
    const reused = this.idle.pop();
    if (reused) return reused;
    const starting = this.starting;
    this.starting = undefined;
    const encoder = await (starting ?? this.start());
    if (this.closed) {
      await encoder.terminate();
      throw new Error("the engine is closed");
    }
    return encoder;
  }

  /** Start an encoder now, for an `acquire` to come (a thread takes ~60 ms to start: overlap it with connecting). */
  prepare(): void {
    if (this.closed || this.idle.length > 0 || this.starting) return;
    this.starting = this.start();
    this.starting.catch(() => {}); // its acquire reports the failure
  }

  private async start(): Promise<ParquetEncoder> {
    const encoder = await ParquetEncoder.start(this.settings(++this.started));
    this.all.add(encoder);
    return encoder;
  }

  /** Back to the pool when it is idle and healthy; otherwise its thread ends. */
  async release(encoder: ParquetEncoder): Promise<void> {
    if (!this.closed && encoder.idle) {
      this.idle.push(encoder);
      return;
    }
    this.all.delete(encoder);
    await encoder.terminate();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.idle.length = 0;
    await this.starting?.catch(() => undefined);
    await Promise.all([...this.all].map((e) => e.terminate()));
    this.all.clear();
  }
}
