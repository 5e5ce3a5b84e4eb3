// A text-protocol row packet written into a VARCHAR batch straight from the packet's bytes: each value is
// a length-encoded string (0xFB for NULL), copied once into the batch, with no Buffer, string or array
// made per value or per row (mysql2's own row parser makes a Buffer per value: most of its CPU). Zero
// dates are counted on the way, and the cursor fields of the last row are remembered as byte ranges.

import type { StringColumn, VectorBatch } from "../../engine/parquet-encoder/batch.ts";
import type { RowFormat } from "../append/row-batches.ts";

/** A row packet as mysql2's packet parser hands it over: the payload is `buffer[offset, end)`. */
export interface MysqlPacket {
  readonly buffer: Buffer;
  readonly offset: number;
  readonly end: number;
}

const NULL_VALUE = 0xfb;
const TWO_BYTES = 0xfc;
const THREE_BYTES = 0xfd;
const ZERO = 0x30;

export class MysqlTextRows implements RowFormat<MysqlPacket> {
  /** Zero dates (`0000-00-00`, `2024-00-15`) seen per column since the last `takeZeroDates`. */
  private zeroDates: number[];
  // The last row's cursor fields: the bytes they are in (the packet object is reused; its buffer is not).
  private cursorSource: Buffer = Buffer.alloc(0);
  private readonly cursorAt: Int32Array;
  private readonly cursorSlot: Int32Array;

  /**
   * `zeroDateColumns`: per column, whether its text is a date or datetime whose zero values are counted;
   * `cursorIndexes`: the columns whose values each chunk's last row reports.
   */
  constructor(
    private readonly zeroDateColumns: readonly boolean[],
    private readonly cursorIndexes: readonly number[],
  ) {
    this.zeroDates = zeroDateColumns.map(() => 0);
    this.cursorAt = new Int32Array(2 * cursorIndexes.length);
    this.cursorSlot = new Int32Array(zeroDateColumns.length).fill(-1);
    cursorIndexes.forEach((c, k) => (this.cursorSlot[c] = k));
  }

  get columns(): number {
    return this.zeroDateColumns.length;
  }

  write(packet: MysqlPacket, batch: VectorBatch, r: number): void {
    const b = packet.buffer;
    let q = packet.offset;
    const columns = this.zeroDateColumns.length;
    for (let c = 0; c < columns; c++) {
      const first = b[q++];
      let length: number;
      if (first < NULL_VALUE) length = first;
      else if (first === NULL_VALUE) {
        batch.setNull(c, r);
        if (this.cursorSlot[c] >= 0) this.cursorAt[2 * this.cursorSlot[c] + 1] = -1;
        continue;
      } else if (first === TWO_BYTES) {
        length = b[q] | (b[q + 1] << 8);
        q += 2;
      } else if (first === THREE_BYTES) {
        length = b[q] | (b[q + 1] << 8) | (b[q + 2] << 16);
        q += 3;
      } else {
        length = b.readUInt32LE(q) + b.readUInt32LE(q + 4) * 2 ** 32;
        q += 8;
      }
      if (q + length > packet.end) throw new Error(`a row packet ends inside value ${c + 1} of ${columns}`);
      (batch.columns[c] as StringColumn).set(r, b, q, q + length);
      if (this.zeroDateColumns[c] && length >= 10 && ((b[q + 5] === ZERO && b[q + 6] === ZERO) || (b[q + 8] === ZERO && b[q + 9] === ZERO))) {
        this.zeroDates[c]++;
      }
      const slot = this.cursorSlot[c];
      if (slot >= 0) {
        this.cursorAt[2 * slot] = q;
        this.cursorAt[2 * slot + 1] = length;
      }
      q += length;
    }
    if (q !== packet.end) throw new Error(`a row packet holds more than its ${columns} values`);
    if (this.cursorIndexes.length) this.cursorSource = b;
  }

  lastCursor(): (string | null)[] | undefined {
    if (!this.cursorIndexes.length) return undefined;
    return this.cursorIndexes.map((_, k) => {
      const at = this.cursorAt[2 * k];
      const length = this.cursorAt[2 * k + 1];
      return length < 0 ? null : this.cursorSource.toString("utf8", at, at + length);
    });
  }

  /** The zero dates counted per column since the last call (a chunk's). */
  takeZeroDates(): number[] {
    const counts = this.zeroDates;
    this.zeroDates = this.zeroDateColumns.map(() => 0);
    return counts;
  }
}
