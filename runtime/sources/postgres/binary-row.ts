// One tuple of a binary COPY decoded into a VectorBatch row, by a function generated for the table's
// columns: the column loop unrolled, each column's decoding inlined for its kind, and fixed-width values
// stored as 32-bit words rather than byte by byte. On the benchmark table this halves the decoder's CPU
// against one loop with a switch per value (docs/extraction.md), and the decoder runs on the thread
// that paces the whole extraction. Rare or long paths (dates, decimals, infinities, errors) stay methods
// of the parser, called from the generated code.

import type { FixedColumn, StringColumn, VectorBatch } from "../../engine/parquet-encoder/batch.ts";
import { type ColumnWire, WireKind } from "./binary-wire.ts";

/** The current batch's columns as the generated code reads them: `i32` views of fixed ones, string columns as they are. */
export interface RowTarget {
  /** Per column: the values as 32-bit words (fixed-width columns), else undefined. */
  i32: (Int32Array | undefined)[];
  /** Per column: the values' bytes (fixed-width columns), else undefined. */
  u8: (Buffer | undefined)[];
  /** Per column: the string column (VARCHAR, BLOB), else undefined. */
  strings: (StringColumn | undefined)[];
}

/** What the generated code calls back for: NULLs and the kinds decoded out of line. */
export interface RowHelpers {
  setNull(column: number, row: number): void;
  /** A timestamp that is ±infinity or beyond DuckDB's range (`high`, `low`: PostgreSQL's two 32-bit halves). */
  timestampEdge(column: number, row: number, high: number, low: number): void;
  date(b: Uint8Array, q: number, column: number, row: number): void;
  decimal(b: Uint8Array, q: number, column: number, row: number): void;
}

/** Decodes the tuple whose first field starts at `q` into row `r`; answers where the tuple's columns end. */
export type RowDecoder = (b: Uint8Array, v: DataView, q: number, r: number, target: RowTarget, helpers: RowHelpers) => number;

/** PostgreSQL's µs since 2000 → DuckDB's since 1970, in two 32-bit halves: 946,684,800,000,000 = 220417 · 2^32 + 993517568. */
export const EPOCH_MICROS_HIGH = 220_417;
export const EPOCH_MICROS_LOW = 993_517_568;

/** A decoder for `wires` (generated once per extraction). */
export function compileRowDecoder(wires: readonly ColumnWire[]): RowDecoder {
  const body: string[] = ["let n;"];
  wires.forEach((wire, c) => {
    body.push(`n = v.getInt32(q); q += 4;`);
    body.push(`if (n === -1) h.setNull(${c}, r); else {`);
    body.push(decodeValue(wire, c));
    body.push(`q += n; }`);
  });
  body.push("return q;");
  const prelude = wires
    .map((wire, c) => (wire.width === 0 ? `const s${c} = t.strings[${c}];` : `const w${c} = t.i32[${c}]; const u${c} = t.u8[${c}];`))
    .join(" ");
  // The generated source holds only column numbers and constants: no name or value from the source.
  const make = new Function("POW10", `"use strict"; return function decodeRow(b, v, q, r, t, h) { ${prelude}\n${body.join("\n")} };`);
  return make(POW10) as RowDecoder;
}

/** Big-endian 32-bit word at `q + k` (signed). */
const word = (k: number) => `v.getInt32(q + ${k})`;

/** 10^0 … 10^39 as doubles (exact up to 10^22). */
export const POW10: readonly number[] = Array.from({ length: 40 }, (_, i) => 10 ** i);

/**
 * DECIMAL(p ≤ 12, s) in 2, 4 or 8 bytes, inline: PostgreSQL sends base-10000 digit groups with the weight
 * of the first; their value in a double stays exact (below 10^(p+3) < 2^53) before it is scaled to the
 * unscaled integer DuckDB stores. NaN, ±Infinity, wider decimals and values that do not fit go to the parser.
 */
