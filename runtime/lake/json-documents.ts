// Small JSON documents in the lake that several writers change (a run's dispatch state, its run record):
// every change is a read-modify-write made conditional on the ETag of the version it was computed from,
// re-applied to a fresh read when another writer got there first. For the writers of one process (the
// workers of `mallard run --queue`, a Functions instance running several messages) it saves round trips:
// - changes asked for while a write of the same document is in flight go together into the next write;
// - a write starts from the version this process last read or wrote instead of reading it first. If
//   another process wrote since, the ETag condition fails and the changes are applied to a fresh read,
//   exactly as without the memory;
// - a batch that writes nothing (a duplicate message, a lost claim) is decided on a fresh read, never on
//   the remembered version, so what a caller is told is what the lake held.
// Each change therefore lands once, on the version it was decided on.

import { type Lake, PreconditionFailed, type Versioned } from "./lake.ts";

/** A change: the next value to write (none: write nothing) and its caller's result. It may run more than once. */
export type DocumentChange<T, R> = (current: T | undefined) => { next?: T; result: R };

interface Pending<T> {
  readonly change: DocumentChange<T, unknown>;
  readonly resolve: (outcome: { result: unknown; value: T | undefined }) => void;
  readonly reject: (error: unknown) => void;
}

export interface JsonDocumentsOptions<T> {
  /** Whether a version is worth remembering (a finished run's documents change no more). @default always */
  remember?: (value: T) => boolean;
  /** Documents remembered at most; the oldest are forgotten first. @default 64 */
  capacity?: number;
}

export class JsonDocuments<T> {
  private readonly known = new Map<string, Versioned<T>>();
  /** Changes waiting for the next write of a document, and the write in flight, by lake path. */
  private readonly waiting = new Map<string, Pending<T>[]>();
  private readonly writing = new Map<string, Promise<void>>();

  constructor(readonly lake: Lake, private readonly options: JsonDocumentsOptions<T> = {}) {}

  /** The document as the lake holds it now (always a read). */
  async read(path: string): Promise<Versioned<T> | undefined> {
    const found = await this.lake.readJson<T>(path);
    if (found) this.remember(path, found);
    return found;
  }

  /** The version this process last read or wrote, if it remembers one (possibly no longer the newest). */
  remembered(path: string): T | undefined {
    return this.known.get(path)?.value;
  }

  /** Create the document; PreconditionFailed when it exists. */
  async create(path: string, value: T): Promise<void> {
    const etag = await this.lake.writeJson(path, value, { ifMatch: null });
    this.remember(path, { value, etag });
  }

  /**
   * Apply `change` to the document and write what it returns, conditional on the version it saw, until a
   * write holds. Resolves with the change's result from that version and the document as then written
   * (or read, when nothing was written). A change that throws fails alone; the others in its batch land.
   */
  update<R>(path: string, change: DocumentChange<T, R>): Promise<{ result: R; value: T | undefined }> {
    return new Promise((resolve, reject) => {
      const entry: Pending<T> = { change, resolve: resolve as Pending<T>["resolve"], reject };
      const batch = this.waiting.get(path);
      if (batch) return void batch.push(entry);
      const changes = [entry];
      this.waiting.set(path, changes);
      const write = (this.writing.get(path) ?? Promise.resolve()).then(() => {
        this.waiting.delete(path);
        return this.apply(path, changes);
      });
      this.writing.set(path, write);
      void write.finally(() => {
        if (this.writing.get(path) === write) this.writing.delete(path);
      });
    });
  }

  /** One conditional write holding every change of the batch, applied in the order they were asked for. */
  private async apply(path: string, changes: Pending<T>[]): Promise<void> {
    const failures = new Map<Pending<T>, unknown>();
    try {
      let base = this.known.get(path);
      let fresh = base === undefined;
      if (!base) base = await this.lake.readJson<T>(path);
      for (;;) {
        failures.clear();
        let value = base?.value;
        const results: unknown[] = [];
        for (const c of changes) {
          try {
            const { next, result } = c.change(value);
            if (next !== undefined) value = next;
            results.push(result);
          } catch (error) {
            failures.set(c, error);
            results.push(undefined);
          }
        }
        const writes = value !== base?.value;
        if (!writes && !fresh) {
          // Nothing to write, decided on a remembered version: decide again on what the lake holds now.
          base = await this.lake.readJson<T>(path);
          fresh = true;
          continue;
        }
        if (writes) {
          try {
            const etag = await this.lake.writeJson(path, value, { ifMatch: base ? base.etag : null });
            this.remember(path, { value: value as T, etag });
          } catch (e) {
            if (!(e instanceof PreconditionFailed)) throw e;
            this.known.delete(path);
            base = await this.lake.readJson<T>(path);
            fresh = true;
            continue;
          }
        }
        // The write held on `base`'s ETag, or `base` is a fresh read: every change saw the document as it was.
        changes.forEach((c, i) => (failures.has(c) ? c.reject(failures.get(c)) : c.resolve({ result: results[i], value })));
        return;
      }
    } catch (error) {
      for (const c of changes) c.reject(failures.get(c) ?? error);
    }
  }

  private remember(path: string, version: Versioned<T>): void {
    this.known.delete(path);
    if (this.options.remember && !this.options.remember(version.value)) return;
    this.known.set(path, version);
    if (this.known.size > (this.options.capacity ?? 64)) this.known.delete(this.known.keys().next().value!);
  }
}
