// What a source connector does for a bronze table: describe the table, then stream its rows (or the
// rows after a checkpoint) into local Parquet chunks that the bronze stage commits to the lake.

import type { Engine } from "../engine/engine.ts";

/** One column of a source table as the source declares it and as bronze stores it. */
export interface SourceColumn {
  /** Column name exactly as in the source (case, spaces and quotes preserved). */
  readonly name: string;
  /** Source type as the source spells it. @example "numeric(12,2)", "timestamp with time zone", "integer[]" */
  readonly sourceType: string;
  /** DuckDB type the column has in bronze Parquet. @example "DECIMAL(12,2)", "TIMESTAMPTZ", "INTEGER[]" */
  readonly duckType: string;
  readonly nullable: boolean;
}

export interface TableSchema {
  /** The table as the source names it, schema-qualified, parts unquoted. */
  readonly table: readonly string[];
  readonly columns: readonly SourceColumn[];
}

/**
 * A composite cursor position. Values are the source's own text for each cursor column (exact: no
 * float or time-zone rounding), so the next load starts exactly after it.
 */
export interface CursorPosition {
  readonly columns: readonly string[];
  readonly values: readonly (string | null)[];
}

export interface ExtractRequest {
  readonly schema: TableSchema;
  /** Incremental: rows strictly after `after` in cursor order (all rows when undefined), ordered by cursor. */
  readonly cursor?: {
    readonly columns: readonly string[];
    readonly after?: CursorPosition;
    /** Seconds to re-read behind the first cursor column of `after`, for late-arriving rows. */
    readonly lookBackSeconds?: number;
    /** Only rows at or before this position: fixed once per run so parallel partitions agree on the end. */
    readonly until?: CursorPosition;
  };
  /** Only rows with `column` in [from, to) (partitioned extraction). Bounds are source text literals. */
  readonly range?: { readonly column: string; readonly from?: string; readonly to?: string; readonly includeNulls?: boolean };
  /** Rows per chunk; each chunk is a Parquet file the caller commits (with its checkpoint) before the next. */
  readonly chunkRows: number;
  /** Folder for the chunk files. */
  readonly workDir: string;
}

export interface ExtractedChunk {
  /** Local Parquet file with the chunk's rows, columns as in the schema. */
  readonly file: string;
  readonly rows: number;
  readonly bytes: number;
  /** Cursor position of the chunk's last row (incremental only): the checkpoint once this chunk is committed. */
  readonly lastCursor?: CursorPosition;
}

export interface SourceConnector {
  /** Columns and types of a table; throws SourceError naming the table when it does not exist. */
  describe(table: string): Promise<TableSchema>;
  /** Min and max of a column as source text, for splitting into partitions. */
  bounds(schema: TableSchema, column: string): Promise<{ min: string | null; max: string | null }>;
  /**
   * Inner boundaries (source text, ascending) that split a column's values into ranges: `count - 1`
   * equal-width cuts between min and max, or every `step` from min. Empty for an empty table.
   */
  splitPoints(schema: TableSchema, column: string, split: { count: number } | { step: number | string }): Promise<string[]>;
  /** The greatest cursor position in the table now (undefined when no row has a non-NULL cursor). */
  cursorMax(schema: TableSchema, columns: readonly string[]): Promise<CursorPosition | undefined>;
  /** Stream the requested rows into Parquet chunks, one at a time; memory stays bounded. */
  extract(request: ExtractRequest, engine: Engine): AsyncIterable<ExtractedChunk>;
  close(): Promise<void>;
}
