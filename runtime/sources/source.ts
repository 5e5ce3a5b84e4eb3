// The source contract: what every source (a database, a REST API, a folder of files) does for bronze.
// A source serves resources (a table, an endpoint, a file pattern). For each it discovers the schema and
// reads a full or incremental slice as a stream of typed chunks (local Parquet files) with bounded
// memory; a source that can, also splits a resource into ranges for parallel extraction.
// The cursor rules (composite cursors, look-back, checkpoint validation, cursor → predicate or request
// parameter) are not here and in no source: they are in incremental.ts, which every source uses.
// See docs/sources.md.

import type { Resource } from "../declare/sources.ts";
import type { Engine } from "../engine/engine.ts";
import type { CursorSlice } from "./incremental.ts";

/** One column of a resource as the source declares it and as bronze stores it. */
export interface SourceColumn {
  /** Column name exactly as in the source (case, spaces and quotes preserved). */
  readonly name: string;
  /** Source type as the source spells it. @example "numeric(12,2)", "timestamp with time zone", "integer[]" */
  readonly sourceType: string;
  /** DuckDB type the column has in bronze Parquet. @example "DECIMAL(12,2)", "TIMESTAMPTZ", "INTEGER[]" */
  readonly duckType: string;
  readonly nullable: boolean;
  /** Stored as the source's own text of each value (a `columns: { c: "text" }` override): duckType is VARCHAR. */
  readonly asText?: boolean;
}

/** A resource's shape, as `discover` answers it. Stored in bronze state and plans: plain JSON. */
export interface ResourceSchema {
  /** The resource as messages name it: `public."Order Lines"`, `GET /v1/orders`, `landing/orders/*.csv`. */
  readonly label: string;
  /** Where the resource is in its source, for its connector only. @example ["public", "Order Lines"] */
  readonly address: readonly string[];
  readonly columns: readonly SourceColumn[];
  /** A file source: the files a read of this schema delivers, in order, each with what it holds or why it is refused. */
  readonly files?: readonly DiscoveredFile[];
  /** A file source that keeps a ledger: the one the read starts from (files gone from the drop dropped). Chunks carry it forward. */
  readonly ledger?: FileLedger;
  /**
   * A file source: files left for a later run because they changed within the settle time (they may still
   * be being written), so a run that loads none of them says why rather than nothing.
   */
  readonly settling?: { readonly files: number; readonly seconds: number };
}

/** A file of a file source as listed: its path under the source's folder, its size and last change (ms since 1970). */
export interface SourceFile {
  readonly path: string;
  readonly size: number;
  readonly modified: number;
}

/** A file `discover` found: its own columns (name and DuckDB type), or why it cannot be read. */
export interface DiscoveredFile extends SourceFile {
  readonly columns?: readonly { readonly name: string; readonly type: string }[];
  readonly rejected?: string;
  /** Rows already in bronze from a load that stopped inside this file: the read starts after them. */
  readonly skip?: number;
  /** Values the file could not store as they were, for the run record. */
  readonly warnings?: readonly string[];
}

/** A file bronze holds: whole, or (`partial`) its first `rows` rows, so a killed load resumes after them. */
export interface LedgerEntry extends SourceFile {
  readonly rows: number;
  readonly partial?: true;
}

/**
 * A file source's checkpoint: the files bronze holds, committed with the rows that delivered them. A file
 * listed here with the same size and modification time is not read again.
 */
export type FileLedger = readonly LedgerEntry[];

/** What a file moved aside is, and why. */
export interface RejectedFile {
  readonly path: string;
  readonly reason: string;
  /** Where it was moved (undefined when moving it failed too: it is refused again next run). */
  readonly movedTo?: string;
}

/** What else `discover` is told: a file source reads its files with the run's engine, and only files its ledger does not hold. */
export interface DiscoverContext {
  /** The run's engine: a file source reads files in its work folder. */
  readonly engine: Engine;
  /** Files already loaded (a file drop loading new files); undefined: every file. */
  readonly ledger?: FileLedger;
}

/**
 * A composite cursor position. Values are the source's own text for each cursor column (exact: no
 * float or time-zone rounding), so the next load starts exactly after it.
 */
export interface CursorPosition {
  readonly columns: readonly string[];
  readonly values: readonly (string | null)[];
}

/** Rows whose `column` is in [from, to): one range of a partitioned extraction. Bounds are source text. */
export interface RangeSlice {
  readonly column: string;
  readonly from?: string;
  readonly to?: string;
  /** Rows whose `column` is NULL belong to no range; the first range takes them so none is lost. */
  readonly includeNulls?: boolean;
}

