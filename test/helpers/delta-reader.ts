// An independent Delta reader for tests, written from PROTOCOL.md alone and sharing no code with
// runtime/lake/delta: it replays the JSON commits (and the newest classic checkpoint) with DuckDB's
// read_json / read_parquet, reconciles file actions in SQL, and reads the live files with read_parquet.
// Tests compare what it sees with what Mallard's reader and `mallard query` see.

import type { DuckDBConnection } from "@duckdb/node-api";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { queryRows } from "../../runtime/engine/engine.ts";

const lit = (s: string) => `'${s.replace(/'/g, "''")}'`;
const ident = (s: string) => `"${s.replace(/"/g, '""')}"`;

const JSON_COLUMNS = `{
  commitInfo: 'JSON',
  protocol: 'STRUCT(minReaderVersion INTEGER, minWriterVersion INTEGER, readerFeatures VARCHAR[], writerFeatures VARCHAR[])',
  metaData: 'STRUCT(id VARCHAR, schemaString VARCHAR, partitionColumns VARCHAR[], configuration MAP(VARCHAR, VARCHAR))',
  txn: 'STRUCT(appId VARCHAR, version BIGINT)',
  add: 'STRUCT(path VARCHAR, partitionValues MAP(VARCHAR, VARCHAR), size BIGINT, dataChange BOOLEAN, stats VARCHAR, tags MAP(VARCHAR, VARCHAR))',
  remove: 'STRUCT(path VARCHAR, deletionTimestamp BIGINT, dataChange BOOLEAN)'
}`;

export interface LogLayout {
  readonly commits: number[];
  readonly checkpoints: number[];
}

export function logLayout(dir: string): LogLayout {
  const names = readdirSync(join(dir, "_delta_log"));
  const pick = (re: RegExp) => names.flatMap((n) => (re.exec(n) ? [Number(re.exec(n)![1])] : [])).sort((a, b) => a - b);
  return { commits: pick(/^(\d{20})\.json$/), checkpoints: pick(/^(\d{20})\.checkpoint\.parquet$/) };
}

/** The fields this reader uses of a checkpoint's action column (NULL where the row holds another action). */
const pack = (column: string, fields: string[]) =>
  `CASE WHEN ${column} IS NULL THEN NULL ELSE struct_pack(${fields.map((f) => `${f} := ${column}.${f}`).join(", ")}) END`;

const file = (dir: string, v: number, suffix: string) => join(dir, "_delta_log", `${String(v).padStart(20, "0")}${suffix}`);

/**
 * A temp table `<name>` of every action up to `version`, with its version (`v`, -1 for a checkpoint's),
 * replayed from the newest checkpoint at or before it when `useCheckpoint`.
 */
export async function loadActions(con: DuckDBConnection, dir: string, name: string, version: number, useCheckpoint = true): Promise<void> {
  const layout = logLayout(dir);
  const checkpoint = useCheckpoint ? layout.checkpoints.filter((c) => c <= version).pop() : undefined;
  const commits = layout.commits.filter((c) => c <= version && (checkpoint === undefined || c > checkpoint));
  const parts: string[] = [];
  if (checkpoint !== undefined) {
    parts.push(
      `SELECT -1::BIGINT AS v, NULL::JSON AS commitInfo, protocol, ` +
        `${pack("metaData", ["id", "schemaString", "partitionColumns", "configuration"])} AS metaData, ` +
        `${pack("txn", ["appId", "version"])} AS txn, ` +
        `${pack("add", ["path", "partitionValues", "size", "dataChange", "stats", "tags"])} AS add, ` +
        `${pack("remove", ["path", "deletionTimestamp", "dataChange"])} AS remove ` +
        `FROM read_parquet(${lit(file(dir, checkpoint, ".checkpoint.parquet"))})`,
    );
  }
  if (commits.length) {
    const list = `[${commits.map((c) => lit(file(dir, c, ".json"))).join(", ")}]`;
    parts.push(
      `SELECT regexp_extract(filename, '(\\d{20})\\.json$', 1)::BIGINT AS v, commitInfo, protocol, metaData, txn, add, remove ` +
        `FROM read_json(${list}, format = 'newline_delimited', columns = ${JSON_COLUMNS}, filename = true)`,
    );
  }
  await con.run(`CREATE OR REPLACE TEMP TABLE ${ident(name)} AS ${parts.join(" UNION ALL ")}`);
}

