// Rows → framed CSV blocks for the shared chunk pipeline (chunks.ts), for every database source that
// receives rows from its driver (MySQL/MariaDB, SQL Server, Oracle): values written straight into 1 MB
// blocks, a chunk cut every `groupRows` rows with its last cursor values, a row longer than DuckDB's line
// buffer refused with one line. `pushedBlocks` adds the buffering a driver that pushes rows (events)
// needs: it pauses the driver while enough blocks wait, so backpressure reaches the server and memory
// stays bounded. A driver the reader pulls from (Oracle's result sets) writes rows and takes `ready` itself.

import { type PushControl, pushedRows, type RowPush, type RowValue } from "../pushed-rows.ts";
import type { CsvBlock } from "./chunks.ts";

export type { PushControl, RowPush } from "../pushed-rows.ts";

const BLOCK_BYTES = 1 << 20;
/** Blocks waiting for the consumer before the driver pauses, and how few before it resumes. */
const PAUSE_AT = 8;
const RESUME_AT = 2;
const QUOTE = 0x22;

/** A value as a driver gives it: bytes (written as they are), text (written as UTF-8), or NULL. */
export type CsvValue = RowValue;

export interface BlockWriterOptions {
  /** Rows per chunk: a block ends a chunk every `groupRows` rows. */
  readonly groupRows: number;
  /** Per column: its text never needs CSV quoting (numbers, dates, hex), except to tell empty from NULL. @default none */
  readonly plain?: readonly boolean[];
  /** Columns whose values each chunk's last row reports (the cursor). */
  readonly cursorIndexes: readonly number[];
  readonly maxRowBytes: number;
}

/**
 * Writes rows as CSV (NULL as an empty field, an empty value as `""`, quotes doubled) into blocks, cutting
 * a chunk every `groupRows` rows. `onChunkEnd` is called with the chunk's last cursor values just before
 * the block that ends the chunk is made ready, so a caller keeping per-chunk facts keeps them in order.
 */
export class BlockWriter {
  readonly ready: CsvBlock[] = [];
  private block = Buffer.allocUnsafe(BLOCK_BYTES);
  private start = 0;
  private pos = 0;
  private blockRows = 0;
  private groupRowCount = 0;
  private rowNumber = 0;
  private lastCursor: CsvValue[] | undefined;
  private readonly plain: readonly boolean[];

  constructor(
    private readonly options: BlockWriterOptions,
    private readonly onChunkEnd: (cursor: (string | null)[] | undefined) => void = () => {},
  ) {
    this.plain = options.plain ?? [];
  }

  /** Rows written so far (for messages). */
  get rows(): number {
    return this.rowNumber;
  }

  row(values: readonly CsvValue[]): void {
    this.rowNumber++;
    const plain = this.plain;
    // Room for the worst case: every byte of a quoted field a doubled quote, two quotes and a separator
    // (a string's UTF-16 unit is at most 3 UTF-8 bytes).
    let worst = 0;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      worst += v === null ? 1 : (plain[i] ? 1 : 2) * (typeof v === "string" ? 3 * v.length : v.length) + 3;
    }
    if (worst > this.block.length - this.pos) this.newBlock(Math.min(worst, this.options.maxRowBytes * 2 + 16));
    const block = this.block;
    let pos = this.pos;
    for (let i = 0; i < values.length; i++) {
      if (i > 0) block[pos++] = 0x2c;
      if (pos - this.pos > this.options.maxRowBytes) break;
      const value = values[i];
      if (value === null) continue;
      if (typeof value === "string") {
        // Quoted unless plain, so an empty string is not NULL; quotes inside doubled.
        const text = plain[i] && value.length > 0 ? value : `"${value.includes('"') ? value.replace(/"/g, '""') : value}"`;
        const bytes = Buffer.byteLength(text, "utf8");
        if (bytes + 1 > block.length - pos) throw this.tooLong(pos - this.pos + bytes);
        pos += block.write(text, pos, "utf8");
        continue;
      }
      const n = value.length;
      if (n + 1 > block.length - pos) throw this.tooLong(pos - this.pos + n);
      if (plain[i] && n > 0) {
        if (n < 32) for (let j = 0; j < n; j++) block[pos++] = value[j];
        else pos += value.copy(block, pos);
        continue;
      }
      if (2 * n + 2 > block.length - pos) throw this.tooLong(pos - this.pos + n);
      block[pos++] = QUOTE;
      if (n < 64 || value.indexOf(QUOTE) !== -1) {
        for (let j = 0; j < n; j++) {
          const b = value[j];
          block[pos++] = b;
          if (b === QUOTE) block[pos++] = QUOTE;
        }
      } else {
        pos += value.copy(block, pos);
      }
      block[pos++] = QUOTE;
    }
    block[pos++] = 0x0a;
    if (pos - this.pos > this.options.maxRowBytes) throw this.tooLong(pos - this.pos, true);
    this.pos = pos;
    if (this.options.cursorIndexes.length) this.lastCursor = this.options.cursorIndexes.map((i) => values[i]);
    this.blockRows++;
    if (++this.groupRowCount === this.options.groupRows) this.endChunk();
    else if (this.block.length - this.pos < 4096) this.flush(false);
  }

  /** The rows of an unfinished chunk end it (the result set is over). */
  finish(): void {
    if (this.groupRowCount > 0) this.endChunk();
  }

  private tooLong(bytes: number, exact = false): Error {
    return new Error(`row ${this.rowNumber} is ${exact ? "" : "over "}${bytes} bytes as CSV, more than the ${this.options.maxRowBytes} bytes a row may have (raise maxRowBytes)`);
  }

  private endChunk(): void {
    this.onChunkEnd(this.lastCursor?.map((v) => (v === null ? null : typeof v === "string" ? v : v.toString("utf8"))));
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

/**
 * The blocks of a driver that pushes rows (pushed-rows.ts): the driver is paused while PAUSE_AT blocks
 * wait and resumed below RESUME_AT.
 */
export function pushedBlocks(writer: BlockWriter, start: (push: RowPush) => PushControl): AsyncGenerator<CsvBlock> {
  return pushedRows(writer, start, { pauseAt: PAUSE_AT, resumeAt: RESUME_AT });
}
