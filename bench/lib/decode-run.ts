// Decoding alone: a dumped binary COPY of the benchmark table, framed as the server frames it (one
// CopyData message per tuple, read in 64 KB pieces), pushed through BinaryCopyParser with every batch
// released at once. Measures the JavaScript decoder's CPU without the server, the socket or DuckDB.
//
//   psql … -c "COPY (SELECT …) TO STDOUT (FORMAT binary)" > orders.bin
//   node --import tsx bench/lib/decode-run.ts orders.bin
import { readFileSync } from "node:fs";
import { BIGINT, DECIMAL, INTEGER, TIMESTAMPTZ, VARCHAR } from "@duckdb/node-api";
import { type ColumnWire, WireKind } from "../../runtime/sources/postgres/binary-wire.ts";
import { BinaryCopyParser } from "../../runtime/sources/postgres/binary-copy.ts";

const file = readFileSync(process.argv[2]);
const wires: ColumnWire[] = [
  { kind: WireKind.Int8, pgExpression: "id", stageType: BIGINT, conversion: (n) => n, width: 8 },
  { kind: WireKind.Timestamp, pgExpression: "updated_at", stageType: TIMESTAMPTZ, conversion: (n) => n, width: 8 },
  { kind: WireKind.Int4, pgExpression: "customer_id", stageType: INTEGER, conversion: (n) => n, width: 4 },
  { kind: WireKind.Decimal, pgExpression: "amount", stageType: DECIMAL(12, 2), conversion: (n) => n, width: 8, precision: 12, scale: 2 },
  { kind: WireKind.Text, pgExpression: "status", stageType: VARCHAR, conversion: (n) => n, width: 0 },
  { kind: WireKind.Text, pgExpression: "note", stageType: VARCHAR, conversion: (n) => n, width: 0 },
];

// Frame: CopyOutResponse-less stream of CopyData messages (header, each tuple, trailer), then CopyDone.
const parts: Buffer[] = [];
const message = (payload: Buffer) => {
  const head = Buffer.alloc(5);
  head[0] = 0x64;
  head.writeUInt32BE(payload.length + 4, 1);
  parts.push(head, payload);
};
let p = 19 + file.readUInt32BE(15);
message(file.subarray(0, p));
while (p < file.length) {
  const start = p;
  const count = file.readInt16BE(p);
  p += 2;
  if (count === -1) {
    message(file.subarray(start, p));
    break;
  }
  for (let f = 0; f < count; f++) {
    const length = file.readInt32BE(p);
    p += 4 + (length > 0 ? length : 0);
  }
  message(file.subarray(start, p));
}
parts.push(Buffer.from([0x63, 0, 0, 0, 4]));
const framed = Buffer.concat(parts);
const pieces: Buffer[] = [];
for (let i = 0; i < framed.length; i += 65536) pieces.push(Buffer.from(framed.subarray(i, i + 65536)));

const cpuMs: number[] = [];
let rows = 0;
for (let run = 0; run < 5; run++) {
  const parser = new BinaryCopyParser(wires, { groupRows: 1_000_000, cursorFields: 0 });
  const started = process.cpuUsage();
  for (const piece of pieces) {
    parser.push(piece);
    for (const event of parser.take()) if ("batch" in event) event.release();
  }
  const cpu = process.cpuUsage(started);
  cpuMs.push(Math.round((cpu.user + cpu.system) / 1000));
  rows = parser.rows;
  console.log(`run ${run + 1}: ${rows} rows, ${cpuMs.at(-1)} ms CPU`);
}
// The first run includes compiling the decoder (as an extraction does); the others are warm.
console.log(JSON.stringify({ rows, cold_cpu_ms: cpuMs[0], warm_cpu_ms_min: Math.min(...cpuMs.slice(1)) }));
