// A deterministic zip writer (and a reader for checks and tests): sorted entries, fixed timestamps and
// modes, so the same files always give the same bytes and the same hash, and a redeploy happens only when
// the code really changed. Deflate from node:zlib; no dependency.

import { createHash } from "node:crypto";
import { crc32, deflateRawSync, inflateRawSync } from "node:zlib";

export interface ZipEntry {
  /** Path inside the archive, with forward slashes. @example "node_modules/@duckdb/node-bindings-linux-x64/duckdb.node" */
  path: string;
  data: Uint8Array;
}

// 1980-01-01 00:00, the zip epoch: MS-DOS time 0, date (0 << 9) | (1 << 5) | 1.
const DOS_TIME = 0;
const DOS_DATE = (1 << 5) | 1;
const VERSION = 20;
const UNIX = 3;
const DEFLATE = 8;
const STORE = 0;
const FILE_MODE = 0o100644;

// Deflating the 70 MB DuckDB library takes seconds; a process that zips twice (preview, tests) does it once:
// by content, and first by the very buffer (the bundle step hands the same binding buffers again), which
// spares hashing 70 MB too.
const deflated = new Map<string, Buffer>();
const packedBuffers = new WeakMap<Uint8Array, { level: number; compressed: Buffer; crc: number }>();

function pack(data: Uint8Array, level: number): { compressed: Buffer; crc: number } {
  const known = packedBuffers.get(data);
  if (known?.level === level) return known;
  const key = `${level}:${createHash("sha256").update(data).digest("hex")}`;
  let compressed = deflated.get(key);
  if (!compressed) {
    compressed = deflateRawSync(data, { level });
    deflated.set(key, compressed);
  }
  const packed = { level, compressed, crc: crc32(data) };
  packedBuffers.set(data, packed);
  return packed;
}

/** Zip bytes of `entries`, in path order. Deflated unless deflating does not shrink the entry. */
export function writeZip(entries: readonly ZipEntry[], level = 6): Buffer {
  const sorted = [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of sorted) {
    const name = Buffer.from(entry.path, "utf8");
    const { compressed, crc } = pack(entry.data, level);
    const stored = compressed.length >= entry.data.length;
    const body = stored ? Buffer.from(entry.data) : compressed;
    if (entry.data.length >= 0xffffffff || offset >= 0xffffffff) throw new Error(`zip: ${entry.path} needs zip64, which this writer does not do`);

    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(VERSION, 4);
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(stored ? STORE : DEFLATE, 8);
    local.writeUInt16LE(DOS_TIME, 10);
    local.writeUInt16LE(DOS_DATE, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(entry.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    locals.push(local, name, body);

    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((UNIX << 8) | VERSION, 4);
    central.writeUInt16LE(VERSION, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(stored ? STORE : DEFLATE, 10);
    central.writeUInt16LE(DOS_TIME, 12);
    central.writeUInt16LE(DOS_DATE, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(entry.data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE((FILE_MODE << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);
    offset += local.length + name.length + body.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(sorted.length, 8);
  end.writeUInt16LE(sorted.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

/** Entries of a zip this writer (or any plain zip without zip64) wrote. */
export function readZip(zip: Buffer): ZipEntry[] {
  const endAt = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (endAt < 0) throw new Error("zip: no end of central directory");
  const count = zip.readUInt16LE(endAt + 10);
  let at = zip.readUInt32LE(endAt + 16);
  const entries: ZipEntry[] = [];
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error("zip: bad central directory entry");
    const method = zip.readUInt16LE(at + 10);
    const size = zip.readUInt32LE(at + 20);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    const localAt = zip.readUInt32LE(at + 42);
    const path = zip.toString("utf8", at + 46, at + 46 + nameLength);
    const dataAt = localAt + 30 + zip.readUInt16LE(localAt + 26) + zip.readUInt16LE(localAt + 28);
    const body = zip.subarray(dataAt, dataAt + size);
    entries.push({ path, data: method === STORE ? Buffer.from(body) : inflateRawSync(body) });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}
