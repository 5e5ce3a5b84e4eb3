// Bronze data files as Delta files: the table's Delta schema from bronze's columns (plus the load-date
// partition column), and a loaded chunk uploaded as an `add` of it. A chunk already in Delta's types
// (most are) is uploaded as the connector wrote it; one holding a type Delta has no name for (UUID,
// TIME, INTERVAL, JSON, …) or a type the table has since widened is rewritten first, so every file's
// Parquet types agree with the table's schemaString.

import type { DuckDBConnection } from "@duckdb/node-api";
import { copyToParquet } from "../engine/engine.ts";
import { quoteIdent, quoteLiteral } from "../engine/sql.ts";
import type { Lake } from "../lake/lake.ts";
import type { AddFile } from "../lake/delta/actions.ts";
import { type DeltaStruct, duckTypeOf } from "../lake/delta/schema.ts";
import { projectionOf, uploadDataFile } from "../lake/delta/write.ts";
import type { SourceColumn } from "../sources/source.ts";
import { DELETED_COLUMN, LOAD_DATE_COLUMN, LOAD_ID_TAG } from "../stages/bronze-table/log.ts";

const schemas = new Map<string, Promise<DeltaStruct>>();

/**
 * The Delta schema of a bronze table with these columns: each stored as the Delta writer stores its DuckDB
 * type, the deleted-key marker for a stage with deletes, then the load date.
 */
export function bronzeDeltaSchema(con: DuckDBConnection, columns: readonly SourceColumn[], deletes = false): Promise<DeltaStruct> {
  const typed = [
    ...columns.map((c) => `NULL::${c.duckType} AS ${quoteIdent(c.name)}`),
    ...(deletes ? [`NULL::BOOLEAN AS ${quoteIdent(DELETED_COLUMN)}`] : []),
    `NULL::DATE AS ${quoteIdent(LOAD_DATE_COLUMN)}`,
  ];
  const query = `SELECT ${typed.join(", ")}`;
  let schema = schemas.get(query);
  if (!schema) {
    schema = projectionOf(con, query).then((p) => p.schema);
    schema.catch(() => schemas.delete(query));
    schemas.set(query, schema);
  }
  return schema;
}

export interface BronzeFile {
  /** The chunk the connector wrote. */
  readonly localFile: string;
  /** The load (batch) it belongs to: its tag, and the source of its date. */
  readonly loadId: string;
  /** `2026-11-24`: its partition. */
  readonly loadDate: string;
  /** File name inside the partition folder. */
  readonly name: string;
  /** The stage has deletes: the table has the deleted-key marker column. */
  readonly deletes?: boolean;
}

/** Upload a chunk as a file of the bronze table at `root` and describe it as an `add` (not committed). */
export async function uploadBronzeFile(lake: Lake, con: DuckDBConnection, root: string, columns: readonly SourceColumn[], file: BronzeFile): Promise<AddFile> {
  const schema = await bronzeDeltaSchema(con, columns, file.deletes);
  const localFile = await inDeltaTypes(con, file.localFile, schema);
  return uploadDataFile(lake, con, root, schema, {
    localFile,
    partitionValues: { [LOAD_DATE_COLUMN]: file.loadDate },
    tags: { [LOAD_ID_TAG]: file.loadId },
    name: file.name,
  });
}

/** The chunk itself when its Parquet types are the table's, else a rewritten copy that casts them. */
export async function inDeltaTypes(con: DuckDBConnection, localFile: string, schema: DeltaStruct): Promise<string> {
  const source = `SELECT * FROM read_parquet(${quoteLiteral(localFile)})`;
  const own = await projectionOf(con, source);
  const byName = new Map(schema.fields.map((f) => [f.name.toLowerCase(), f]));
  const agrees = own.schema.fields.every((f) => {
    const target = byName.get(f.name.toLowerCase());
    return Object.keys(f.metadata).length === 0 && (!target || JSON.stringify(target.type) === JSON.stringify(f.type));
  });
  if (agrees) return localFile;
  const select = own.schema.fields.map((f) => {
    const target = byName.get(f.name.toLowerCase());
    const column = quoteIdent(f.name);
    return target ? `CAST(${column} AS ${duckTypeOf(target.type)}) AS ${column}` : column;
  });
  const converted = localFile.replace(/(\.parquet)?$/, ".delta.parquet");
  await copyToParquet(con, `SELECT ${select.join(", ")} FROM (${source})`, converted);
  return converted;
}
