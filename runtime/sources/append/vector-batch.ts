// Up to one DuckDB vector of rows (2048), built in JavaScript memory in DuckDB's own layout and handed to
// an appender with a few native calls per column, not one per value: fixed-width values are written as
// little-endian bytes, strings as DuckDB's 16-byte string headers (duckdb_string_t: length, then the
// string inline when it has at most 12 bytes, else a 4-byte prefix and a pointer). The long strings of a
// column go into one heap that is copied into the vector once; the headers then point into that copy,
// which the vector owns until the appender has copied the rows. One native call per string cost about
// 0.2 µs (0.4 CPU s per 2M values, measured), as much as decoding the whole row.

import type { DuckDBType } from "@duckdb/node-api";
import duckdb from "@duckdb/node-bindings";

/** Rows per DuckDB vector (STANDARD_VECTOR_SIZE). */
export const VECTOR_ROWS: number = duckdb.vector_size();

const VALIDITY_BYTES = Math.ceil(VECTOR_ROWS / 64) * 8;
/** Longest string stored inside its header. */
export const INLINE_BYTES = 12;

/** A column of fixed-width values (`width` bytes each, little-endian, as DuckDB lays them out). */
export class FixedColumn {
  readonly data: Buffer;
  readonly validity = new Uint8Array(VALIDITY_BYTES);

  constructor(readonly width: number) {
    this.data = Buffer.alloc(width * VECTOR_ROWS);
  }
}

/** A VARCHAR or BLOB column: headers in DuckDB's layout, long strings' bytes in `heap` (offsets in the pointer slot until flushed). */
export class StringColumn {
  readonly headers = Buffer.alloc(16 * VECTOR_ROWS);
  readonly validity = new Uint8Array(VALIDITY_BYTES);
  heap = Buffer.allocUnsafe(4 << 10);
  heapUsed = 0;

  /** Store `source[from, to)` as row `row`'s value. Byte by byte: a native call per value costs more than these loops. */
  set(row: number, source: Uint8Array, from: number, to: number): void {
    const length = to - from;
    const h = row * 16;
    const headers = this.headers;
    headers[h] = length;
    headers[h + 1] = length >>> 8;
    headers[h + 2] = length >>> 16;
    headers[h + 3] = length >>> 24;
    if (length <= INLINE_BYTES) {
      // Unused inline bytes must be zero: DuckDB compares short strings by their whole header.
      let k = 0;
      for (; k < length; k++) headers[h + 4 + k] = source[from + k];
      for (; k < INLINE_BYTES; k++) headers[h + 4 + k] = 0;
      return;
    }
    headers[h + 4] = source[from];
    headers[h + 5] = source[from + 1];
    headers[h + 6] = source[from + 2];
    headers[h + 7] = source[from + 3];
    if (this.heapUsed + length > this.heap.length) this.grow(length);
    const at = this.heapUsed;
    if (length < 64) {
      const heap = this.heap;
      for (let k = 0; k < length; k++) heap[at + k] = source[from + k];
    } else this.heap.set(source.subarray(from, to), at);
    // The heap offset stands in the pointer's place until the heap has its address (placeStrings).
    headers[h + 8] = at;
    headers[h + 9] = at >>> 8;
    headers[h + 10] = at >>> 16;
    headers[h + 11] = at >>> 24;
    headers[h + 12] = 0;
    headers[h + 13] = 0;
    headers[h + 14] = 0;
    headers[h + 15] = 0;
    this.heapUsed = at + length;
  }

  private grow(length: number): void {
    const next = Buffer.allocUnsafe(Math.max(this.heap.length * 2, this.heapUsed + length));
    this.heap.copy(next, 0, 0, this.heapUsed);
    this.heap = next;
  }
}

export type BatchColumn = FixedColumn | StringColumn;

/** Rows for one DuckDB data chunk, in JavaScript memory: columns typed as the target's, every row valid until `setNull`. */
export class VectorBatch {
  rows = 0;

  constructor(
    readonly types: readonly DuckDBType[],
    readonly columns: readonly BatchColumn[],
  ) {
    this.clear();
  }

  setNull(column: number, row: number): void {
    const c = this.columns[column];
    c.validity[row >> 3] &= ~(1 << (row & 7));
    if (c instanceof StringColumn) c.headers.fill(0, row * 16, row * 16 + 16);
  }

  /** Write the rows into `chunk` (a DuckDB data chunk of the same types, e.g. a table function's output). */
  writeInto(chunk: duckdb.DataChunk): void {
    duckdb.data_chunk_set_size(chunk, this.rows);
    for (let i = 0; i < this.columns.length; i++) {
      const column = this.columns[i];
      const vector = duckdb.data_chunk_get_vector(chunk, i);
      if (column instanceof FixedColumn) {
        duckdb.copy_data_to_vector(vector, 0, column.data.buffer as ArrayBuffer, column.data.byteOffset, this.rows * column.width);
      } else {
        this.placeStrings(column, vector);
      }
      duckdb.vector_ensure_validity_writable(vector);
      duckdb.copy_data_to_vector_validity(vector, 0, column.validity.buffer as ArrayBuffer, column.validity.byteOffset, VALIDITY_BYTES);
    }
  }

  /** Start over with an empty batch. */
  clear(): void {
    this.rows = 0;
    for (const column of this.columns) {
      column.validity.fill(0xff);
      if (column instanceof StringColumn) column.heapUsed = 0;
    }
  }

  /** Copy the heap into the vector (one call), point the long strings' headers into that copy, copy the headers. */
  private placeStrings(column: StringColumn, vector: duckdb.Vector): void {
    const rows = this.rows;
    const headers = column.headers;
    if (column.heapUsed > 0) {
      // Longer than an inline string, so DuckDB keeps it out of line and its header holds the pointer.
      const heap = column.heapUsed > INLINE_BYTES ? column.heap.subarray(0, column.heapUsed) : Buffer.alloc(INLINE_BYTES + 1);
      duckdb.vector_assign_string_element_len(vector, 0, heap);
      const placed = duckdb.vector_get_data(vector, 16);
      const base = Buffer.from(placed.buffer, placed.byteOffset, 16);
      const low = base.readUInt32LE(8);
      const high = base.readUInt32LE(12);
      for (let r = 0; r < rows; r++) {
        const h = r * 16;
        const length = headers[h] | (headers[h + 1] << 8) | (headers[h + 2] << 16) | (headers[h + 3] << 24);
        if (length >>> 0 <= INLINE_BYTES) continue;
        const sum = low + ((headers[h + 8] | (headers[h + 9] << 8) | (headers[h + 10] << 16) | (headers[h + 11] << 24)) >>> 0);
        const top = high + (sum >= 0x100000000 ? 1 : 0);
        headers[h + 8] = sum;
        headers[h + 9] = sum >>> 8;
        headers[h + 10] = sum >>> 16;
        headers[h + 11] = sum >>> 24;
        headers[h + 12] = top;
        headers[h + 13] = top >>> 8;
        headers[h + 14] = top >>> 16;
        headers[h + 15] = top >>> 24;
      }
    }
    duckdb.copy_data_to_vector(vector, 0, headers.buffer as ArrayBuffer, headers.byteOffset, rows * 16);
  }

}
