// Reading a snapshot with DuckDB: a view over exactly the snapshot's live files (never a folder glob, so
// files of crashed writes are never seen), every column cast to the table's type (files written before
// a column existed read it as NULL), partition values from the log, and DuckDB types Mallard recorded
// in the schema restored.

import type { DuckDBConnection } from "@duckdb/node-api";
import { quoteIdent, quoteLiteral } from "../../engine/sql.ts";
import type { Lake } from "../lake.ts";
import { type AddFile, dataFilePath } from "./actions.ts";
import type { Snapshot } from "./replay.ts";
import { duckTypeOf, readTypeOf } from "./schema.ts";

/** A value per live file that the view carries as a column (e.g. the load a bronze file came from). */
export interface FileColumn {
  readonly name: string;
  /** DuckDB type. */
  readonly type: string;
  /** A SQL literal for a file's value. */
  value(add: AddFile): string;
}

export interface SnapshotViewOptions {
  readonly fileColumns?: readonly FileColumn[];
}

const FILE = "__mallard_file";

/** Lake paths of a snapshot's live files. */
export function liveFilePaths(snapshot: Snapshot): string[] {
  return [...snapshot.files.keys()].map((p) => dataFilePath(snapshot.root, p));
}

/** `CREATE OR REPLACE TEMP VIEW <view>` reading the snapshot. */
export async function createSnapshotView(con: DuckDBConnection, lake: Lake, snapshot: Snapshot, view: string, options: SnapshotViewOptions = {}): Promise<void> {
  const partitions = new Set(snapshot.metadata.partitionColumns);
  const data = snapshot.schema.fields.filter((f) => !partitions.has(f.name));
  const fileColumns: FileColumn[] = [
    ...snapshot.schema.fields.filter((f) => partitions.has(f.name)).map((f) => partitionColumn(f.name, readTypeOf(f))),
    ...(options.fileColumns ?? []),
  ];
  const order = snapshot.schema.fields.map((f) => f.name);
  const adds = [...snapshot.files.values()];
  const typedEmpty = (names: readonly { name: string; type: string }[]) =>
    `SELECT ${names.length ? names.map((c) => `NULL::${c.type} AS ${quoteIdent(c.name)}`).join(", ") : "NULL AS __none"} WHERE false`;

  if (adds.length === 0) {
    const columns = [
      ...order.map((name) => ({ name, type: readTypeOf(snapshot.schema.fields.find((f) => f.name === name)!) })),
      ...(options.fileColumns ?? []),
    ];
    await con.run(`CREATE OR REPLACE TEMP VIEW ${quoteIdent(view)} AS ${typedEmpty(columns)}`);
    return;
  }
  const local = await lake.localFiles(adds.map((a) => dataFilePath(snapshot.root, a.path)));
  const list = `[${local.map(quoteLiteral).join(", ")}]`;
  // Every data column at least once, typed as stored, so a column no file has yet still reads (as NULL).
  const stored = typedEmpty([...data.map((f) => ({ name: f.name, type: duckTypeOf(f.type) })), { name: FILE, type: "VARCHAR" }]);
  const files = `SELECT * FROM read_parquet(${list}, union_by_name = true, hive_partitioning = false, filename = ${quoteLiteral(FILE)}) UNION ALL BY NAME ${stored}`;
  const cast = (name: string) => {
    const field = data.find((f) => f.name === name);
    return field ? `CAST(d.${quoteIdent(name)} AS ${readTypeOf(field)}) AS ${quoteIdent(name)}` : `f.${quoteIdent(name)}`;
  };
  const projection = [...order.map(cast), ...(options.fileColumns ?? []).map((c) => `f.${quoteIdent(c.name)}`)].join(", ");
  if (fileColumns.length === 0) {
    await con.run(`CREATE OR REPLACE TEMP VIEW ${quoteIdent(view)} AS SELECT ${projection} FROM (${files}) d`);
    return;
  }
  const table = quoteIdent(`${view}__files`);
  await con.run(`CREATE OR REPLACE TEMP TABLE ${table} (${[`${FILE} VARCHAR`, ...fileColumns.map((c) => `${quoteIdent(c.name)} ${c.type}`)].join(", ")})`);
  for (let i = 0; i < adds.length; i += 1000) {
    const rows = adds.slice(i, i + 1000).map((add, j) => `(${[quoteLiteral(local[i + j]), ...fileColumns.map((c) => c.value(add))].join(", ")})`);
    await con.run(`INSERT INTO ${table} VALUES ${rows.join(", ")}`);
  }
  await con.run(`CREATE OR REPLACE TEMP VIEW ${quoteIdent(view)} AS SELECT ${projection} FROM (${files}) d JOIN ${table} f ON f.${FILE} = d.${FILE}`);
}

function partitionColumn(name: string, type: string): FileColumn {
  return {
    name,
    type,
    value: (add) => {
      const raw = add.partitionValues[name];
      return raw === null || raw === undefined || raw === "" ? `NULL::${type}` : `CAST(${quoteLiteral(raw)} AS ${type})`;
    },
  };
}
