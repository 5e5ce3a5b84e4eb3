// `COPY … TO STDOUT` read straight off the connection's socket. The protocol sends one CopyData message
// per row, so rows are counted and chunks cut from the message framing alone: no CSV scanning, and row
// bytes are copied into 1 MB blocks without a Buffer per row. pg-copy-streams allocates one per row and
// cost up to ~0.7 s of the Node core per million rows in the pipeline, with COPY holding the other
// core (see docs/extraction.md). Like pg-copy-streams, this is a pg "submittable": it takes the socket
// over when pg submits it and hands the rest (CommandComplete, ReadyForQuery, or an error) back to pg.

import type { Socket } from "node:net";
import type pg from "pg";
import type { CsvBlock } from "../csv/chunks.ts";
import { takeReads } from "./socket.ts";

const BLOCK_BYTES = 1 << 20;
const COPY_OUT_RESPONSE = 0x48; // 'H'
const COPY_DATA = 0x64; // 'd'
const COPY_DONE = 0x63; // 'c'
const ERROR_RESPONSE = 0x45; // 'E'

const NOTICE = 0x4e; // 'N'
const PARAMETER_STATUS = 0x53; // 'S'
const NOTIFICATION = 0x41; // 'A'

/** A backend message's 5-byte header (its code, then a length that counts itself), which a read may split. */
export class MessageHeader {
  /** The message's code, once `read` has all five bytes. */
  code = 0;
  /** Its payload's length. */
  payload = 0;
  private readonly bytes = Buffer.alloc(5);
  private have = 0;

  /** Whether a header is half read (its first bytes ended the last read). */
  get split(): boolean {
    return this.have > 0;
  }

  /** Read the header at `chunk[i]`: answers where its payload starts, or -1 when the read ends inside it (kept for the next). */
  read(chunk: Buffer, i: number): number {
    if (this.have === 0 && i + 5 <= chunk.length) {
      // The usual case, read in place (a copy per row would be a native call per row).
      this.code = chunk[i];
      this.payload = ((chunk[i + 1] << 24) | (chunk[i + 2] << 16) | (chunk[i + 3] << 8) | chunk[i + 4]) - 4;
      return i + 5;
    }
    const n = Math.min(5 - this.have, chunk.length - i);
    chunk.copy(this.bytes, this.have, i, i + n);
    this.have += n;
    if (this.have < 5) return -1;
    this.have = 0;
    this.code = this.bytes[0];
    this.payload = this.bytes.readUInt32BE(1) - 4;
    return i + n;
  }
}

/** Refuse a message a COPY OUT does not expect (a notice or a parameter change may come in between). */
export function checkCopyMessage(code: number): void {
  if (code !== COPY_OUT_RESPONSE && code !== NOTICE && code !== PARAMETER_STATUS && code !== NOTIFICATION) {
    throw new Error(`unexpected message '${String.fromCharCode(code)}' during COPY`);
  }
}

interface PgConnection {
  stream: Socket;
  query(text: string): void;
}

type DataHandler = (chunk: Buffer) => void;

/** The submittable pg runs; it only records how the query ended (pg calls these after we hand back). */
class CopyOutQuery {
  connection: PgConnection | undefined;
  error: unknown;
  finished = false;
  private waiter: (() => void) | undefined;

  constructor(readonly text: string) {}

  submit(connection: PgConnection): void {
    this.connection = connection;
    this.wake();
  }

  handleError(error: unknown): void {
    this.error ??= error;
    this.wake();
  }

  handleCommandComplete(): void {}

  handleReadyForQuery(): void {
    this.finished = true;
    this.wake();
  }

  wake(): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.();
  }

  /** Wait for the next wake: pg calling back, or the socket becoming readable or closing. */
  async sleep(): Promise<void> {
    await new Promise<void>((resolve) => (this.waiter = resolve));
  }
}

/** Reads the COPY OUT message stream; what it makes of the rows (`T`) is its own business. */
export interface CopyParser<T> {
  /** Parse socket bytes; answers the unparsed rest once the copy is over (CopyDone or an error), else undefined. */
  push(chunk: Buffer): Buffer | undefined;
  /** What the bytes pushed so far completed. */
  take(): T[];
}

/**
 * Run `COPY (…) TO STDOUT` (CSV) on `client` and yield its bytes in blocks, cut so that every `groupRows`
 * rows a block ends a group (`chunkEnd`) carrying that group's last row (without its newline) when
 * `keepLastRow`. The stream pauses (TCP backpressure reaches the server) while the caller is busy.
 */
