// A batch of up to one DuckDB vector of rows (2048), built in JavaScript memory in DuckDB's own layout,
// so that DuckDB takes each column with one or two native calls rather than one per value: fixed-width
// values as little-endian bytes, strings as DuckDB's 16-byte string headers (duckdb_string_t: length,
// then the string inline when it has at most 12 bytes, else a 4-byte prefix and a pointer). A column's
// long strings go into one heap that is copied into the vector once; the headers then point into that
// copy. One native call per string cost about 0.2 µs (0.4 CPU s per 2M values, measured), as much as
// decoding the whole row.
//
// A batch lives in few ArrayBuffers (one block for every column's values, validity and headers, one heap
// per string column) so it can be transferred to the encoder's worker thread and back without copying
// (worker.ts): the decoder fills it on the main thread, the worker writes it into a DuckDB data chunk.

import duckdb from "@duckdb/node-bindings";

/** Rows per DuckDB vector (STANDARD_VECTOR_SIZE). */
export const VECTOR_ROWS: number = duckdb.vector_size();

const VALIDITY_BYTES = Math.ceil(VECTOR_ROWS / 64) * 8;
/** Longest string stored inside its header. */
export const INLINE_BYTES = 12;
const FIRST_HEAP_BYTES = 4 << 10;

/** Where each column's parts sit in a batch's block (byte offsets), for columns of the given widths (0: string). */
export interface BlockLayout {
  readonly widths: readonly number[];
  readonly values: readonly number[];
  readonly validity: readonly number[];
  readonly bytes: number;
}

export function blockLayout(widths: readonly number[]): BlockLayout {
  const values: number[] = [];
  const validity: number[] = [];
  let at = 0;
  for (const width of widths) {
    values.push(at);
    at += (width === 0 ? 16 : width) * VECTOR_ROWS;
    validity.push(at);
    at += VALIDITY_BYTES; // a multiple of 8: the next column stays aligned
  }
  return { widths, values, validity, bytes: at };
}

/** A column of fixed-width values (`width` bytes each, little-endian, as DuckDB lays them out). */
export class FixedColumn {
  constructor(
    readonly width: number,
    public data: Buffer,
    public validity: Uint8Array,
  ) {}
}

/** A VARCHAR or BLOB column: headers in DuckDB's layout, long strings' bytes in `heap` (offsets in the pointer slot until placed). */
export class StringColumn {
  heapUsed = 0;
  /** The headers as 32-bit words: length, then 12 inline bytes or a 4-byte prefix and the heap offset. */
  private readonly words: Int32Array;
  // A DataView of the bytes last copied from (a socket read, a packet): its reads take 4 bytes at once.
  private source: Uint8Array | undefined;
  private view: DataView = new DataView(new ArrayBuffer(0));
  private heapView: DataView;

  constructor(
    public headers: Buffer,
    public validity: Uint8Array,
    public heap: Buffer,
  ) {
    this.words = new Int32Array(headers.buffer, headers.byteOffset, headers.length / 4);
    this.heapView = new DataView(heap.buffer, heap.byteOffset, heap.length);
  }

  /** Store `source[from, to)` as row `row`'s value, its header written a word at a time. */
  set(row: number, source: Uint8Array, from: number, to: number): void {
    const length = to - from;
    const w = row * 4;
    const words = this.words;
    words[w] = length;
    if (source !== this.source) {
      this.source = source;
      this.view = new DataView(source.buffer, source.byteOffset, source.byteLength);
    }
    const view = this.view;
    if (length <= INLINE_BYTES) {
      // Unused inline bytes must be zero: DuckDB compares short strings by their whole header. The words
      // read past the value (masked off) when the source has the bytes, else byte by byte.
      if (from + INLINE_BYTES <= source.length) {
        words[w + 1] = length >= 4 ? view.getInt32(from, true) : view.getInt32(from, true) & ((1 << (8 * length)) - 1);
        words[w + 2] = length <= 4 ? 0 : length >= 8 ? view.getInt32(from + 4, true) : view.getInt32(from + 4, true) & ((1 << (8 * (length - 4))) - 1);
        words[w + 3] = length <= 8 ? 0 : length === 12 ? view.getInt32(from + 8, true) : view.getInt32(from + 8, true) & ((1 << (8 * (length - 8))) - 1);
        return;
      }
      const headers = this.headers;
      const h = row * 16;
      let k = 0;
      for (; k < length; k++) headers[h + 4 + k] = source[from + k];
      for (; k < INLINE_BYTES; k++) headers[h + 4 + k] = 0;
      return;
    }
    words[w + 1] = view.getInt32(from, true);
    if (this.heapUsed + length > this.heap.length) this.grow(length);
    const at = this.heapUsed;
    if (length < 64) {
      // Four bytes at a time, then the rest (a native copy costs more than this below 64 bytes).
      const heapView = this.heapView;
      let k = 0;
      for (; k + 4 <= length; k += 4) heapView.setInt32(at + k, view.getInt32(from + k, true), true);
      const heap = this.heap;
      for (; k < length; k++) heap[at + k] = source[from + k];
    } else this.heap.set(source.subarray(from, to), at);
    // The heap offset stands in the pointer's place until the heap has its address (placeStrings).
    words[w + 2] = at;
    words[w + 3] = 0;
    this.heapUsed = at + length;
  }

