// Finding row boundaries in a CSV byte stream (RFC 4180 quoting, as PostgreSQL's COPY … CSV writes it)
// without parsing fields: the chunker cuts the stream only between rows, and keeps the last row of a
// chunk so its cursor values can be read back exactly as the source wrote them.

import type { CsvBlock } from "./chunks.ts";

const QUOTE = 0x22;
const NEWLINE = 0x0a;

export interface ScanResult {
  /** Rows completed in this call. */
  readonly rows: number;
  /** Position just after the last row completed (or the end of the scanned range). */
  readonly end: number;
}

/**
 * Counts rows across buffers. Quotes toggle a "quoted" state (a doubled quote toggles twice), and only a
 * newline outside quotes ends a row, so embedded newlines, commas and quotes are handled. Uses native
 * `indexOf` so unquoted data costs one memchr per row.
 */
export class CsvRowScanner {
  private quoted = false;
  /** Pieces of the row in progress that began in earlier buffers (only when keeping last rows). */
  private carry: Buffer[] = [];
  private lastRow: Buffer | undefined;
  private partial = false;

  constructor(private readonly keepLastRow: boolean) {}

  /** Scan `buf` from `start` until `maxRows` rows end or the buffer does. Call with consecutive ranges. */
  scan(buf: Buffer, start: number, maxRows: number): ScanResult {
    let pos = start;
    let rows = 0;
    let end = start;
    let rowStart = start;
    let lastStart = -1;
    let nextQuote = -2;
    while (rows < maxRows && pos < buf.length) {
      if (this.quoted) {
        const q = buf.indexOf(QUOTE, pos);
        if (q === -1) { pos = buf.length; break; }
        this.quoted = false;
        pos = q + 1;
        continue;
      }
      if (nextQuote !== -1 && nextQuote < pos) nextQuote = buf.indexOf(QUOTE, pos);
      const nl = buf.indexOf(NEWLINE, pos);
      if (nextQuote !== -1 && (nl === -1 || nextQuote < nl)) {
        this.quoted = true;
        pos = nextQuote + 1;
        continue;
      }
      if (nl === -1) { pos = buf.length; break; }
      rows++;
      lastStart = rowStart;
      pos = end = rowStart = nl + 1;
    }
    this.partial = rows > 0 ? pos > end : this.partial || pos > start;
    if (this.keepLastRow) this.remember(buf, start, rows, lastStart, end, pos);
    return { rows, end: rows > 0 && rows === maxRows ? end : pos };
  }

  /** The last complete row seen, without its newline. */
  takeLastRow(): Buffer | undefined {
    const row = this.lastRow;
    this.lastRow = undefined;
    return row;
  }

  /** True while a row is incomplete (bytes after the last newline, or an open quote). */
  get midRow(): boolean {
    return this.quoted || this.partial;
  }

  private remember(buf: Buffer, start: number, rows: number, lastStart: number, end: number, pos: number): void {
    if (rows > 0) {
      // The first row of this call may have begun in an earlier buffer.
      const head = lastStart === start && this.carry.length ? this.carry : [];
      this.lastRow = Buffer.concat([...head, buf.subarray(lastStart, end - 1)]);
      this.carry = [];
    }
    const tailStart = rows > 0 ? end : start;
    // Copy, so a retained tail does not pin a whole network buffer.
    if (pos > tailStart) this.carry.push(Buffer.from(buf.subarray(tailStart, pos)));
  }
}

/** Fields of one CSV row: unquoted empty is NULL, quoted empty is the empty string (PostgreSQL's convention). */
export function parseCsvRow(row: string): (string | null)[] {
  const fields: (string | null)[] = [];
  let i = 0;
  for (;;) {
    if (row[i] === '"') {
      let value = "";
      i++;
      for (;;) {
        const q = row.indexOf('"', i);
        if (q === -1) throw new Error("unterminated quoted CSV field");
        value += row.slice(i, q);
        if (row[q + 1] === '"') { value += '"'; i = q + 2; }
        else { i = q + 1; break; }
      }
      fields.push(value);
    } else {
      const comma = row.indexOf(",", i);
      const value = row.slice(i, comma === -1 ? row.length : comma);
      fields.push(value === "" ? null : value);
      i = comma === -1 ? row.length : comma;
    }
    if (i >= row.length) return fields;
    if (row[i] !== ",") throw new Error(`malformed CSV row near position ${i}`);
    i++;
    if (i === row.length) { fields.push(null); return fields; }
  }
}

/**
 * Frame a plain CSV byte stream (a source without row framing of its own) into blocks that end a chunk
 * every `chunkRows` rows, keeping each chunk's last row when asked.
 */
export async function* frameCsv(source: AsyncIterable<Buffer>, chunkRows: number, keepLastRow: boolean): AsyncGenerator<CsvBlock> {
  const scanner = new CsvRowScanner(keepLastRow);
  let rows = 0;
  for await (const buf of source) {
    let pos = 0;
    while (pos < buf.length) {
      const r = scanner.scan(buf, pos, chunkRows - rows);
      rows += r.rows;
      const chunkEnd = rows === chunkRows;
      yield { data: buf.subarray(pos, r.end), rows: r.rows, chunkEnd, lastRow: chunkEnd && keepLastRow ? scanner.takeLastRow() : undefined };
      if (chunkEnd) rows = 0;
      pos = r.end;
    }
  }
  if (scanner.midRow) throw new Error("the CSV stream ended in the middle of a row");
  if (rows > 0) yield { data: Buffer.alloc(0), rows: 0, chunkEnd: true, lastRow: keepLastRow ? scanner.takeLastRow() : undefined };
}