export interface IndependentSnapshot {
  readonly version: number;
  readonly schema: { fields: { name: string; type: unknown }[] };
  readonly partitionColumns: string[];
  /** Live files: decoded path relative to the table folder → partition values. */
  readonly files: Map<string, Record<string, string | null>>;
}

/** Reconcile the actions (newest action per path wins; a path whose newest action is an add is live). */
export async function independentSnapshot(con: DuckDBConnection, dir: string, version?: number, useCheckpoint = true): Promise<IndependentSnapshot> {
  const target = version ?? Math.max(...logLayout(dir).commits);
  await loadActions(con, dir, "__indep_actions", target, useCheckpoint);
  const [meta] = await queryRows<{ schema: string; partitions: string[] }>(
    con,
    `SELECT metaData.schemaString AS schema, metaData.partitionColumns AS partitions FROM __indep_actions WHERE metaData IS NOT NULL ORDER BY v DESC LIMIT 1`,
  );
  const live = await queryRows<{ path: string; pv: string | null }>(
    con,
    `SELECT path, to_json(arg_max(add, v).partitionValues)::VARCHAR AS pv FROM (` +
      `SELECT v, add.path AS path, add, 'add' AS kind FROM __indep_actions WHERE add IS NOT NULL UNION ALL ` +
      `SELECT v, remove.path, NULL, 'remove' FROM __indep_actions WHERE remove IS NOT NULL) ` +
      `GROUP BY path HAVING arg_max(kind, v) = 'add'`,
  );
  return {
    version: target,
    schema: JSON.parse(meta.schema),
    partitionColumns: meta.partitions ?? [],
    files: new Map(live.map((r) => [decodeURIComponent(r.path), r.pv ? (JSON.parse(r.pv) as Record<string, string | null>) : {}])),
  };
}

/**
 * A temp view `<view>` of the table at `version` (default latest): the live files through read_parquet,
 * partition columns from the log. Columns keep the types the files have.
 */
export async function independentView(con: DuckDBConnection, dir: string, view: string, version?: number): Promise<IndependentSnapshot> {
  const snapshot = await independentSnapshot(con, dir, version);
  const fields = snapshot.schema.fields.map((f) => f.name);
  if (snapshot.files.size === 0) {
    await con.run(`CREATE OR REPLACE TEMP VIEW ${ident(view)} AS SELECT ${fields.map((f) => `NULL AS ${ident(f)}`).join(", ")} WHERE false`);
    return snapshot;
  }
  const paths = [...snapshot.files.keys()];
  const partitionSelect = snapshot.partitionColumns.map((p) => `p.${ident(p)}`);
  const values = paths
    .map((path) => `(${[lit(join(dir, path)), ...snapshot.partitionColumns.map((c) => (snapshot.files.get(path)![c] == null ? "NULL" : lit(snapshot.files.get(path)![c]!)))].join(", ")})`)
    .join(", ");
  const dataColumns = fields.filter((f) => !snapshot.partitionColumns.includes(f));
  const source = `read_parquet([${paths.map((p) => lit(join(dir, p))).join(", ")}], union_by_name = true, hive_partitioning = false, filename = true)`;
  // A column the schema has but no live file holds yet reads as NULL (PROTOCOL.md: readers fill missing columns).
  const inFiles = new Set((await queryRows<{ column_name: string }>(con, `DESCRIBE SELECT * FROM ${source}`)).map((r) => r.column_name.toLowerCase()));
  const data = dataColumns.map((c) => (inFiles.has(c.toLowerCase()) ? `d.${ident(c)}` : `NULL AS ${ident(c)}`));
  await con.run(
    `CREATE OR REPLACE TEMP VIEW ${ident(view)} AS SELECT ${[...data, ...partitionSelect].join(", ")} FROM ${source} d ` +
      `JOIN (VALUES ${values}) p(${["file", ...snapshot.partitionColumns].map(ident).join(", ")}) ON p.file = d.filename`,
  );
  return snapshot;
}
