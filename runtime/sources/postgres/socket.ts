// The socket of a PostgreSQL connection without TLS, reading into one buffer it reuses. Node's usual
// socket allocates a new buffer for every read (~2,700 per 2M-row extraction of the benchmark table),
// which the garbage collector then has to chase, and passes each through the readable-stream machinery.
// Here a COPY's reader (copy-out.ts) takes the bytes in place, decodes them before the next read, and
// pauses the socket when it has enough; outside a COPY, pg gets a copy of each read as a 'data' event,
// as from any socket. With TLS, pg wraps a plain socket as usual (the TLS layer does its own reads).

import net from "node:net";

/** Read size: larger reads mean fewer calls for the same bytes. */
const READ_BYTES = 256 << 10;

/** Takes a read's bytes in place (they are overwritten by the next read); false pauses the socket. */
export type DirectReader = (bytes: Buffer) => boolean;

const readers = new WeakMap<net.Socket, { reader: DirectReader | undefined }>();

/** For pg's `stream` option: a reused-buffer socket when the connection has no TLS, else a plain one. */
export function pgSocket(config: { ssl?: unknown }): net.Socket {
  if (config.ssl) return new net.Socket();
  const slot: { reader: DirectReader | undefined } = { reader: undefined };
  // `onread` in the constructor is Node's (v12.1+), missing from @types/node's constructor options.
  const socket: net.Socket = new net.Socket({
    onread: {
      buffer: Buffer.allocUnsafe(READ_BYTES),
      callback: (length: number, buffer: Uint8Array) => {
        const bytes = Buffer.from(buffer.buffer, buffer.byteOffset, length);
        if (slot.reader) return slot.reader(bytes);
        socket.emit("data", Buffer.from(bytes)); // pg keeps partial messages: it gets its own copy
        return true;
      },
    },
  } as net.SocketConstructorOpts);
  readers.set(socket, slot);
  return socket;
}

/**
 * Send the socket's reads to `reader` until `release` (answers false for a socket that reads the usual
 * way: its bytes come as 'data' events). While taken, pg sees nothing.
 */
export function takeReads(socket: net.Socket, reader: DirectReader): (() => void) | undefined {
  const slot = readers.get(socket);
  if (!slot) return undefined;
  slot.reader = reader;
  return () => {
    slot.reader = undefined;
  };
}
