// The COPY OUT frame parser: rows counted from CopyData messages, chunks cut every groupRows rows with
// their last row kept, whatever the socket's chunking and however rows straddle 1 MB blocks.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { FrameParser } from "../../../../runtime/sources/postgres/copy-out.ts";

function message(code: string, payload: Buffer | string = Buffer.alloc(0)): Buffer {
  const body = Buffer.from(payload);
  const header = Buffer.alloc(5);
  header[0] = code.charCodeAt(0);
  header.writeUInt32BE(body.length + 4, 1);
  return Buffer.concat([header, body]);
}

function run(rows: string[], split: number, groupRows: number) {
  const stream = Buffer.concat([message("H", Buffer.alloc(3)), ...rows.map((r) => message("d", `${r}\n`)), message("c"), message("C", "COPY\0"), message("Z", "I")]);
  const parser = new FrameParser(groupRows, true);
  const chunks: { text: string; rows: number; last?: string }[] = [];
  let current: Buffer[] = [];
  let count = 0;
  let rest: Buffer | undefined;
  for (let off = 0; off < stream.length && rest === undefined; off += split) {
    rest = parser.push(stream.subarray(off, off + split));
    for (const block of parser.take()) {
      current.push(Buffer.from(block.data));
      block.release?.(); // the parser reuses the block: what was copied must not change
      count += block.rows;
      if (block.chunkEnd) {
        chunks.push({ text: Buffer.concat(current).toString(), rows: count, last: block.lastRow?.toString() });
        current = [];
        count = 0;
      }
    }
    if (rest !== undefined) rest = Buffer.concat([rest, stream.subarray(off + split)]);
  }
  return { chunks, rest: rest?.toString("latin1") };
}

describe("FrameParser", () => {
  const rows = ["1,a", '2,"x\ny"', "3,", '4,""', "5," + "é".repeat(50), "6,last"];

  test("cuts groups at row boundaries for every socket chunk size, keeping each group's last row", () => {
    for (let split = 1; split <= 60; split++) {
      for (const groupRows of [1, 2, 4, 100]) {
        const { chunks, rest } = run(rows, split, groupRows);
        const expected = [];
        for (let i = 0; i < rows.length; i += groupRows) {
          const group = rows.slice(i, i + groupRows);
          expected.push({ text: group.map((r) => `${r}\n`).join(""), rows: group.length, last: group.at(-1) });
        }
        assert.deepEqual(chunks, expected, `split ${split}, groups of ${groupRows}`);
        assert.ok(rest?.startsWith("C"), "what follows CopyDone goes back to pg");
      }
    }
  });

  test("rows larger than a block, and many rows across blocks", () => {
    const big = ["1," + "x".repeat(3 << 20), "2,y", ...Array.from({ length: 40_000 }, (_, i) => `${i + 3},${"z".repeat(60)}`)];
    for (const split of [65_536, 1_000_003]) {
      const { chunks } = run(big, split, 15_000);
      assert.deepEqual(chunks.map((c) => c.rows), [15_000, 15_000, 10_002]);
      assert.equal(chunks.map((c) => c.text).join(""), big.map((r) => `${r}\n`).join(""));
      assert.deepEqual(chunks.map((c) => c.last), [big[14_999], big[29_999], big.at(-1)]);
    }
  });

  test("an ErrorResponse stops the copy, hands the error to pg, and emits no half group", () => {
    const parser = new FrameParser(100, true);
    const rest = parser.push(Buffer.concat([message("H", Buffer.alloc(3)), message("d", "1,a\n"), message("E", "SERROR\0")]));
    assert.equal(rest?.[0], "E".charCodeAt(0));
    assert.ok(parser.take().every((b) => !b.chunkEnd));
  });
});
