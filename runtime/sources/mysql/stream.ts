// A MySQL query's rows → CSV blocks for the shared chunk pipeline (csv/chunks.ts). Rows arrive as the
// text protocol's bytes (typeCast: false: no JS numbers, dates or strings are made), are written
// straight into 1 MB blocks, and the connection's socket is paused while enough blocks wait, so TCP
// backpressure reaches the server and memory stays bounded whatever the table's size.

import type mysql from "mysql2";
import type { CsvBlock } from "../csv/chunks.ts";
import { cutConnection } from "./connect.ts";

const BLOCK_BYTES = 1 << 20;
/** Blocks waiting for the consumer before the socket pauses, and how few before it resumes. */
const PAUSE_AT = 8;
const RESUME_AT = 2;
const QUOTE = 0x22;

export interface RowStreamOptions {
  /** Rows per chunk: a block ends a chunk every `groupRows` rows. */
  readonly groupRows: number;
  /** Per column: its text never needs CSV quoting (numbers, dates, hex), except to tell empty from NULL. */
  readonly plain: readonly boolean[];
  /** Per column: a date or datetime whose zero values (`0000-00-00`, `2024-00-15`) are counted. */
  readonly zeroDates: readonly boolean[];
  /** Columns whose values each chunk's last row reports (the cursor). */
  readonly cursorIndexes: readonly number[];
  readonly maxRowBytes: number;
}

/** What one chunk's rows held besides the rows: its last cursor values and its zero dates per column. */
export interface ChunkFacts {
  readonly cursor?: readonly (string | null)[];
  readonly zeroDates: readonly number[];
}

/**
 * Run `sql` and yield its rows as CSV blocks. `facts` receives one entry per chunk, in order, pushed
 * before the block that ends the chunk is yielded.
 */
export async function* queryBlocks(connection: mysql.Connection, sql: string, options: RowStreamOptions, facts: ChunkFacts[]): AsyncGenerator<CsvBlock> {
  const writer = new BlockWriter(options, facts);
  let failure: unknown;
  let ended = false;
  let paused = false;
  let wake: (() => void) | undefined;
  const notify = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const query = connection.query({ sql, rowsAsArray: true, typeCast: false });
  query.on("result", (row) => {
    if (failure !== undefined) return;
    try {
      writer.row(row as unknown as readonly (Buffer | null)[]);
    } catch (error) {
      failure = error;
      cutConnection(connection);
    }
    if (writer.ready.length >= PAUSE_AT && !paused) {
      paused = true;
      connection.pause();
    }
    if (writer.ready.length) notify();
  });
  query.on("error", (error) => {
    failure ??= error;
    notify();
  });
  query.on("end", () => {
    ended = true;
    notify();
  });

  let clean = false;
  try {
    for (;;) {
      if (failure !== undefined) throw failure;
      const block = writer.ready.shift();
      if (block) {
        if (paused && writer.ready.length < RESUME_AT) {
          paused = false;
          connection.resume();
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
    // Stopped early or failed: the rest of the result set is not wanted; the caller closes the connection.
    if (!clean && !ended) cutConnection(connection);
  }
}

/** Writes rows as CSV into blocks, cutting a chunk every `groupRows` rows. */
class BlockWriter {
  readonly ready: CsvBlock[] = [];
  private block = Buffer.allocUnsafe(BLOCK_BYTES);
  private start = 0;
  private pos = 0;
  private blockRows = 0;
  private groupRowCount = 0;
  private rowNumber = 0;
  private lastCursor: (Buffer | null)[] | undefined;
  private zeroDates: number[];
  private readonly hasZeroDates: boolean;

  constructor(
    private readonly options: RowStreamOptions,
    private readonly facts: ChunkFacts[],
  ) {
    this.zeroDates = options.zeroDates.map(() => 0);
    this.hasZeroDates = options.zeroDates.some(Boolean);
  }

  row(values: readonly (Buffer | null)[]): void {
    this.rowNumber++;
    const { plain } = this.options;
    // Room for the worst case: every byte of a quoted field a doubled quote, two quotes and a separator.
    let worst = 0;
    for (let i = 0; i < values.length; i++) worst += values[i] === null ? 1 : (plain[i] ? 1 : 2) * values[i]!.length + 3;
    if (worst > this.block.length - this.pos) this.newBlock(worst);
    const block = this.block;
    let pos = this.pos;
    for (let i = 0; i < values.length; i++) {
      if (i > 0) block[pos++] = 0x2c;
      const v = values[i];
      if (v === null) continue;
      const n = v.length;
      if (plain[i] && n > 0) {
        if (n < 32) for (let j = 0; j < n; j++) block[pos++] = v[j];
        else pos += v.copy(block, pos);
        continue;
      }
      // Quoted, so an empty value (a string, a blob's hex) is not NULL; quotes inside doubled.
      block[pos++] = QUOTE;
      if (n < 64 || v.indexOf(QUOTE) !== -1) {
        for (let j = 0; j < n; j++) {
          const b = v[j];
          block[pos++] = b;
          if (b === QUOTE) block[pos++] = QUOTE;
        }
      } else {
        pos += v.copy(block, pos);
      }
      block[pos++] = QUOTE;
    }
    block[pos++] = 0x0a;
    if (pos - this.pos > this.options.maxRowBytes) {
      throw new Error(`row ${this.rowNumber} is ${pos - this.pos} bytes as CSV, more than the ${this.options.maxRowBytes} bytes a row may have (raise maxRowBytes)`);
    }
    this.pos = pos;
    if (this.hasZeroDates) this.countZeroDates(values);
    if (this.options.cursorIndexes.length) this.lastCursor = this.options.cursorIndexes.map((i) => values[i]);
    this.blockRows++;
    if (++this.groupRowCount === this.options.groupRows) this.endChunk();
    else if (this.block.length - this.pos < 4096) this.flush(false);
  }

  /** The rows of an unfinished chunk end it (the result set is over). */
  finish(): void {
    if (this.groupRowCount > 0) this.endChunk();
  }

  private countZeroDates(values: readonly (Buffer | null)[]): void {
    const zero = this.options.zeroDates;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      // `YYYY-MM-DD…`: month at 5-6, day at 8-9.
      if (zero[i] && v !== null && v.length >= 10 && ((v[5] === 0x30 && v[6] === 0x30) || (v[8] === 0x30 && v[9] === 0x30))) this.zeroDates[i]++;
    }
  }

  private endChunk(): void {
    this.facts.push({
      cursor: this.lastCursor?.map((v) => (v === null ? null : v.toString("utf8"))),
      zeroDates: this.zeroDates,
    });
    this.zeroDates = this.options.zeroDates.map(() => 0);
    this.groupRowCount = 0;
    this.flush(true);
  }

  private flush(chunkEnd: boolean): void {
    if (this.pos > this.start || chunkEnd) {
      this.ready.push({ data: this.block.subarray(this.start, this.pos), rows: this.blockRows, chunkEnd });
    }
    this.blockRows = 0;
    this.start = this.pos;
    // What was emitted is never written again: carry on after it, or in a fresh block when little is left.
    if (this.block.length - this.pos < 65_536) this.allocate(BLOCK_BYTES);
  }

  /** Make room for `bytes` more: emit what the block holds, and take a fresh block if it is still short. */
  private newBlock(bytes: number): void {
    if (this.pos > this.start) this.flush(false);
    if (this.block.length - this.pos < bytes) this.allocate(Math.max(BLOCK_BYTES, bytes));
  }

  private allocate(bytes: number): void {
    this.block = Buffer.allocUnsafe(bytes);
    this.start = this.pos = 0;
  }
}