export function copyOut(
  client: pg.Client,
  copySql: string,
  options: { groupRows: number; keepLastRow: boolean; maxRowBytes: number },
): AsyncGenerator<CsvBlock> {
  return copyMessages(client, copySql, new FrameParser(options.groupRows, options.keepLastRow, options.maxRowBytes));
}

/** What a parser may have made and not yet handed on before the socket pauses (backpressure to the server). */
const PENDING_HIGH_WATER = 16;

/** Run a `COPY … TO STDOUT` on `client` and yield what `parser` makes of its messages, read straight off the socket. */
export async function* copyMessages<T>(client: pg.Client, copySql: string, parser: CopyParser<T>): AsyncGenerator<T> {
  const query = new CopyOutQuery(copySql);
  // Take the socket over before pg sends the query, so every byte of the response comes here first.
  const originalSubmit = query.submit.bind(query);
  let stream: Socket | undefined;
  let pgHandler: DataHandler | undefined;
  const inPlace: InPlaceState<T> = { pending: [], paused: false, done: false };
  query.submit = (connection: PgConnection) => {
    stream = connection.stream;
    const listeners = stream.listeners("data") as DataHandler[];
    if (listeners.length !== 1) throw new Error(`unexpected pg socket listeners (${listeners.length})`);
    pgHandler = listeners[0];
    inPlace.release = takeReads(stream, (bytes) => readInPlace(inPlace, parser, bytes, pgHandler!, () => query.wake()));
    if (!inPlace.release) {
      stream.removeListener("data", pgHandler);
      stream.pause();
    }
    originalSubmit(connection);
    connection.query(copySql);
  };
  client.query(query as unknown as pg.QueryConfig);
  while (!query.connection && query.error === undefined) await query.sleep();
  if (query.error !== undefined) throw query.error;

  if (inPlace.release) yield* inPlaceMessages(stream!, query, inPlace);
  else yield* streamedMessages(stream!, query, parser, pgHandler!);
  while (!query.finished && query.error === undefined) await query.sleep();
  if (query.error !== undefined) throw query.error;
}

/** A COPY read in place (socket.ts): what the parser made, waiting to be handed on. */
interface InPlaceState<T> {
  pending: T[];
  /** The socket was paused with PENDING_HIGH_WATER things waiting. */
  paused: boolean;
  /** The copy is over and the rest went to pg. */
  done: boolean;
  failure?: unknown;
  release?: () => void;
}

/** The socket's read callback during an in-place COPY: parse the bytes before they are overwritten. */
function readInPlace<T>(state: InPlaceState<T>, parser: CopyParser<T>, bytes: Buffer, pgHandler: DataHandler, wake: () => void): boolean {
  try {
    const rest = parser.push(bytes);
    for (const item of parser.take()) state.pending.push(item);
    if (rest !== undefined) {
      state.done = true;
      state.release!();
      // pg reads CommandComplete and ReadyForQuery (or the error) from its own copy of the rest.
      if (rest.length) pgHandler(Buffer.from(rest));
    }
  } catch (error) {
    // Thrown from a socket callback it would escape as an uncaught exception: the reader throws it instead.
    state.failure = error;
    state.paused = true;
    wake();
    return false;
  }
  wake();
  if (state.done || state.pending.length < PENDING_HIGH_WATER) return true;
  state.paused = true;
  return false;
}

async function* inPlaceMessages<T>(socket: Socket, query: CopyOutQuery, state: InPlaceState<T>): AsyncGenerator<T> {
  const wake = () => query.wake();
  socket.on("close", wake);
  socket.on("end", wake);
  try {
    for (;;) {
      if (state.pending.length > 0) {
        const items = state.pending;
        state.pending = [];
        for (const item of items) yield item;
        continue;
      }
      if (state.failure !== undefined) throw state.failure;
      if (state.done) return;
      if (socket.destroyed || socket.readableEnded) throw query.error ?? new Error("the connection closed during COPY");
      if (state.paused) {
        state.paused = false;
        socket.resume();
      }
      await query.sleep();
      if (query.error !== undefined) throw query.error;
    }
  } finally {
    socket.off("close", wake);
    socket.off("end", wake);
    if (!state.done) state.release?.();
  }
}

