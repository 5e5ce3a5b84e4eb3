// `COPY … TO STDOUT (FORMAT binary)` decoded straight into DuckDB vectors: each CopyData payload is
// parsed as binary tuples (int16 field count, then per field an int32 length, -1 for NULL, and the
// value in PostgreSQL's send format), and every value is written in DuckDB's in-memory layout into a
// VectorBatch. No text is formatted by the server or parsed by DuckDB for numbers, timestamps, dates,
// uuids or bytea, and there is no CSV to frame: the binary form costs the server a third less CPU than
// CSV and DuckDB only encodes Parquet (docs/extraction.md). Batches are cut every VECTOR_ROWS rows and
// groups (chunks) every `groupRows` rows, with the group's last cursor values as PostgreSQL's text.

import { BatchPool, VECTOR_ROWS, type VectorBatch } from "../../engine/parquet-encoder/batch.ts";
import { checkCopyMessage, type CopyParser, MessageHeader } from "./copy-out.ts";
import { compileRowDecoder, EPOCH_MICROS_HIGH, EPOCH_MICROS_LOW, POW10, type RowDecoder, type RowTarget, targetBatch } from "./binary-row.ts";
import type { ColumnWire } from "./binary-wire.ts";

const COPY_DATA = 0x64; // 'd'
const COPY_DONE = 0x63; // 'c'
const ERROR_RESPONSE = 0x45; // 'E'
const SIGNATURE = Buffer.from("PGCOPY\n\xff\r\n\0", "latin1");

/** Days between PostgreSQL's epoch (2000-01-01) and DuckDB's (1970-01-01); the microseconds are in binary-row.ts. */
const EPOCH_DAYS = 10_957;
const TWO_32 = 4_294_967_296;
const POW10_BIG = Array.from({ length: 80 }, (_, i) => 10n ** BigInt(i));

/** What the parser hands on: a full (or group-ending) batch of rows, then, at a group's end, its marker. */
export type BinaryCopyEvent =
  | { readonly batch: VectorBatch; readonly release: () => void }
  | { readonly chunkEnd: true; readonly lastRow?: readonly (string | null)[] };

export interface BinaryCopyOptions {
  /** Rows per group (chunk). */
  readonly groupRows: number;
  /** Trailing fields of each tuple that are the cursor columns' text (not appended): kept for each group's last row. */
  readonly cursorFields: number;
}

export class BinaryCopyParser implements CopyParser<BinaryCopyEvent> {
  /** Set once a DECIMAL column held NaN or ±Infinity (stored as NULL). */
  nonFinite = false;
  /** Rows decoded so far. */
  rows = 0;
  private readonly fieldCount: number;
  private readonly pool: BatchPool;
  private batch: VectorBatch;
  private readonly decodeRow: RowDecoder;
  // A DataView of the buffer being decoded: its big-endian reads compile to one load and a byte swap.
  private viewed: Buffer | undefined;
  private view: DataView = new DataView(new ArrayBuffer(0));
  private readonly target: RowTarget = { i32: [], u8: [], strings: [] };
  private groupRowCount = 0;
  private out: BinaryCopyEvent[] = [];
  // Message framing: payload bytes left of the current message, whether it is CopyData, a split header.
  private remaining = 0;
  private inData = false;
  private readonly header = new MessageHeader();
  // Tuple bytes carried across payloads (a tuple split between messages or socket reads).
  private carry = Buffer.allocUnsafe(1 << 16);
  private carryUsed = 0;
  private fileHeaderSeen = false;
  private trailerSeen = false;
  // Where the current row's cursor fields are (valid while the row is the last one decoded).
  private readonly cursorAt: Int32Array;
  private cursorSource: Buffer = Buffer.alloc(0);

  constructor(
    private readonly wires: readonly ColumnWire[],
    private readonly options: BinaryCopyOptions,
  ) {
    this.fieldCount = wires.length + options.cursorFields;
    this.cursorAt = new Int32Array(2 * options.cursorFields);
    this.decodeRow = compileRowDecoder(wires);
    this.pool = new BatchPool(wires.map((w) => w.width));
    this.batch = this.pool.take();
    targetBatch(this.target, this.batch);
  }

