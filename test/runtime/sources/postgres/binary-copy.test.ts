// The binary COPY decoder on hand-built protocol bytes: the same rows whatever the socket's chunking
// (tuples split anywhere, down to one byte at a time, use the carry path; whole messages the fast path),
// values in DuckDB's layout, groups cut every groupRows rows with the cursor text of their last row.
// Type fidelity against a real server is types.test.ts.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { FixedColumn, StringColumn } from "../../../../runtime/engine/parquet-encoder/batch.ts";
import { BinaryCopyParser } from "../../../../runtime/sources/postgres/binary-copy.ts";
import { columnWire } from "../../../../runtime/sources/postgres/binary-wire.ts";

const COLUMNS = [
  { name: "id", sourceType: "bigint", duckType: "BIGINT", nullable: false },
  { name: "at", sourceType: "timestamp with time zone", duckType: "TIMESTAMPTZ", nullable: true },
  { name: "amount", sourceType: "numeric(12,2)", duckType: "DECIMAL(12,2)", nullable: true },
  { name: "note", sourceType: "text", duckType: "VARCHAR", nullable: true },
];

function message(code: string, payload: Buffer = Buffer.alloc(0)): Buffer {
  const header = Buffer.alloc(5);
  header[0] = code.charCodeAt(0);
  header.writeUInt32BE(payload.length + 4, 1);
  return Buffer.concat([header, payload]);
}

function field(value: Buffer | null): Buffer {
  const length = Buffer.alloc(4);
  length.writeInt32BE(value === null ? -1 : value.length);
  return value === null ? length : Buffer.concat([length, value]);
}

const int8 = (n: bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(n);
  return b;
};
/** numeric in PostgreSQL's send format: base-10000 digits, weight, sign, dscale. */
const numeric = (digits: number[], weight: number, sign: number, dscale: number) => {
  const b = Buffer.alloc(8 + 2 * digits.length);
  b.writeUInt16BE(digits.length, 0);
  b.writeInt16BE(weight, 2);
  b.writeUInt16BE(sign, 4);
  b.writeUInt16BE(dscale, 6);
  digits.forEach((d, i) => b.writeUInt16BE(d, 8 + 2 * i));
  return b;
};

interface Row {
  id: bigint;
  at: bigint | null; // µs since 2000-01-01
  amount: Buffer | null;
  note: string | null;
}

function rows(n: number): Row[] {
  return Array.from({ length: n }, (_, i) => ({
    id: BigInt(i) * 1_000_000_007n - 5n,
    at: i % 5 === 0 ? null : BigInt(i) * 86_400_000_001n - 10n ** 12n,
    amount: i % 7 === 0 ? null : i % 11 === 0 ? numeric([], 0, 0xc000, 0) : numeric([i % 10000, 1200], 0, i % 2 ? 0x4000 : 0, 2),
    note: i % 3 === 0 ? null : i % 3 === 1 ? `n${i}` : `a longer note, row ${i} ${"é".repeat(i % 40)}`,
  }));
}

/** The protocol bytes of a binary COPY of `data` with the cursor text (id) after the columns. */
function stream(data: Row[]): Buffer {
  const header = Buffer.concat([Buffer.from("PGCOPY\n\xff\r\n\0", "latin1"), Buffer.alloc(8)]);
  const tuples = data.map((r, i) => {
    const count = Buffer.alloc(2);
    count.writeInt16BE(5);
    const body = Buffer.concat([
      count,
      field(int8(r.id)),
      field(r.at === null ? null : int8(r.at)),
      field(r.amount),
      field(r.note === null ? null : Buffer.from(r.note)),
      field(Buffer.from(String(r.id))),
    ]);
    return message("d", i === 0 ? Buffer.concat([header, body]) : body);
  });
  return Buffer.concat([message("H", Buffer.alloc(3)), ...tuples, message("d", Buffer.from([0xff, 0xff])), message("c"), message("C", Buffer.from("COPY\0")), message("Z", Buffer.from("I"))]);
}

interface Decoded {
  values: (string | null)[][];
  groups: { rows: number; last?: readonly (string | null)[] }[];
  rest: string;
  nonFinite: boolean;
}

