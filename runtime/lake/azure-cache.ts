// The local disk cache of a remote lake: where lake objects are staged for DuckDB to read (it cannot load
// its azure extension here). Bounded: least recently used files that nobody has pinned are evicted.

import { randomUUID } from "node:crypto";
import { mkdir, readdir, rename, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve, sep } from "node:path";

interface Entry {
  etag: string;
  size: number;
  lastUsed: number;
  pins: number;
}

export interface LakeCacheOptions {
  /** Folder for this cache. @default a fresh folder under `<os tmp>/mallard-lake-cache/` */
  dir?: string;
  /**
   * Budget for unpinned files; pinned files (in use by a task) are never evicted, so the folder can
   * exceed the budget by what is in use. @default 4 GiB
   */
  maxBytes?: number;
}

const DEFAULT_MAX_BYTES = 4 * 1024 ** 3;

export class LakeCache {
  readonly dir: string;
  readonly maxBytes: number;
  private readonly entries = new Map<string, Entry>();
  private clock = 0;
  private ready?: Promise<void>;

  constructor(options: LakeCacheOptions = {}) {
    const base = join(tmpdir(), "mallard-lake-cache");
    this.dir = resolve(options.dir ?? join(base, `${process.pid}-${randomUUID().slice(0, 8)}`));
    this.maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
    if (!options.dir) this.ready = removeDeadSiblings(base);
  }

  /** Where `path` lives in the cache. */
  fileFor(path: string): string {
    const full = resolve(this.dir, path);
    if (!full.startsWith(this.dir + sep)) throw new Error(`lake path escapes the cache: ${path}`);
    return full;
  }

  /** The etag of the cached copy, if there is one. */
  etagOf(path: string): string | undefined {
    return this.entries.get(path)?.etag;
  }

  /** A temp file name beside the final one, for a download that will be renamed into place. */
  async tempFor(path: string): Promise<string> {
    await this.ready;
    const file = this.fileFor(path);
    await mkdir(dirname(file), { recursive: true });
    return `${file}.${randomUUID()}.part`;
  }

  /** Move a finished download (or an uploaded file) into place, replacing an older version atomically. */
  async adopt(path: string, temp: string, etag: string): Promise<void> {
    const file = this.fileFor(path);
    await mkdir(dirname(file), { recursive: true });
    await rename(temp, file);
    const size = (await stat(file)).size;
    const old = this.entries.get(path);
    this.entries.set(path, { etag, size, lastUsed: ++this.clock, pins: old?.pins ?? 0 });
  }

  pin(path: string): void {
    const entry = this.entries.get(path);
    if (entry) {
      entry.pins++;
      entry.lastUsed = ++this.clock;
    }
  }

  release(path: string): void {
    const entry = this.entries.get(path);
    if (entry && entry.pins > 0) entry.pins--;
  }

  /** Bytes currently held on disk. */
  get bytes(): number {
    let total = 0;
    for (const e of this.entries.values()) total += e.size;
    return total;
  }

  /** Evict unpinned files, least recently used first, until the cache is within its budget. */
  async evict(): Promise<void> {
    let total = this.bytes;
    if (total <= this.maxBytes) return;
    const candidates = [...this.entries].filter(([, e]) => e.pins === 0).sort((a, b) => a[1].lastUsed - b[1].lastUsed);
    for (const [path, entry] of candidates) {
      if (total <= this.maxBytes) break;
      this.entries.delete(path);
      total -= entry.size;
      // A reader that already opened the file keeps reading it (POSIX unlink semantics).
      await rm(this.fileFor(path), { force: true });
    }
  }

  /** Forget a path (its lake object was deleted or replaced by this instance). */
  async drop(path: string): Promise<void> {
    const entry = this.entries.get(path);
    if (entry && entry.pins > 0) return;
    this.entries.delete(path);
    await rm(this.fileFor(path), { force: true });
  }

  /** Remove the whole cache folder. */
  async clear(): Promise<void> {
    this.entries.clear();
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** Cache folders of processes that no longer run (a killed function instance) are removed. */
async function removeDeadSiblings(base: string): Promise<void> {
  const names = await readdir(base).catch(() => [] as string[]);
  await Promise.all(
    names.map(async (name) => {
      const pid = Number(name.split("-")[0]);
      if (!Number.isInteger(pid) || pid === process.pid || isAlive(pid)) return;
      await rm(join(base, name), { recursive: true, force: true });
    }),
  );
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}