  push(chunk: Buffer): Buffer | undefined {
    let i = 0;
    while (i < chunk.length) {
      if (this.remaining > 0) {
        const n = Math.min(this.remaining, chunk.length - i);
        // The backend sends one row per CopyData message: a whole message needs no completeness check.
        if (this.inData) this.payload(chunk, i, i + n, n === this.remaining && this.carryUsed === 0 && this.fileHeaderSeen);
        this.remaining -= n;
        i += n;
        continue;
      }
      // An error ends the copy: pg reads it. Rows of an unfinished group are dropped, never half-emitted.
      if (!this.header.split && chunk[i] === ERROR_RESPONSE) return chunk.subarray(i);
      i = this.header.read(chunk, i);
      if (i < 0) break;
      const code = this.header.code;
      this.remaining = this.header.payload;
      this.inData = code === COPY_DATA;
      if (code === COPY_DONE) return this.finish(chunk.subarray(i + this.remaining));
      if (!this.inData) checkCopyMessage(code);
    }
    return undefined;
  }

  take(): BinaryCopyEvent[] {
    const out = this.out;
    this.out = [];
    return out;
  }

  /** Payload bytes `data[from, to)`: whole tuples are decoded in place, a split one is carried. */
  private payload(data: Buffer, from: number, to: number, whole: boolean): void {
    // Complete a carried tuple with just the bytes it lacks, then go on in place.
    while (this.carryUsed > 0) {
      const want = this.missing(this.carry, 0, this.carryUsed);
      if (want > 0) {
        if (from === to) return;
        const n = Math.min(want, to - from);
        if (this.carryUsed + n > this.carry.length) {
          const next = Buffer.allocUnsafe(Math.max(this.carry.length * 2, this.carryUsed + n));
          this.carry.copy(next, 0, 0, this.carryUsed);
          this.carry = next;
        }
        data.copy(this.carry, this.carryUsed, from, from + n);
        this.carryUsed += n;
        from += n;
        continue;
      }
      const used = this.tuples(this.carry, 0, this.carryUsed);
      this.carry.copy(this.carry, 0, used, this.carryUsed);
      this.carryUsed -= used;
    }
    if (from === to) return;
    if (whole) {
      this.wholeTuple(data, from, to);
      return;
    }
    const used = this.tuples(data, from, to);
    if (used < to) {
      if (to - used > this.carry.length) this.carry = Buffer.allocUnsafe(Math.max(this.carry.length * 2, to - used));
      data.copy(this.carry, 0, used, to);
      this.carryUsed = to - used;
    }
  }

  /** Bytes the unit (file header, tuple or trailer) starting at `p` still lacks; 0 or less when complete. */
  private missing(b: Buffer, p: number, to: number): number {
    if (!this.fileHeaderSeen) return to - p < 19 ? 19 - (to - p) : 19 + b.readUInt32BE(p + 15) - (to - p);
    if (to - p < 2) return 2 - (to - p);
    if (b[p] === 0xff && b[p + 1] === 0xff) return 0;
    let q = p + 2;
    for (let f = 0; f < this.fieldCount; f++) {
      if (q + 4 > to) return q + 4 - to;
      const length = (b[q] << 24) | (b[q + 1] << 16) | (b[q + 2] << 8) | b[q + 3];
      q += 4 + (length > 0 ? length : 0);
    }
    return q - to;
  }

  /** A message holding exactly one tuple (or the trailer): decoded without looking ahead. */
  private wholeTuple(b: Buffer, from: number, to: number): void {
    const count = (b[from] << 8) | b[from + 1];
    if (count === 0xffff) {
      this.trailerSeen = true;
      if (to !== from + 2) throw new Error("binary COPY: bytes after the trailer");
      return;
    }
    if (count !== this.fieldCount) throw new Error(`binary COPY tuple with ${count} fields, expected ${this.fieldCount}`);
    if (this.row(b, from + 2) !== to) throw new Error("binary COPY: a message is not one tuple");
  }

  /** Decode the complete tuples in `b[from, to)`; answers where the first incomplete one starts. */
  private tuples(b: Buffer, from: number, to: number): number {
    let p = from;
    if (!this.fileHeaderSeen) {
      if (to - p < 19) return p;
      if (!b.subarray(p, p + 11).equals(SIGNATURE)) throw new Error("not a binary COPY stream");
      const extension = b.readUInt32BE(p + 15);
      if (to - p < 19 + extension) return p;
      p += 19 + extension;
      this.fileHeaderSeen = true;
    }
    const fields = this.fieldCount;
    while (p + 2 <= to) {
      const count = (b[p] << 8) | b[p + 1];
      if (count === 0xffff) {
        this.trailerSeen = true;
        p += 2;
        continue;
      }
      if (count !== fields) throw new Error(`binary COPY tuple with ${count} fields, expected ${fields}`);
      // Is the whole tuple here?
      let q = p + 2;
      for (let f = 0; f < fields; f++) {
        if (q + 4 > to) return p;
        const length = (b[q] << 24) | (b[q + 1] << 16) | (b[q + 2] << 8) | b[q + 3];
        q += 4 + (length > 0 ? length : 0);
      }
      if (q > to) return p;
      this.row(b, p + 2);
      p = q;
    }
    return p;
  }