/** Feed `bytes` in pieces of `split` and read back every row from the batches' DuckDB-layout memory. */
function decode(bytes: Buffer, split: number, groupRows: number): Decoded {
  const parser = new BinaryCopyParser(COLUMNS.map(columnWire), { groupRows, cursorFields: 1 });
  const out: Decoded = { values: [], groups: [], rest: "", nonFinite: false };
  let inGroup = 0;
  let rest: Buffer | undefined;
  for (let off = 0; off < bytes.length && rest === undefined; off += split) {
    rest = parser.push(bytes.subarray(off, off + split));
    if (rest !== undefined) rest = Buffer.concat([rest, bytes.subarray(off + split)]);
    for (const event of parser.take()) {
      if ("chunkEnd" in event) {
        out.groups.push({ rows: inGroup, last: event.lastRow });
        inGroup = 0;
        continue;
      }
      const { batch } = event;
      for (let r = 0; r < batch.rows; r++) {
        const valid = (c: number) => (batch.columns[c].validity[r >> 3] & (1 << (r & 7))) !== 0;
        const fixed = (c: number) => (batch.columns[c] as FixedColumn).data;
        const note = batch.columns[3] as StringColumn;
        const length = note.headers.readUInt32LE(r * 16);
        const text = length <= 12
          ? note.headers.toString("utf8", r * 16 + 4, r * 16 + 4 + length)
          : note.heap.toString("utf8", note.headers.readUInt32LE(r * 16 + 8), note.headers.readUInt32LE(r * 16 + 8) + length);
        out.values.push([
          String(fixed(0).readBigInt64LE(r * 8)),
          valid(1) ? String(fixed(1).readBigInt64LE(r * 8)) : null,
          valid(2) ? String(fixed(2).readBigInt64LE(r * 8)) : null,
          valid(3) ? text : null,
        ]);
      }
      inGroup += batch.rows;
      event.release();
    }
  }
  out.rest = rest?.toString("latin1") ?? "";
  out.nonFinite = parser.nonFinite;
  return out;
}

describe("BinaryCopyParser", () => {
  const data = rows(5000);
  const bytes = stream(data);

  test("values land in DuckDB's layout: int64, µs since 1970, unscaled decimals, strings inline or in the heap", () => {
    const whole = decode(bytes, bytes.length, 1_000_000);
    assert.equal(whole.values.length, data.length);
    data.forEach((r, i) => {
      const amount = r.amount === null || i % 11 === 0 ? null : String((i % 2 ? -1 : 1) * ((i % 10000) * 100 + 12));
      const expected = [String(r.id), r.at === null ? null : String(r.at + 946_684_800_000_000n), amount, r.note];
      assert.deepEqual(whole.values[i], expected, `row ${i}`);
    });
    assert.equal(whole.nonFinite, true, "numeric NaN is noticed (and stored as NULL)");
    assert.equal(whole.rest.slice(0, 1), "C", "CommandComplete and ReadyForQuery are left for pg");
  });

  test("the same rows, groups and last cursors however the socket splits the stream", () => {
    const whole = decode(bytes, bytes.length, 1234);
    assert.deepEqual(whole.groups.map((g) => g.rows), [1234, 1234, 1234, 1234, 64]);
    assert.deepEqual(whole.groups.map((g) => g.last), [1233, 2467, 3701, 4935, 4999].map((i) => [String(data[i].id)]));
    for (const split of [1, 3, 7, 64, 65_536]) {
      const pieces = decode(bytes, split, 1234);
      assert.deepEqual(pieces.values, whole.values, `split ${split}`);
      assert.deepEqual(pieces.groups, whole.groups, `split ${split}`);
      assert.equal(pieces.rest, whole.rest);
    }
  });

  test("an ErrorResponse ends the copy and is handed to pg with no half group emitted", () => {
    const cut = bytes.indexOf(message("d", Buffer.from([0xff, 0xff])));
    const failed = Buffer.concat([bytes.subarray(0, cut), message("E", Buffer.from("SERROR\0\0"))]);
    const out = decode(failed, 4096, 1234);
    assert.deepEqual(out.groups.map((g) => g.rows), [1234, 1234, 1234, 1234]);
    assert.equal(out.rest[0], "E");
  });
});
