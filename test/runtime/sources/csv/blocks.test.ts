// The shared block writer: CSV every driver's rows become (bytes, text, NULL, ''), chunks cut every
// `groupRows` rows with their last cursor values, a row over maxRowBytes refused with one line, and the
// push buffering pausing a driver while blocks wait and stopping it when the reader stops early.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BlockWriter, type CsvValue, pushedBlocks, type RowPush } from "../../../../runtime/sources/csv/blocks.ts";
import { parseCsvRow } from "../../../../runtime/sources/csv/rows.ts";

const text = (writer: BlockWriter) => Buffer.concat(writer.ready.map((b) => b.data)).toString("utf8");

describe("BlockWriter", () => {
  it("writes bytes and text as CSV: NULL empty, '' quoted, quotes doubled, plain columns bare", () => {
    const writer = new BlockWriter({ groupRows: 10, plain: [true], cursorIndexes: [], maxRowBytes: 1000 });
    writer.row([Buffer.from("12"), 'say "hi", 🦆', Buffer.from('a"b'), null, "", Buffer.alloc(0)]);
    writer.finish();
    const csv = text(writer);
    assert.equal(csv, '12,"say ""hi"", 🦆","a""b",,"",""\n');
    assert.deepEqual(parseCsvRow(csv.slice(0, -1)), ["12", 'say "hi", 🦆', 'a"b', null, "", ""]);
  });

  it("cuts a chunk every groupRows rows and reports each chunk's last cursor, in order", () => {
    const cursors: ((string | null)[] | undefined)[] = [];
    const writer = new BlockWriter({ groupRows: 2, cursorIndexes: [1, 0], maxRowBytes: 1000 }, (c) => cursors.push(c));
    for (let i = 1; i <= 5; i++) writer.row([String(i), Buffer.from(`t${i}`)]);
    writer.finish();
    const ends = writer.ready.filter((b) => b.chunkEnd);
    assert.equal(ends.length, 3);
    assert.deepEqual(writer.ready.map((b) => b.rows).reduce((a, b) => a + b), 5);
    assert.deepEqual(cursors, [["t2", "2"], ["t4", "4"], ["t5", "5"]]);
  });

  it("refuses a row longer than maxRowBytes, naming the row", () => {
    const writer = new BlockWriter({ groupRows: 10, cursorIndexes: [], maxRowBytes: 100 });
    writer.row(["short"]);
    assert.throws(() => writer.row(["x".repeat(200)]), /row 2 is (over )?\d+ bytes as CSV, more than the 100 bytes a row may have \(raise maxRowBytes\)/);
    assert.throws(() => writer.row([Buffer.alloc(150, 0x41)]), /row 3 .* more than the 100 bytes/);
  });
});

describe("pushedBlocks", () => {
  it("pauses a pushing driver while blocks wait, resumes it, and ends with every row", async () => {
    const events: string[] = [];
    let push!: RowPush;
    const writer = new BlockWriter({ groupRows: 1, cursorIndexes: [], maxRowBytes: 1000 });
    const blocks = pushedBlocks(writer, (p) => {
      push = p;
      return { pause: () => events.push("pause"), resume: () => events.push("resume"), stop: () => events.push("stop") };
    });
    const first = blocks.next();
    for (let i = 0; i < 20; i++) push.row([String(i)] as CsvValue[]);
    push.end();
    let rows = (await first).done ? 0 : 1;
    for await (const block of blocks) rows += block.rows;
    assert.equal(rows, 20);
    assert.deepEqual(events, ["pause", "resume"]);
  });

  it("stops the driver when the reader stops early, and when a row is refused", async () => {
    const stops: string[] = [];
    let push!: RowPush;
    const early = pushedBlocks(new BlockWriter({ groupRows: 1, cursorIndexes: [], maxRowBytes: 1000 }), (p) => {
      push = p;
      return { pause: () => {}, resume: () => {}, stop: () => stops.push("early") };
    });
    const next = early.next();
    push.row(["a"]);
    await next;
    await early.return(undefined);
    const refused = pushedBlocks(new BlockWriter({ groupRows: 1, cursorIndexes: [], maxRowBytes: 10 }), (p) => {
      push = p;
      return { pause: () => {}, resume: () => {}, stop: () => stops.push("refused") };
    });
    const failed = refused.next();
    push.row(["x".repeat(50)]);
    await assert.rejects(failed, /row 1 is (over )?\d+ bytes/);
    assert.deepEqual(stops, ["early", "refused"]);
  });
});