/** A COPY read through the stream's buffers (a TLS connection, or a socket that is not socket.ts's). */
async function* streamedMessages<T>(socket: Socket, query: CopyOutQuery, parser: CopyParser<T>, pgHandler: DataHandler): AsyncGenerator<T> {
  const wake = () => query.wake();
  socket.on("readable", wake);
  socket.on("close", wake);
  let detached = false;
  const detach = (rest: Buffer) => {
    detached = true;
    socket.off("readable", wake);
    socket.off("close", wake);
    socket.on("data", pgHandler);
    if (rest.length) pgHandler(rest);
    // pg's handler may have paused the stream; resume after it returns (as pg-copy-streams does).
    process.nextTick(() => socket.resume());
  };

  try {
    while (!detached) {
      const chunk = socket.read() as Buffer | null;
      if (chunk === null) {
        if (socket.destroyed || socket.readableEnded) throw query.error ?? new Error("the connection closed during COPY");
        await query.sleep();
        if (query.error !== undefined) throw query.error;
        continue;
      }
      const stop = parser.push(chunk);
      for (const block of parser.take()) yield block;
      if (stop !== undefined) detach(stop);
    }
  } finally {
    socket.off("readable", wake);
    socket.off("close", wake);
  }
}

/**
 * Parses the COPY OUT message stream: copies CopyData payloads into blocks, counts rows, cuts groups.
 * `push` answers the unparsed rest of the input once the copy is over (CopyDone or an ErrorResponse,
 * which pg must see), else undefined.
 */
export class FrameParser implements CopyParser<CsvBlock> {
  private readonly header = new MessageHeader();
  /** Payload bytes still to read of the current message, and whether it is CopyData. */
  private remaining = 0;
  private inData = false;
  private readonly pool = new BlockPool();
  private block = this.pool.take();
  private blockStart = 0;
  private pos = 0;
  private blockRows = 0;
  private groupRowCount = 0;
  private out: CsvBlock[] = [];
  // Where the last complete row is: pieces carried from flushed blocks, and its range in `lastBlock`.
  private rowCarry: Buffer[] = [];
  private rowStart = 0;
  private lastCarry: Buffer[] = [];
  private lastBlock: Buffer = this.block;
  private lastStart = 0;
  private lastEnd = 0;

  private rowNumber = 0;

  constructor(
    private readonly groupRows: number,
    private readonly keepLastRow: boolean,
    private readonly maxRowBytes = Number.POSITIVE_INFINITY,
  ) {}

  push(chunk: Buffer): Buffer | undefined {
    let i = 0;
    while (i < chunk.length) {
      if (this.remaining > 0) {
        const n = Math.min(this.remaining, chunk.length - i);
        if (this.inData) this.append(chunk, i, i + n);
        this.remaining -= n;
        i += n;
        if (this.remaining === 0 && this.inData) this.endRow();
        continue;
      }
      // A message header: 1 code byte and a 4-byte length (which counts itself), possibly split.
      if (!this.header.split && chunk[i] === COPY_DATA) {
        const next = this.copyRun(chunk, i);
        if (next > i) {
          i = next;
          continue;
        }
      }
      // An error ends the copy: pg reads it. Rows of an unfinished group are dropped, never half-emitted.
      if (!this.header.split && chunk[i] === ERROR_RESPONSE) return chunk.subarray(i);
      i = this.header.read(chunk, i);
      if (i < 0) break;
      const code = this.header.code;
      this.remaining = this.header.payload;
      this.inData = code === COPY_DATA;
      if (this.inData && this.remaining > this.maxRowBytes) {
        throw new RowTooLarge(this.rowNumber + 1, this.remaining, this.maxRowBytes);
      }
      if (this.inData) {
        this.rowStart = this.pos;
        this.rowCarry = NO_PIECES;
        if (this.remaining === 0) this.endRow();
      } else if (code === COPY_DONE) {
        return this.finish(chunk.subarray(i + this.remaining));
      } else {
        checkCopyMessage(code);
      }
    }
    return undefined;
  }

  /**
   * The fast path: a run of whole CopyData messages that fits in the block is copied in one go, then
   * compacted over its 5-byte headers with copyWithin (4x cheaper than a copy call per row). Answers
   * where the run ended (`from` when there is none: a message crosses the chunk or the block's end).
   */
  private copyRun(chunk: Buffer, from: number): number {
    const limit = Math.min(chunk.length, from + this.block.length - this.pos);
    let end = from;
    while (end + 5 <= limit && chunk[end] === COPY_DATA) {
      const next = end + 1 + chunk.readUInt32BE(end + 1);
      if (next - end - 5 > this.maxRowBytes) break; // the slow path reports it
      if (next > limit) break;
      end = next;
    }
    if (end === from) return from;
    const block = this.block;
    chunk.copy(block, this.pos, from, end);
    let src = this.pos;
    const stop = this.pos + (end - from);
    while (src < stop) {
      const length = block.readUInt32BE(src + 1) - 4;
      block.copyWithin(this.pos, src + 5, src + 5 + length);
      this.rowStart = this.pos;
      this.rowCarry = NO_PIECES;
      this.pos += length;
      src += 5 + length;
      // May end a group: that emits the block up to `pos` and goes on in the same block, past what it emitted.
      this.endRow();
    }
    return end;
  }