function inlineDecimal(wire: ColumnWire, c: number): string | undefined {
  const precision = wire.precision!;
  const scale = wire.scale!;
  if (precision > 12 || wire.width === 16) return undefined;
  const store =
    wire.width === 2 ? `u${c}[2 * r] = x; u${c}[2 * r + 1] = x >> 8;`
    : wire.width === 4 ? `w${c}[r] = x;`
    : `{ const hi = Math.floor(x / 4294967296); w${c}[2 * r] = x - hi * 4294967296; w${c}[2 * r + 1] = hi; }`;
  return `{ const nd = v.getUint16(q); const sign = v.getUint16(q + 4);
    let x = 0; for (let k = 0; k < nd; k++) x = x * 10000 + v.getUint16(q + 8 + 2 * k);
    const shift = ${scale} - 4 * (nd - 1 - v.getInt16(q + 2));
    if (shift >= 0) x *= POW10[shift]; else { const d = POW10[-shift]; x = x % d === 0 ? x / d : Infinity; }
    if (sign > 0x4000 || !(x < ${10 ** precision})) h.decimal(b, q, ${c}, r);
    else { if (sign === 0x4000) x = -x; ${store} } }`;
}

function decodeValue(wire: ColumnWire, c: number): string {
  const kind = wire.kind;
  switch (kind) {
    case WireKind.Int8:
    case WireKind.Float8:
    case WireKind.Time:
      return `w${c}[2 * r] = ${word(4)}; w${c}[2 * r + 1] = ${word(0)};`;
    case WireKind.Int4:
    case WireKind.Float4:
      return `w${c}[r] = ${word(0)};`;
    case WireKind.Int2:
      return `u${c}[2 * r] = b[q + 1]; u${c}[2 * r + 1] = b[q];`;
    case WireKind.Bool:
      return `u${c}[r] = b[q];`;
    case WireKind.Timestamp:
      // The usual instant inline; ±infinity and out-of-range dates go to the parser.
      return `{ const high = ${word(0)}; const low = ${word(4)} >>> 0;
        const sum = low + ${EPOCH_MICROS_LOW}; const carry = sum >= 4294967296 ? 1 : 0; const top = high + ${EPOCH_MICROS_HIGH} + carry;
        if (top > 2147483647 || high === -2147483648) h.timestampEdge(${c}, r, high, low);
        else { w${c}[2 * r] = sum - carry * 4294967296; w${c}[2 * r + 1] = top; } }`;
    case WireKind.Date:
      return `h.date(b, q, ${c}, r);`;
    case WireKind.Uuid:
      // DuckDB: a hugeint (lower 8 bytes, then upper) of the big-endian value with the top bit flipped.
      return `w${c}[4 * r] = ${word(12)}; w${c}[4 * r + 1] = ${word(8)}; w${c}[4 * r + 2] = ${word(4)}; w${c}[4 * r + 3] = ${word(0)} ^ -2147483648;`;
    case WireKind.Decimal:
      return inlineDecimal(wire, c) ?? `h.decimal(b, q, ${c}, r);`;
    case WireKind.Text:
    case WireKind.Bytes:
      return `s${c}.set(r, b, q, q + n);`;
  }
}

/** Point `target` at `batch`'s columns (after the parser switches batches). */
export function targetBatch(target: RowTarget, batch: VectorBatch): void {
  batch.columns.forEach((column, c) => {
    if ("width" in column) {
      const data = (column as FixedColumn).data;
      // A column holds VECTOR_ROWS values (2048, a power of two), so even one of 1-byte booleans is whole 32-bit words.
      target.i32[c] = new Int32Array(data.buffer, data.byteOffset, data.length / 4);
      target.u8[c] = data;
      target.strings[c] = undefined;
    } else {
      target.i32[c] = undefined;
      target.u8[c] = undefined;
      target.strings[c] = column;
    }
  });
}