  /** Zero row `row`'s header (a NULL's: DuckDB reads no string there). */
  clearRow(row: number): void {
    const w = row * 4;
    const words = this.words;
    words[w] = 0;
    words[w + 1] = 0;
    words[w + 2] = 0;
    words[w + 3] = 0;
  }

  private grow(length: number): void {
    const next = Buffer.from(new ArrayBuffer(Math.max(this.heap.length * 2, this.heapUsed + length)));
    this.heap.copy(next, 0, 0, this.heapUsed);
    this.heap = next;
    this.heapView = new DataView(next.buffer, next.byteOffset, next.length);
  }
}

export type BatchColumn = FixedColumn | StringColumn;

/** A batch as it crosses to the worker: its buffers travel in the transfer list, not copied. */
export interface BatchMessage {
  readonly id: number;
  readonly rows: number;
  readonly block: ArrayBuffer;
  /** Per string column (null for fixed ones): its heap and the bytes used. */
  readonly heaps: readonly (ArrayBuffer | null)[];
  readonly heapUsed: readonly number[];
  /** Per column: whether any row is NULL (else the validity mask is not copied). */
  readonly nulls: readonly boolean[];
}

/** A batch's buffers on their way back from the worker, to be filled again. */
export interface ReturnedBatch {
  readonly id: number;
  readonly block: ArrayBuffer;
  readonly heaps: readonly (ArrayBuffer | null)[];
}

let nextBatchId = 1;

/** Rows for one DuckDB data chunk, in JavaScript memory: every row valid until `setNull`. */
export class VectorBatch {
  readonly id = nextBatchId++;
  rows = 0;
  columns: BatchColumn[];
  private readonly layout: BlockLayout;
  private readonly nulls: boolean[];

  /** Columns of the given byte widths (0 for VARCHAR and BLOB). */
  constructor(readonly widths: readonly number[]) {
    this.layout = blockLayout(widths);
    this.nulls = widths.map(() => true); // so that clear() sets every mask
    this.columns = this.view(new ArrayBuffer(this.layout.bytes), widths.map((w) => (w === 0 ? new ArrayBuffer(FIRST_HEAP_BYTES) : null)));
    this.clear();
  }

  /** Memory the batch holds (its block and its heaps), for bounding how many wait. */
  get bytes(): number {
    let bytes = this.layout.bytes;
    for (const column of this.columns) if (column instanceof StringColumn) bytes += column.heap.length;
    return bytes;
  }

  setNull(column: number, row: number): void {
    const c = this.columns[column];
    c.validity[row >> 3] &= ~(1 << (row & 7));
    this.nulls[column] = true;
    if (c instanceof StringColumn) c.clearRow(row);
  }

  /** Start over with an empty batch. */
  clear(): void {
    this.rows = 0;
    for (let i = 0; i < this.columns.length; i++) {
      const column = this.columns[i];
      if (this.nulls[i]) column.validity.fill(0xff);
      this.nulls[i] = false;
      if (column instanceof StringColumn) column.heapUsed = 0;
    }
  }

