// Building blocks of a Delta write: the schema and the Parquet projection of a DuckDB query, a data file
// uploaded and described as an `add` (size and stats from its footer), and the metaData, protocol and
// file actions of an overwrite or an append.

import type { DuckDBConnection } from "@duckdb/node-api";
import { randomUUID } from "node:crypto";
import { stat } from "node:fs/promises";
import { type Lake, lakePath } from "../lake.ts";
import { type Action, type AddFile, encodePath, type Metadata, type Protocol, type RemoveFile } from "./actions.ts";
import { DeltaError, protocolFor, upgradeProtocol } from "./protocol.ts";
import type { Snapshot } from "./replay.ts";
import { type DeltaField, type DeltaStruct, storeColumn } from "./schema.ts";
import { fileStats } from "./stats.ts";

/** The Delta schema of a query's result, and the SELECT list that writes it in Delta's types. */
export interface Projection {
  readonly schema: DeltaStruct;
  /** `SELECT <select> FROM (<query>)` produces what the Parquet file must hold. */
  readonly select: string;
}

export async function projectionOf(con: DuckDBConnection, query: string): Promise<Projection> {
  const result = await con.runAndReadAll(`SELECT * FROM (${query}) LIMIT 0`);
  const names = result.columnNames();
  const seen = new Set<string>();
  for (const name of names) {
    // Delta column names are unique regardless of case (PROTOCOL.md, Schema Serialization Format).
    if (seen.has(name.toLowerCase())) throw new DeltaError(`column "${name}" appears twice (Delta column names must differ in more than case)`);
    seen.add(name.toLowerCase());
  }
  const columns = result.columnTypes().map((type, i) => storeColumn(names[i], type));
  return { schema: { type: "struct", fields: columns.map((c) => c.field) }, select: columns.map((c) => c.select).join(", ") || "*" };
}

export interface DataFile {
  /** A local Parquet file (it is moved into the lake). */
  readonly localFile: string;
  readonly partitionValues?: Readonly<Record<string, string | null>>;
  readonly tags?: Readonly<Record<string, string>>;
  /** File name inside the table (and its partition folder). @default part-<uuid>.parquet */
  readonly name?: string;
}

/**
 * Describe a local Parquet file as an `add` of the table (stats from its footer), then upload it. The
 * file is in the lake but no reader sees it until a commit adds it.
 */
export async function uploadDataFile(lake: Lake, con: DuckDBConnection, root: string, schema: DeltaStruct, file: DataFile, dataChange = true): Promise<AddFile> {
  const stats = await fileStats(con, file.localFile, schema);
  const { size } = await stat(file.localFile);
  const folder = Object.entries(file.partitionValues ?? {}).map(([k, v]) => `${k}=${v ?? "__HIVE_DEFAULT_PARTITION__"}`);
  const relative = [...folder, file.name ?? `part-${randomUUID()}.parquet`].join("/");
  await lake.putFile(file.localFile, lakePath(root, relative));
  return {
    path: encodePath(relative),
    partitionValues: file.partitionValues ?? {},
    size,
    modificationTime: Date.now(),
    dataChange,
    stats: stats.json,
    ...(file.tags ? { tags: file.tags } : {}),
  };
}

/** Rows a file holds, from its `add` stats (every file Mallard writes has them). */
export function rowsOf(add: AddFile): number {
  if (!add.stats) return 0;
  return Number((JSON.parse(add.stats) as { numRecords?: number }).numRecords ?? 0);
}

export interface TableDefinition {
  readonly schema: DeltaStruct;
  readonly partitionColumns?: readonly string[];
  /** Table properties, e.g. Mallard's provenance; replaces the current ones under `mallard.`. */
  readonly configuration?: Readonly<Record<string, string>>;
  readonly name?: string;
}

/**
 * The metaData and protocol actions a commit needs so the table has `definition`: none when nothing
 * changed, a new table's both, or a metaData (and a protocol upgrade when a new column needs a feature).
 * The table id stays; Delta properties (`delta.*`) set by others stay.
 */
export function definitionActions(snapshot: Snapshot | undefined, definition: TableDefinition, now = Date.now()): Action[] {
  const partitionColumns = [...(definition.partitionColumns ?? [])];
  const kept = Object.fromEntries(Object.entries(snapshot?.metadata.configuration ?? {}).filter(([k]) => !k.startsWith("mallard.")));
  const metadata: Metadata = {
    id: snapshot?.metadata.id ?? randomUUID(),
    ...(definition.name ? { name: definition.name } : snapshot?.metadata.name ? { name: snapshot.metadata.name } : {}),
    format: { provider: "parquet", options: {} },
    schemaString: JSON.stringify(definition.schema),
    partitionColumns,
    createdTime: snapshot?.metadata.createdTime ?? now,
    configuration: { ...kept, ...(definition.configuration ?? {}) },
  };
  if (!snapshot) return [{ protocol: protocolFor(definition.schema) }, { metaData: metadata }];
  const actions: Action[] = [];
  const protocol: Protocol = upgradeProtocol(snapshot.protocol, definition.schema);
  if (protocol !== snapshot.protocol) actions.push({ protocol });
  const current = snapshot.metadata;
  const changed =
    current.schemaString !== metadata.schemaString ||
    JSON.stringify(current.partitionColumns) !== JSON.stringify(partitionColumns) ||
    JSON.stringify(current.configuration) !== JSON.stringify(metadata.configuration);
  if (changed) actions.push({ metaData: metadata });
  return actions;
}

/** `remove` actions for every live file of the snapshot (an overwrite). */
export function removeAll(snapshot: Snapshot | undefined, now = Date.now(), dataChange = true): Action[] {
  return [...(snapshot?.files.values() ?? [])].map((add) => ({ remove: removeOf(add, now, dataChange) }));
}

export function removeOf(add: AddFile, now: number, dataChange: boolean): RemoveFile {
  return { path: add.path, deletionTimestamp: now, dataChange, extendedFileMetadata: true, partitionValues: add.partitionValues, size: add.size };
}

/** The schema that holds both: every current column (new types where a column's type changed) and every new one. */
export function mergeSchemas(current: DeltaStruct, incoming: DeltaStruct): DeltaStruct {
  const byName = new Map(incoming.fields.map((f) => [f.name.toLowerCase(), f]));
  const fields: DeltaField[] = current.fields.map((f) => byName.get(f.name.toLowerCase()) ?? f);
  const known = new Set(current.fields.map((f) => f.name.toLowerCase()));
  for (const f of incoming.fields) if (!known.has(f.name.toLowerCase())) fields.push(f);
  return { type: "struct", fields };
}
