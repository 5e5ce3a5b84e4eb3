// Checks a Delta table folder against PROTOCOL.md, independently of Mallard's Delta code: contiguous
// versions, protocol and metaData in version 0, a schemaString consistent with every live file's Parquet
// types, add size / numRecords / stats equal to the real files, partition values present, no live file
// missing, and every checkpoint equal to the replayed JSON log. Returns what it checked.

import assert from "node:assert/strict";
import type { DuckDBConnection } from "@duckdb/node-api";
import { existsSync, readFileSync, statSync } from "node:fs";
import { copyFile, mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Lake } from "../../runtime/lake/lake.ts";
import { queryRows } from "../../runtime/engine/engine.ts";
import { independentSnapshot, loadActions, logLayout } from "./delta-reader.ts";

const lit = (s: string) => `'${s.replace(/'/g, "''")}'`;
const ident = (s: string) => `"${s.replace(/"/g, '""')}"`;

export interface CheckedTable {
  readonly versions: number;
  readonly liveFiles: number;
  readonly rows: number;
  readonly checkpoints: number;
}

type SchemaType = string | { type: string; fields?: { name: string; type: SchemaType }[]; elementType?: SchemaType; keyType?: SchemaType; valueType?: SchemaType };

/** Copy a table folder out of any lake (Azurite too) into `dir`, byte for byte, for the checks below. */
export async function materialize(lake: Lake, root: string, dir: string): Promise<string> {
  const target = join(dir, root);
  for await (const object of lake.list(root)) {
    const [local] = await lake.localFiles([object.path]);
    const file = join(dir, object.path);
    await mkdir(dirname(file), { recursive: true });
    await copyFile(local, file);
  }
  return target;
}