  /** The message that hands this batch's buffers to the worker, and its transfer list. After it, the batch is unusable until `adopt`. */
  transfer(): { message: BatchMessage; transferList: ArrayBuffer[] } {
    const block = this.columns.length ? (this.columns[0].validity.buffer as ArrayBuffer) : new ArrayBuffer(0);
    const heaps = this.columns.map((c) => (c instanceof StringColumn ? (c.heap.buffer as ArrayBuffer) : null));
    const message: BatchMessage = {
      id: this.id,
      rows: this.rows,
      block,
      heaps,
      heapUsed: this.columns.map((c) => (c instanceof StringColumn ? c.heapUsed : 0)),
      nulls: [...this.nulls],
    };
    return { message, transferList: [block, ...heaps.filter((h): h is ArrayBuffer => h !== null)] };
  }

  /** Take back this batch's buffers (as the worker returned them) and empty it. */
  adopt(returned: ReturnedBatch): void {
    this.columns = this.view(returned.block, returned.heaps);
    // Every mask may hold a NULL the worker saw: reset them all once.
    this.nulls.fill(true);
    this.clear();
  }

  private view(block: ArrayBuffer, heaps: readonly (ArrayBuffer | null)[]): BatchColumn[] {
    const { values, validity } = this.layout;
    return this.widths.map((width, i) => {
      const mask = new Uint8Array(block, validity[i], VALIDITY_BYTES);
      if (width > 0) return new FixedColumn(width, Buffer.from(block, values[i], width * VECTOR_ROWS), mask);
      return new StringColumn(Buffer.from(block, values[i], 16 * VECTOR_ROWS), mask, Buffer.from(heaps[i]!));
    });
  }
}

/** Batches of one shape for a producer: each handed on with a `release` that gives it back, emptied, for reuse. */
export class BatchPool {
  private readonly free: VectorBatch[] = [];

  constructor(private readonly widths: readonly number[]) {}

  /** A free batch, or a new one. */
  take(): VectorBatch {
    return this.free.pop() ?? new VectorBatch(this.widths);
  }

  /** `batch` as a consumer gets it: with the release that returns it here. */
  lend(batch: VectorBatch): { readonly batch: VectorBatch; readonly release: () => void } {
    return {
      batch,
      release: () => {
        batch.clear();
        this.free.push(batch);
      },
    };
  }
}

/**
 * Write a transferred batch into `chunk`, a DuckDB data chunk whose columns have the batch's layout (the
 * worker's side of `VectorBatch.transfer`). The string headers are rewritten in place to point into the
 * vectors' copies of the heaps.
 */
export function writeBatchInto(chunk: duckdb.DataChunk, batch: BatchMessage, layout: BlockLayout): void {
  const { widths, values, validity } = layout;
  const rows = batch.rows;
  duckdb.data_chunk_set_size(chunk, rows);
  for (let i = 0; i < widths.length; i++) {
    const vector = duckdb.data_chunk_get_vector(chunk, i);
    if (widths[i] > 0) duckdb.copy_data_to_vector(vector, 0, batch.block, values[i], rows * widths[i]);
    else placeStrings(vector, batch.heaps[i]!, batch.heapUsed[i], rows, batch.block, values[i]);
    if (batch.nulls[i]) {
      duckdb.vector_ensure_validity_writable(vector);
      duckdb.copy_data_to_vector_validity(vector, 0, batch.block, validity[i], VALIDITY_BYTES);
    }
  }
}

/** Copy the heap into the vector (one call), point the long strings' headers into that copy, copy the headers. */
function placeStrings(vector: duckdb.Vector, heap: ArrayBuffer, heapUsed: number, rows: number, block: ArrayBuffer, offset: number): void {
  if (heapUsed > 0) {
    // The heap holds only strings longer than an inline one, so DuckDB keeps it out of line too and the
    // header it writes holds the pointer.
    duckdb.vector_assign_string_element_len(vector, 0, new Uint8Array(heap, 0, heapUsed));
    const placed = duckdb.vector_get_data(vector, 16);
    const base = new Int32Array(placed.buffer, placed.byteOffset, 4);
    const low = base[2] >>> 0;
    const high = base[3];
    // Headers as 32-bit words: length, prefix, then the pointer's low and high halves (little-endian).
    const headers = new Int32Array(block, offset, 4 * rows);
    for (let h = 0; h < 4 * rows; h += 4) {
      if (headers[h] >>> 0 <= INLINE_BYTES) continue;
      const sum = low + (headers[h + 2] >>> 0);
      headers[h + 2] = sum;
      headers[h + 3] = high + (sum >= 0x100000000 ? 1 : 0);
    }
  }
  duckdb.copy_data_to_vector(vector, 0, block, offset, rows * 16);
}
