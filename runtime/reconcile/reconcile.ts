// Reconcile a bronze table with its source: the source's row count and checksum (runtime/reconcile/
// canonical.ts) over the key and cursor columns, against bronze's latest rows with deletes applied. The
// source computes its side when its connector can (one row back); otherwise, and to explain a difference,
// the checked columns are read out and DuckDB compares key by key (drift.ts).
//
// What is compared: an incremental table's rows up to the committed checkpoint (rows changed after it are
// the next load's, counted as `pending`, not drift); a full-load table's every row.

import { copyFile, mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import type { BronzeTable } from "../declare/stages.ts";
import { type Engine, queryRows } from "../engine/engine.ts";
import { quoteIdent, quoteLiteral } from "../engine/sql.ts";
import { describeError } from "../errors.ts";
import type { Lake } from "../lake/lake.ts";
import { columnOf, cursorSlice, type CursorSlice, slicePredicates, type SqlDialect } from "../sources/incremental.ts";
import type { CursorPosition, ResourceSchema, SourceChecksum, SourceColumn, SourceConnector } from "../sources/source.ts";
import { registerBronze } from "../stages/bronze-table/register-views.ts";
import type { Reconciliation } from "../state/run-records.ts";
import { checkColumns, DUCKDB_CHECKSUM, rowHash } from "./canonical.ts";
import { classifyDrift } from "./drift.ts";

/** Rows per Parquet file when the checked columns are read out (a few small columns per row). */
const SCAN_CHUNK_ROWS = 2_000_000;

/** DuckDB spelling of a slice over files or a view holding bronze's types: literals cast to the column's type. */
const DUCKDB_DIALECT: SqlDialect = {
  ident: quoteIdent,
  literal: (value, column) => `CAST(${quoteLiteral(value)} AS ${column.duckType})`,
  minusSeconds: (literal) => literal,
  rowComparison: false,
};

export interface ReconcileInput {
  /** The pipeline the stage belongs to (its bronze table is keyed by pipeline and stage). */
  readonly pipeline: string;
  readonly stage: BronzeTable;
  readonly lake: Lake;
  readonly engine: Engine;
  readonly connector: SourceConnector;
  /** The resource's schema as the load discovered it. */
  readonly schema: ResourceSchema;
  /** Bronze's committed checkpoint (incremental tables). */
  readonly checkpoint?: CursorPosition;
}

/** The columns a stage's checksum covers: key, cursor, then the declared extras, each once. */
export function reconciledColumns(stage: BronzeTable): string[] {
  return [...new Set([...stage.primaryKey, ...(stage.incremental?.cursor ?? []), ...(stage.reconcile?.columns ?? [])])];
}

/** Compare bronze with the source. Never throws: a failure is a result with status "error". */
export async function reconcile(input: ReconcileInput): Promise<Reconciliation> {
  const started = Date.now();
  const at = new Date(started).toISOString();
  const names = reconciledColumns(input.stage);
  const upTo = input.stage.incremental ? input.checkpoint : undefined;
  try {
    const columns = names.map((n) => columnOf(input.schema, n, "reconcile"));
    checkColumns(columns);
    const slice = upTo && cursorSlice(input.schema, { columns: input.stage.incremental!.cursor }, undefined, upTo, input.connector.refuseCursor);
    const cursor = input.stage.incremental ? input.stage.incremental.cursor.map((n) => columnOf(input.schema, n, "incremental.cursor")) : [];
    return await input.engine.withConnection(async (con) => {
      const view = "_mallard_reconcile_bronze";
      await registerBronze(con, input.lake, view, input.stage, { pipeline: input.pipeline, stage: "reconcile" });
      // Bronze rows an incremental load can hold: a full refresh may have loaded rows whose cursor is NULL.
      const lakeWhere = cursor.length ? ` WHERE ${cursor.map((c) => `${quoteIdent(c.name)} IS NOT NULL`).join(" AND ")}` : "";
      const lakeSide = await duckChecksum(con, columns, quoteIdent(view), lakeWhere);
      const base = { at, columns: names, ...(upTo ? { upTo } : {}), lake: { rows: lakeSide.rows, checksum: lakeSide.sum } };
      const dir = await mkdtemp(join(input.engine.workDir, "reconcile-"));
      try {
        let files: string[] | undefined;
        const scan = async () => (files ??= await readColumns(input, names, dir));
        // An incremental table with no checkpoint yet holds no rows a cursor reached: read out, every row is pending.
        const pushdown = input.connector.checksum && !(cursor.length && !slice) ? input.connector.checksum.bind(input.connector) : undefined;
        const method = pushdown ? "pushdown" : "scan";
        const sourceSide = pushdown
          ? await pushdown({ schema: input.schema, columns: names, slice })
          : await duckChecksum(con, columns, filesFrom(await scan(), columns), ` WHERE ${windowCondition(slice, cursor)}`);
        const compared = { ...base, method, source: { rows: sourceSide.rows, checksum: sourceSide.sum } } as const;
        if (sourceSide.rows === lakeSide.rows && sourceSide.sum === lakeSide.sum) {
          return { status: "inSync", ...compared, durationMs: Date.now() - started };
        }
        const drift = await classifyDrift(con, {
          columns, key: input.stage.primaryKey.map((n) => columnOf(input.schema, n, "primaryKey")),
          source: filesFrom(await scan(), columns), inside: windowCondition(slice, cursor), lake: `${quoteIdent(view)}${lakeWhere}`,
        });
        const drifted = drift.missing + drift.changed + drift.deleted;
        return { status: drifted ? "drift" : "inSync", ...compared, ...drift, durationMs: Date.now() - started };
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  } catch (error) {
    return { status: "error", at, columns: names, ...(upTo ? { upTo } : {}), error: describeError(error), durationMs: Date.now() - started };
  }
}

/** Count and checksum of `columns` over a FROM item, computed by DuckDB. */
async function duckChecksum(con: Parameters<typeof queryRows>[0], columns: readonly SourceColumn[], from: string, where: string): Promise<SourceChecksum> {
  const { rows, sum } = DUCKDB_CHECKSUM.aggregate(rowHash(DUCKDB_CHECKSUM, columns));
  const [row] = await queryRows<{ row_count: string; hash_sum: string }>(con, `SELECT ${rows} AS row_count, ${sum} AS hash_sum FROM ${from}${where}`);
  return { rows: Number(row.row_count), sum: row.hash_sum };
}

/** Whether a read-out row is inside the compared window (SQL over the file's columns): up to the checkpoint, or every row of a full-load table. */
function windowCondition(slice: CursorSlice | undefined, cursor: readonly SourceColumn[]): string {
  if (slice) return `(${slicePredicates(slice, DUCKDB_DIALECT).join(" AND ")})`;
  return cursor.length ? "false" : "true";
}

/** The read-out files as a FROM item (an empty one typed as the columns when the source has no rows). */
function filesFrom(files: readonly string[], columns: readonly SourceColumn[]): string {
  if (files.length) return `read_parquet([${files.map(quoteLiteral).join(", ")}])`;
  return `(SELECT ${columns.map((c) => `NULL::${c.duckType} AS ${quoteIdent(c.name)}`).join(", ")} WHERE false)`;
}

/** Read the checked columns of every source row into local Parquet files (typed as bronze types them). */
async function readColumns(input: ReconcileInput, columns: readonly string[], dir: string): Promise<string[]> {
  const files: string[] = [];
  for await (const chunk of input.connector.read({ schema: input.schema, columns, chunkRows: SCAN_CHUNK_ROWS, workDir: dir }, input.engine)) {
    if (chunk.rows === 0) continue;
    // A chunk's file is removed when the iteration resumes: keep a copy.
    const kept = join(dir, `columns-${files.length}.parquet`);
    await copyFile(chunk.file, kept);
    files.push(kept);
  }
  return files;
}