export async function checkDeltaTable(con: DuckDBConnection, dir: string): Promise<CheckedTable> {
  const layout = logLayout(dir);
  assert.ok(layout.commits.length > 0, `${dir}: no commits`);
  assert.deepEqual(layout.commits, layout.commits.map((_, i) => i), `${dir}: versions are not contiguous from 0`);
  const latest = layout.commits.at(-1)!;

  // Version 0 creates the table; no commit holds two protocol or two metaData actions.
  for (const v of layout.commits) {
    const lines = readFileSync(join(dir, "_delta_log", `${String(v).padStart(20, "0")}.json`), "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));
    const count = (key: string) => lines.filter((a) => key in a).length;
    assert.ok(count("protocol") <= 1 && count("metaData") <= 1, `${dir} v${v}: more than one protocol or metaData`);
    if (v === 0) assert.ok(count("protocol") === 1 && count("metaData") === 1, `${dir} v0: protocol and metaData must be in version 0`);
    assert.equal(count("commitInfo"), 1, `${dir} v${v}: one commitInfo`);
  }

  const snapshot = await independentSnapshot(con, dir, latest, false);
  const [proto] = await queryRows<{ p: string }>(con, `SELECT to_json(protocol)::VARCHAR AS p FROM __indep_actions WHERE protocol IS NOT NULL ORDER BY v DESC LIMIT 1`);
  const protocol = JSON.parse(proto.p) as { minReaderVersion: number; minWriterVersion: number; readerFeatures: string[] | null; writerFeatures: string[] | null };
  const ntz = JSON.stringify(snapshot.schema).includes('"timestamp_ntz"');
  if (ntz) {
    assert.deepEqual([protocol.minReaderVersion, protocol.minWriterVersion], [3, 7], `${dir}: timestamp_ntz needs reader 3 / writer 7`);
    assert.ok(protocol.readerFeatures?.includes("timestampNtz") && protocol.writerFeatures?.includes("timestampNtz"), `${dir}: timestampNtz feature`);
  } else {
    assert.deepEqual([protocol.minReaderVersion, protocol.minWriterVersion], [1, 2], `${dir}: no feature is needed, so reader 1 / writer 2`);
  }

  const fields = new Map(snapshot.schema.fields.map((f) => [f.name.toLowerCase(), f.type as SchemaType]));
  let rows = 0;
  const adds = (
    await queryRows<{ path: string; size: bigint; stats: string; pv: string }>(
      con,
      `SELECT a.path, a.size, a.stats, to_json(a.partitionValues)::VARCHAR AS pv FROM (SELECT arg_max(add, v) AS a FROM __indep_actions WHERE add IS NOT NULL GROUP BY add.path)`,
    )
  ).filter((a) => snapshot.files.has(decodeURIComponent(a.path)));
  assert.equal(adds.length, snapshot.files.size, `${dir}: every live file has its add`);
  for (const add of adds) {
    const path = join(dir, decodeURIComponent(add.path));
    assert.ok(existsSync(path), `${dir}: live file ${add.path} is missing`);
    assert.equal(Number(add.size), statSync(path).size, `${dir}: add.size of ${add.path}`);
    const pv = JSON.parse(add.pv ?? "{}") as Record<string, string | null>;
    for (const p of snapshot.partitionColumns) assert.ok(p in pv, `${dir}: ${add.path} has no value for partition column ${p}`);
    const stats = JSON.parse(add.stats) as { numRecords: number; minValues: Record<string, unknown>; maxValues: Record<string, unknown>; nullCount: Record<string, number> };
    const [{ n }] = await queryRows<{ n: bigint }>(con, `SELECT count(*) AS n FROM read_parquet(${lit(path)})`);
    assert.equal(stats.numRecords, Number(n), `${dir}: numRecords of ${add.path}`);
    rows += Number(n);
    await checkFileTypes(con, path, fields, dir);
    await checkStats(con, path, stats, fields, dir);
  }

  // Every checkpoint equals the replay of the JSON commits up to its version.
  for (const c of layout.checkpoints) {
    const fromCheckpoint = await independentSnapshot(con, dir, c, true);
    const fromJson = await independentSnapshot(con, dir, c, false);
    assert.deepEqual([...fromCheckpoint.files].sort(), [...fromJson.files].sort(), `${dir}: checkpoint ${c} files`);
    assert.deepEqual(fromCheckpoint.schema, fromJson.schema, `${dir}: checkpoint ${c} schema`);
  }
  // _last_checkpoint is a hint a writer killed after its checkpoint may not have written yet; when present it names one that exists.
  const hint = join(dir, "_delta_log", "_last_checkpoint");
  if (existsSync(hint)) {
    const last = JSON.parse(readFileSync(hint, "utf8")) as { version: number };
    assert.ok(layout.checkpoints.includes(last.version), `${dir}: _last_checkpoint names a checkpoint that exists`);
  }
  return { versions: latest + 1, liveFiles: adds.length, rows, checkpoints: layout.checkpoints.length };
}

/** Each column of the file has the Parquet type the schemaString promises (PROTOCOL.md, type mappings). */
async function checkFileTypes(con: DuckDBConnection, path: string, fields: Map<string, SchemaType>, dir: string): Promise<void> {
  const columns = await queryRows<{ name: string; type: string | null; converted_type: string | null; logical_type: string | null; scale: bigint | null; precision: bigint | null; num_children: bigint | null }>(
    con,
    `SELECT name, type, converted_type, logical_type, scale, precision, num_children FROM parquet_schema(${lit(path)})`,
  );
  // Top-level columns only: walk the flattened tree, skipping each group's children.
  let i = 1;
  while (i < columns.length) {
    const column = columns[i];
    const expected = fields.get(column.name.toLowerCase());
    assert.ok(expected !== undefined, `${dir}: file ${path} has column ${column.name}, which the schema does not`);
    const where = `${dir}: column ${column.name} in ${path}`;
    if (typeof expected === "string") {
      const decimal = /^decimal\((\d+),(\d+)\)$/.exec(expected);
      if (decimal) {
        assert.equal(column.converted_type, "DECIMAL", where);
        assert.deepEqual([Number(column.precision), Number(column.scale)], [Number(decimal[1]), Number(decimal[2])], `${where}: precision and scale`);
      } else {
        const physical: Record<string, [string, string | null]> = {
          long: ["INT64", "INT_64"], integer: ["INT32", "INT_32"], short: ["INT32", "INT_16"], byte: ["INT32", "INT_8"],
          string: ["BYTE_ARRAY", "UTF8"], binary: ["BYTE_ARRAY", null], boolean: ["BOOLEAN", null], float: ["FLOAT", null],
          double: ["DOUBLE", null], date: ["INT32", "DATE"], timestamp: ["INT64", "TIMESTAMP_MICROS"], timestamp_ntz: ["INT64", "TIMESTAMP_MICROS"],
        };
        assert.ok(physical[expected], `${where}: unexpected Delta type ${expected}`);
        assert.deepEqual([column.type, column.converted_type], physical[expected], `${where}: ${expected}`);
        if (expected === "timestamp") assert.match(column.logical_type ?? "", /isAdjustedToUTC=1/, `${where}: a timestamp is UTC-adjusted`);
        if (expected === "timestamp_ntz") assert.match(column.logical_type ?? "", /isAdjustedToUTC=0/, `${where}: a timestamp_ntz is not UTC-adjusted`);
      }
    } else {
      const kind = expected.type;
      if (kind === "array") assert.equal(column.converted_type, "LIST", where);
      else if (kind === "map") assert.equal(column.converted_type, "MAP", where);
      else assert.ok(Number(column.num_children) === expected.fields!.length, `${where}: struct fields`);
    }
    i += 1 + descendants(columns, i);
  }
}

function descendants(columns: { num_children: bigint | null }[], at: number): number {
  let remaining = Number(columns[at].num_children ?? 0);
  let i = at + 1;
  while (remaining > 0) {
    remaining += Number(columns[i].num_children ?? 0) - 1;
    i++;
  }
  return i - at - 1;
}

/** nullCount, minValues and maxValues equal what SQL computes over the file (timestamps in milliseconds). */
async function checkStats(
  con: DuckDBConnection,
  path: string,
  stats: { minValues: Record<string, unknown>; maxValues: Record<string, unknown>; nullCount: Record<string, number> },
  fields: Map<string, SchemaType>,
  dir: string,
): Promise<void> {
  for (const [name, nulls] of Object.entries(stats.nullCount ?? {})) {
    const [{ n }] = await queryRows<{ n: bigint }>(con, `SELECT count(*) - count(${ident(name)}) AS n FROM read_parquet(${lit(path)})`);
    assert.equal(nulls, Number(n), `${dir}: nullCount.${name} of ${path}`);
  }
  for (const [bound, values] of [["min", stats.minValues], ["max", stats.maxValues]] as const) {
    for (const [name, value] of Object.entries(values ?? {})) {
      const type = fields.get(name.toLowerCase());
      const expr =
        type === "timestamp" ? `strftime(${bound}(${ident(name)}), '%Y-%m-%dT%H:%M:%S.%gZ')`
        : type === "timestamp_ntz" ? `strftime(${bound}(${ident(name)}), '%Y-%m-%dT%H:%M:%S.%g')`
        : type === "date" || type === "string" ? `${bound}(${ident(name)})::VARCHAR`
        : `${bound}(${ident(name)})::VARCHAR`;
      const [{ x }] = await queryRows<{ x: string }>(con, `SELECT ${expr} AS x FROM read_parquet(${lit(path)})`);
      if (type === "string" && bound === "min") assert.ok(x.startsWith(String(value)), `${dir}: minValues.${name} of ${path} is a prefix of the min`);
      else if (typeof value === "number") assert.equal(Number(value), Number(x), `${dir}: ${bound}Values.${name} of ${path}`);
      else assert.equal(value, x, `${dir}: ${bound}Values.${name} of ${path}`);
    }
  }
}