  /** Decode one tuple starting at its first field into the batch's next row; answers where it ends. */
  private row(b: Buffer, q: number): number {
    const batch = this.batch;
    const r = batch.rows;
    if (b !== this.viewed) {
      this.viewed = b;
      this.view = new DataView(b.buffer, b.byteOffset, b.length);
    }
    q = this.decodeRow(b, this.view, q, r, this.target, this);
    if (this.options.cursorFields) {
      this.cursorSource = b;
      for (let k = 0; k < this.options.cursorFields; k++) {
        const length = (b[q] << 24) | (b[q + 1] << 16) | (b[q + 2] << 8) | b[q + 3];
        q += 4;
        this.cursorAt[2 * k] = q;
        this.cursorAt[2 * k + 1] = length;
        if (length > 0) q += length;
      }
    }
    batch.rows = r + 1;
    this.rows++;
    this.groupRowCount++;
    if (this.groupRowCount === this.options.groupRows) this.endGroup();
    else if (batch.rows === VECTOR_ROWS) this.emitBatch();
    return q;
  }

  /** @internal called by the generated decoder (binary-row.ts) */
  setNull(column: number, row: number): void {
    this.batch.setNull(column, row);
  }

  /** @internal ±infinity, or an instant DuckDB cannot hold: the generated decoder's rare timestamp path. */
  timestampEdge(c: number, r: number, high: number, low: number): void {
    const d = this.target.u8[c]!;
    const o = r * 8;
    if (high === 0x7fffffff && low === 0xffffffff) {
      put32(d, o, 0xffffffff);
      put32(d, o + 4, 0x7fffffff);
      return;
    }
    if (high === -0x80000000 && low === 0) {
      // DuckDB's -infinity is -(2^63 - 1).
      put32(d, o, 1);
      put32(d, o + 4, 0x80000000);
      return;
    }
    const sum = low + EPOCH_MICROS_LOW;
    const carry = sum >= TWO_32 ? 1 : 0;
    const top = high + EPOCH_MICROS_HIGH + carry;
    if (top > 0x7fffffff) {
      const days = Math.floor((high * TWO_32 + low) / 86_400_000_000);
      throw this.outOfRange(c, `(${civilDate(days)}) is after the last timestamp DuckDB holds (294247-01-10)`);
    }
    put32(d, o, sum - carry * TWO_32);
    put32(d, o + 4, top);
  }

  /** @internal */
  date(b: Uint8Array, q: number, c: number, r: number): void {
    const d = this.target.u8[c]!;
    const o = r * 4;
    const days = (b[q] << 24) | (b[q + 1] << 16) | (b[q + 2] << 8) | b[q + 3];
    if (days === 0x7fffffff) d.writeInt32LE(0x7fffffff, o);
    else if (days === -0x80000000) d.writeInt32LE(-0x7fffffff, o); // DuckDB's -infinity
    else if (days > 0x7fffffff - EPOCH_DAYS - 1) throw this.outOfRange(c, `(${civilDate(days)}) is after the last date DuckDB holds`);
    else d.writeInt32LE(days + EPOCH_DAYS, o);
  }

  /** @internal NaN and ±Infinity (a DECIMAL has none) are stored as NULL. */
  decimal(b: Uint8Array, q: number, c: number, r: number): void {
    if (!this.decimalValue(b, q, this.target.u8[c]!, c, r)) this.batch.setNull(c, r);
  }

