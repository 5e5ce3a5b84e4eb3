// The CSV row scanner cuts a byte stream only between rows, whatever the quoting and however the
// stream is split into buffers, and keeps the last row of each chunk for cursor checkpoints.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { CsvRowScanner, parseCsvRow } from "../../../../runtime/sources/csv/rows.ts";

const ROWS = ['1,plain', '2,"comma, here"', '3,"quote "" inside"', '4,"new\nline\r\n"', '5,', '6,""', '7,"a""\n""b"', '8,"🦆 é",', '9,x'];
const TEXT = ROWS.map((r) => `${r}\n`).join("");

function cut(text: string, bufferSize: number, chunkRows: number): { chunks: string[]; lastRows: string[] } {
  const scanner = new CsvRowScanner(true);
  const bytes = Buffer.from(text);
  const chunks: string[] = [];
  const lastRows: string[] = [];
  let current: Buffer[] = [];
  let rows = 0;
  for (let offset = 0; offset < bytes.length; offset += bufferSize) {
    const buf = bytes.subarray(offset, offset + bufferSize);
    let pos = 0;
    while (pos < buf.length) {
      const r = scanner.scan(buf, pos, chunkRows - rows);
      current.push(buf.subarray(pos, r.end));
      rows += r.rows;
      pos = r.end;
      if (rows === chunkRows) {
        chunks.push(Buffer.concat(current).toString());
        lastRows.push(scanner.takeLastRow()!.toString());
        current = [];
        rows = 0;
      }
    }
  }
  assert.equal(scanner.midRow, false);
  if (rows) {
    chunks.push(Buffer.concat(current).toString());
    lastRows.push(scanner.takeLastRow()!.toString());
  }
  return { chunks, lastRows };
}

describe("CsvRowScanner", () => {
  test("cuts between rows for every buffer size and chunk size", () => {
    for (let size = 1; size <= TEXT.length + 1; size++) {
      for (const chunkRows of [1, 2, 3, 4, 100]) {
        const { chunks, lastRows } = cut(TEXT, size, chunkRows);
        const expected: string[] = [];
        for (let i = 0; i < ROWS.length; i += chunkRows) expected.push(ROWS.slice(i, i + chunkRows).map((r) => `${r}\n`).join(""));
        assert.deepEqual(chunks, expected, `buffer ${size}, chunk ${chunkRows}`);
        assert.deepEqual(lastRows, expected.map((c) => c.slice(0, -1).split(/\n(?=\d,)/).at(-1)), `last rows, buffer ${size}`);
      }
    }
  });

  test("knows when the stream stopped inside a row", () => {
    const scanner = new CsvRowScanner(false);
    scanner.scan(Buffer.from('1,"open\n'), 0, 10);
    assert.equal(scanner.midRow, true);
  });
});

describe("parseCsvRow", () => {
  test("PostgreSQL's NULL (unquoted empty) and '' (quoted empty) stay apart", () => {
    assert.deepEqual(parseCsvRow(',"",x,'), [null, "", "x", null]);
    assert.deepEqual(parseCsvRow('"a ""b"", c","\n"'), ['a "b", c', "\n"]);
    assert.deepEqual(parseCsvRow("2024-01-01 00:00:00.000001+00,42"), ["2024-01-01 00:00:00.000001+00", "42"]);
  });
});
