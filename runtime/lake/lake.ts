// The lake: where bronze batches, published tables, checkpoints and run records live. Two
// implementations: a local folder (laptop, CI) and Azure Storage (runtime/lake/azure-lake.ts).

import { randomUUID } from "node:crypto";

export interface LakeObject {
  /** Path inside the lake, `/`-separated, no leading slash. @example "bronze/shop/orders/load_date=2026-11-24/0193…parquet" */
  readonly path: string;
  readonly size: number;
  /** Last modification, ms since the epoch (set by `list`): vacuum's age test for files no log references. */
  readonly modified?: number;
}

export interface Versioned<T> {
  readonly value: T;
  /** Opaque version tag for optimistic concurrency (an ETag in Azure, a content hash locally). */
  readonly etag: string;
}

export interface WriteCondition {
  /** Write only if the object still has this etag; `null`: only if it does not exist yet. */
  ifMatch?: string | null;
}

/** A conditional write lost a race: someone else changed the object first. Re-read and retry. */
export class PreconditionFailed extends Error {
  constructor(readonly path: string) {
    super(`lake object ${path} changed concurrently`);
    this.name = "PreconditionFailed";
  }
}

export interface Lake {
  /** Where the lake is, for messages: a folder or a storage URL (never with credentials). */
  readonly location: string;
  /** A small JSON object (state, manifest, run record) with its etag; undefined when absent. */
  readJson<T>(path: string): Promise<Versioned<T> | undefined>;
  /** Write a small JSON object atomically, optionally only if unchanged; returns the new etag. */
  writeJson(path: string, value: unknown, condition?: WriteCondition): Promise<string>;
  /** A small text object (a Delta commit, `_last_checkpoint`) with its etag; undefined when absent. */
  readText(path: string): Promise<Versioned<string> | undefined>;
  /**
   * Write a small text object atomically, optionally only if unchanged. With `ifMatch: null` it is a
   * put-if-absent (`If-None-Match: *` on Azure, an exclusive create locally): how Delta commits are made.
   */
  writeText(path: string, text: string, condition?: WriteCondition): Promise<string>;
  /** Put a local file at `path`, all or nothing: readers see no object or the whole new one. */
  putFile(localFile: string, path: string): Promise<LakeObject>;
  /**
   * Local file paths holding these lake objects, for DuckDB to read. The local lake returns them in
   * place; a remote lake downloads them to its cache folder (kept until `release`).
   */
  localFiles(paths: readonly string[]): Promise<string[]>;
  /**
   * The folder on this machine that `localFiles` returns paths under (lake path `a/b` is `<localRoot>/a/b`):
   * the lake's own folder, or a remote lake's cache. The engine's sandbox lets DuckDB read its table folders.
   */
  readonly localRoot?: string;
  /** Let a remote lake's cache drop the local copies `localFiles` made of these objects (absent: nothing to drop). */
  release?(paths: readonly string[]): Promise<void>;
  /** Objects under a prefix (recursively), in no particular order. */
  list(prefix: string): AsyncIterable<LakeObject>;
  /** Remove one object; absent is fine. */
  delete(path: string): Promise<void>;
  /** A URL or path an outside reader (DuckDB, Power BI) uses for an object. */
  externalPath(path: string): string;
}

/**
 * An id that sorts by creation time (to the millisecond), with a random suffix so two writers never
 * collide: `20261124T151528123Z-b7a06bfb`. Table versions and bronze load ids are both made this way.
 */
export function sortableId(now = new Date()): string {
  return `${now.toISOString().replace(/[-:.]/g, "")}-${randomUUID().slice(0, 8)}`;
}

/** When a sortable id was made (ms since the epoch), from its leading time; NaN for an id of another shape. */
export function sortableIdTime(id: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\d{3})Z/.exec(id);
  return m ? Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6], +m[7]) : Number.NaN;
}

/** Join lake path segments with `/`, dropping empty ones. */
export function lakePath(...parts: string[]): string {
  return parts.flatMap((p) => p.split("/")).filter(Boolean).join("/");
}