  /** Blocks completed so far. */
  take(): CsvBlock[] {
    const out = this.out;
    this.out = [];
    return out;
  }

  private append(chunk: Buffer, from: number, to: number): void {
    while (from < to) {
      if (this.pos === this.block.length) this.flush(false);
      const n = Math.min(to - from, this.block.length - this.pos);
      chunk.copy(this.block, this.pos, from, from + n);
      this.pos += n;
      from += n;
    }
  }

  private endRow(): void {
    this.rowNumber++;
    this.blockRows++;
    this.groupRowCount++;
    if (this.keepLastRow) {
      this.lastCarry = this.rowCarry;
      this.lastBlock = this.block;
      this.lastStart = this.rowStart;
      this.lastEnd = this.pos;
    }
    if (this.groupRowCount === this.groupRows) this.flush(true);
  }

  /** Emit the current block (up to `pos`); a full block is replaced, a group end continues after it. */
  private flush(chunkEnd: boolean): void {
    if (this.pos > this.blockStart || chunkEnd) {
      this.out.push({
        data: this.block.subarray(this.blockStart, this.pos),
        rows: this.blockRows,
        chunkEnd,
        lastRow: chunkEnd && this.keepLastRow ? this.lastRow() : undefined,
        release: this.pool.hold(this.block),
      });
    }
    this.blockRows = 0;
    if (chunkEnd) this.groupRowCount = 0;
    if (this.pos === this.block.length) {
      // The block goes back to the pool once written: copy what row tracking still needs from it.
      if (this.keepLastRow) {
        if (this.remaining > 0 && this.inData) this.rowCarry = [...this.rowCarry, Buffer.from(this.block.subarray(this.rowStart, this.pos))];
        if (this.lastBlock === this.block) {
          this.lastCarry = [Buffer.concat([...this.lastCarry, this.block.subarray(this.lastStart, this.lastEnd)])];
          this.lastStart = this.lastEnd = 0;
          this.lastBlock = EMPTY;
        }
      }
      this.pool.release(this.block);
      this.block = this.pool.take();
      this.pos = 0;
    }
    this.blockStart = this.pos;
    this.rowStart = this.pos;
  }

  private lastRow(): Buffer {
    const row = Buffer.concat([...this.lastCarry, this.lastBlock.subarray(this.lastStart, this.lastEnd)]);
    return row.subarray(0, row.length - 1); // without the newline
  }

  private finish(rest: Buffer): Buffer {
    if (this.groupRowCount > 0 || this.pos > this.blockStart) this.flush(this.groupRowCount > 0);
    return rest;
  }
}

const NO_PIECES: Buffer[] = [];
const EMPTY = Buffer.alloc(0);

/**
 * Recycles blocks once everything emitted from them is written, so a long COPY does not fault in fresh
 * memory for every megabyte or make the GC chase external memory (both measured on the Node core).
 */
class BlockPool {
  private readonly free: Buffer[] = [];
  // Weak: blocks whose writes never complete (an abandoned load) are simply collected.
  private readonly refs = new WeakMap<Buffer, number>();

  /** A block held once, by the parser. */
  take(): Buffer {
    const block = this.free.pop() ?? Buffer.allocUnsafe(BLOCK_BYTES);
    this.refs.set(block, 1);
    return block;
  }

  /** One more hold on `block`; the answer drops it (once). */
  hold(block: Buffer): () => void {
    this.refs.set(block, (this.refs.get(block) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.release(block);
    };
  }

  release(block: Buffer): void {
    const left = (this.refs.get(block) ?? 1) - 1;
    this.refs.set(block, left);
    if (left === 0 && this.free.length < 64) this.free.push(block);
  }
}

/** A row whose CSV text exceeds what DuckDB's reader is set to hold. */
export class RowTooLarge extends Error {
  constructor(row: number, bytes: number, limit: number) {
    const mb = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;
    super(`row ${row} of the extraction is ${mb(bytes)} as CSV, more than maxRowBytes (${mb(limit)}); raise the source's maxRowBytes`);
    this.name = "RowTooLarge";
  }
}
