// A lake that counts what is asked of it, for the cost estimate: the storage operations a task would make
// on ADLS Gen2 and the bytes it writes. Azure bills reads and writes per 4 MiB, lists per page of up to
// 5,000 names, and deletes not at all.

import type { Lake, LakeObject, Versioned, WriteCondition } from "../lake/lake.ts";

const BILLING_UNIT = 4 * 1024 * 1024;
const LIST_PAGE = 5000;

export interface StorageUsage {
  writes: number;
  reads: number;
  lists: number;
  bytesWritten: number;
}

/** Operations for a transfer of `bytes`: one per 4 MiB started, at least one. */
export function operationsFor(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / BILLING_UNIT));
}

export class MeteredLake implements Lake {
  readonly usage: StorageUsage = { writes: 0, reads: 0, lists: 0, bytesWritten: 0 };

  constructor(private readonly inner: Lake) {}

  get location(): string {
    return this.inner.location;
  }
  get localRoot(): string | undefined {
    return this.inner.localRoot;
  }

  async readJson<T>(path: string): Promise<Versioned<T> | undefined> {
    this.usage.reads++;
    return this.inner.readJson<T>(path);
  }
  async writeJson(path: string, value: unknown, condition?: WriteCondition): Promise<string> {
    this.wrote(Buffer.byteLength(JSON.stringify(value) ?? ""));
    return this.inner.writeJson(path, value, condition);
  }
  async readText(path: string): Promise<Versioned<string> | undefined> {
    this.usage.reads++;
    return this.inner.readText(path);
  }
  async writeText(path: string, text: string, condition?: WriteCondition): Promise<string> {
    this.wrote(Buffer.byteLength(text));
    return this.inner.writeText(path, text, condition);
  }
  async putFile(localFile: string, path: string): Promise<LakeObject> {
    const object = await this.inner.putFile(localFile, path);
    this.wrote(object.size);
    return object;
  }
  async localFiles(paths: readonly string[]): Promise<string[]> {
    // A remote lake downloads each (a local lake reads in place; in Azure each would be a read).
    this.usage.reads += paths.length;
    return this.inner.localFiles(paths);
  }
  async release(paths: readonly string[]): Promise<void> {
    await this.inner.release?.(paths);
  }
  async *list(prefix: string): AsyncIterable<LakeObject> {
    let seen = 0;
    this.usage.lists++;
    for await (const object of this.inner.list(prefix)) {
      if (++seen % LIST_PAGE === 0) this.usage.lists++;
      yield object;
    }
  }
  delete(path: string): Promise<void> {
    return this.inner.delete(path);
  }
  externalPath(path: string): string {
    return this.inner.externalPath(path);
  }

  private wrote(bytes: number): void {
    this.usage.writes += operationsFor(bytes);
    this.usage.bytesWritten += bytes;
  }
}