  /**
   * numeric → DECIMAL(p, s) as the unscaled integer DuckDB stores: PostgreSQL sends base-10000 digits with a
   * weight. Exact in doubles up to 15 digits, in BigInt beyond. False for NaN and ±Infinity (stored as NULL).
   */
  private decimalValue(b: Uint8Array, q: number, d: Buffer, c: number, r: number): boolean {
    const wire = this.wires[c];
    const digits = (b[q] << 8) | b[q + 1];
    const weight = ((b[q + 2] << 8) | b[q + 3]) << 16 >> 16;
    const sign = (b[q + 4] << 8) | b[q + 5];
    if (sign === 0xc000 || sign === 0xd000 || sign === 0xf000) {
      this.nonFinite = true;
      return false;
    }
    const precision = wire.precision!;
    const scale = wire.scale!;
    const width = wire.width;
    q += 8;
    if (precision <= 15) {
      let value = 0;
      for (let k = 0; k < digits; k++) {
        const digit = (b[q + 2 * k] << 8) | b[q + 2 * k + 1];
        const exponent = 4 * (weight - k) + scale;
        if (exponent >= 0) value += digit * POW10[exponent];
        else if (digit % POW10[-exponent] !== 0) throw this.outOfRange(c, `has more than ${scale} decimals`);
        else value += digit / POW10[-exponent];
      }
      if (value >= POW10[precision]) throw this.outOfRange(c, `does not fit DECIMAL(${precision},${scale})`);
      if (sign === 0x4000) value = -value;
      if (width === 2) d.writeInt16LE(value, r * 2);
      else if (width === 4) put32(d, r * 4, value);
      else writeInt64(d, r * 8, value);
      return true;
    }
    let value = 0n;
    for (let k = 0; k < digits; k++) {
      const digit = BigInt((b[q + 2 * k] << 8) | b[q + 2 * k + 1]);
      const exponent = 4 * (weight - k) + scale;
      if (exponent >= 0) value += digit * POW10_BIG[exponent];
      else if (digit % POW10_BIG[-exponent] !== 0n) throw this.outOfRange(c, `has more than ${scale} decimals`);
      else value += digit / POW10_BIG[-exponent];
    }
    if (value >= POW10_BIG[precision]) throw this.outOfRange(c, `does not fit DECIMAL(${precision},${scale})`);
    if (sign === 0x4000) value = -value;
    if (width === 8) d.writeBigInt64LE(value, r * 8);
    else {
      d.writeBigUInt64LE(BigInt.asUintN(64, value), r * 16);
      d.writeBigInt64LE(value >> 64n, r * 16 + 8);
    }
    return true;
  }

  private outOfRange(c: number, what: string): Error {
    const name = /AS ("(?:[^"]|"")*")$/.exec(this.wires[c].pgExpression)?.[1] ?? `#${c + 1}`;
    return new Error(`row ${this.rows + 1}: column ${name} holds a value that ${what}`);
  }

  private emitBatch(): void {
    this.out.push(this.pool.lend(this.batch));
    this.batch = this.pool.take();
    targetBatch(this.target, this.batch);
  }

  private endGroup(): void {
    if (this.batch.rows > 0) this.emitBatch();
    this.out.push({ chunkEnd: true, lastRow: this.options.cursorFields ? this.lastCursor() : undefined });
    this.groupRowCount = 0;
  }

  private lastCursor(): (string | null)[] {
    const values: (string | null)[] = [];
    for (let k = 0; k < this.options.cursorFields; k++) {
      const at = this.cursorAt[2 * k];
      const length = this.cursorAt[2 * k + 1];
      values.push(length < 0 ? null : this.cursorSource.toString("utf8", at, at + length));
    }
    return values;
  }

  private finish(rest: Buffer): Buffer {
    if (!this.trailerSeen && this.fileHeaderSeen) throw new Error("binary COPY ended without its trailer");
    if (this.carryUsed > 0) throw new Error("binary COPY ended inside a tuple");
    if (this.groupRowCount > 0) this.endGroup();
    return rest;
  }
}

/** `YYYY-MM-DD` of a day counted from 2000-01-01 (proleptic Gregorian, years beyond JavaScript's Date). */
function civilDate(daysSince2000: number): string {
  // Howard Hinnant's days_from_civil inverse, from 0000-03-01.
  const z = daysSince2000 + 730_425;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  return `${year}-${String(month).padStart(2, "0")}-${String(day).padStart(2, "0")}`;
}

/** A whole number below 2^53 as a little-endian two's-complement int64. */
function writeInt64(d: Buffer, o: number, value: number): void {
  const magnitude = Math.abs(value);
  let low = magnitude % TWO_32;
  let high = (magnitude - low) / TWO_32;
  if (value < 0) {
    low = (~low + 1) >>> 0;
    high = (~high + (low === 0 ? 1 : 0)) >>> 0;
  }
  put32(d, o, low);
  put32(d, o + 4, high);
}

/** The low 32 bits of `value`, little-endian (Buffer's writers check their arguments: slower in the row loop). */
function put32(d: Uint8Array, o: number, value: number): void {
  d[o] = value;
  d[o + 1] = value >>> 8;
  d[o + 2] = value >>> 16;
  d[o + 3] = value >>> 24;
}