export interface ReadRequest {
  readonly schema: ResourceSchema;
  /** Only these columns, in this order (a key scan reads the primary key). @default every schema column */
  readonly columns?: readonly string[];
  /**
   * Incremental: rows after the checkpoint (less look-back) and up to `until`, made by `cursorSlice` in
   * incremental.ts, never by hand. Chunks then come in cursor order and carry their last cursor.
   */
  readonly slice?: CursorSlice;
  /** Partitioned extraction: only this range. */
  readonly range?: RangeSlice;
  /** Rows per chunk: a chunk is what the caller commits (with its checkpoint) before asking for the next. */
  readonly chunkRows: number;
  /** Folder for the chunk files. */
  readonly workDir: string;
  /** Told the rows read from the source since the last call, as they arrive (for progress; must be cheap). */
  readonly onRows?: (rows: number) => void;
}

/** What reconciliation asks a source to sum up: these columns of the rows in the slice (all rows without one). */
export interface ChecksumRequest {
  readonly schema: ResourceSchema;
  readonly columns: readonly string[];
  /** Rows up to the checkpoint (`until`): rows changed after it are the next load's, not drift. */
  readonly slice?: CursorSlice;
}

/** Row count and the exact sum of row hashes (decimal text: it outgrows a double). */
export interface SourceChecksum {
  readonly rows: number;
  readonly sum: string;
}

/** A typed batch of rows: a local Parquet file whose columns are the requested ones, typed as the schema says. */
export interface Chunk {
  /** Removed when the iteration resumes: move or copy it first. */
  readonly file: string;
  readonly rows: number;
  readonly bytes: number;
  /**
   * Incremental only: once this chunk and those before it are committed, everything up to this position
   * has been delivered, so it is the checkpoint. A source that reads in cursor order sets it on every
   * chunk (a killed load resumes after the last committed one); one that cannot sets it on the last.
   */
  readonly lastCursor?: CursorPosition;
  /** A file source: the ledger once this chunk is committed (the files it and the chunks before it completed). */
  readonly ledger?: FileLedger;
  /** A file source: files refused since the last chunk, already moved aside; for the run record. */
  readonly rejected?: readonly RejectedFile[];
  /** Values the source had to change to store them, for the run record. @example ["amount: 2 NaN values stored as NULL"] */
  readonly warnings?: readonly string[];
}

/** How a partitioned extraction is split: `count` ranges of similar row counts, or ranges `step` wide. */
export type SplitRequest = { readonly count: number } | { readonly step: number | string };

/** What a source that can split a resource for parallel extraction offers. */
export interface Partitioner {
  /**
   * Inner range boundaries, ascending and distinct, as source text. `count`: sampled quantiles, so the
   * ranges carry similar row counts however skewed the column. `step`: every step from the minimum.
   * Empty for an empty resource.
   */
  splitPoints(schema: ResourceSchema, column: string, split: SplitRequest): Promise<string[]>;
  /** The greatest cursor position now (undefined when no row has a full cursor): a partitioned run's fixed end. */
  cursorMax(schema: ResourceSchema, columns: readonly string[]): Promise<CursorPosition | undefined>;
}

/** A connection to one declared source, opened once per run and shared by its stages. */
export interface SourceConnector {
  /** The source for messages: its name and address, never a password. */
  readonly where: string;
  /**
   * The resource's columns and types; throws SourceError naming the resource when it does not exist.
   * `known`: the columns bronze holds, for a source that infers types from sampled data (an API): it
   * keeps a known column's type while the sample fits it, so a sparse field does not flip types.
   */
  discover(resource: Resource, known?: readonly SourceColumn[], context?: DiscoverContext): Promise<ResourceSchema>;
  /** Stream the requested rows as chunks, one at a time; memory stays bounded whatever the resource's size. */
  read(request: ReadRequest, engine: Engine): AsyncIterable<Chunk>;
  /** Present when the source can split a resource into ranges. */
  readonly partitioner?: Partitioner;
  /**
   * Present when the source can compute the reconciliation checksum itself (runtime/reconcile/canonical.ts):
   * one row back instead of every key. Without it, reconciliation reads the columns through `read`.
   */
  checksum?(request: ChecksumRequest): Promise<SourceChecksum>;
  /** The source's own estimate of a resource's rows (catalog statistics, no scan), for progress; undefined when it has none. */
  estimateRows?(schema: ResourceSchema): Promise<number | undefined>;
  /** Why a column cannot be a cursor in this source beyond the common rules (incremental.ts), or undefined. */
  refuseCursor?(column: SourceColumn): string | undefined;
  close(): Promise<void>;
}
