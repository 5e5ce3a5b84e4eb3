// Per-file statistics for `add` actions (PROTOCOL.md, "Per-file Statistics"), read from the Parquet
// footer DuckDB wrote: numRecords, and per top-level column nullCount, minValues and maxValues. Nothing
// is estimated: a bound is written only when every row group has an exact one, so a reader skipping
// files by these stats never skips a file it needed.

import type { DuckDBConnection } from "@duckdb/node-api";
import { queryRows } from "../../engine/engine.ts";
import { quoteLiteral } from "../../engine/sql.ts";
import type { DeltaStruct, DeltaType } from "./schema.ts";

/** Strings are bounded by a prefix, as Spark does: long values would bloat the log. */
const STRING_PREFIX = 32;

export interface FileStats {
  readonly numRecords: number;
  /** The `stats` JSON of an `add` action. */
  readonly json: string;
}

interface ChunkStats {
  column_id: number;
  stats_min_value: string | null;
  stats_max_value: string | null;
  stats_null_count: number | null;
  min_is_exact: boolean | null;
  max_is_exact: boolean | null;
}

/** Stats of a local Parquet file holding (some of) `schema`'s columns. */
export async function fileStats(con: DuckDBConnection, file: string, schema: DeltaStruct): Promise<FileStats> {
  const source = quoteLiteral(file);
  const [{ num_rows }] = await queryRows<{ num_rows: bigint }>(con, `SELECT num_rows FROM parquet_file_metadata(${source})`);
  const numRecords = Number(num_rows);
  const leaves = await topLevelLeaves(con, source);
  const chunks = await queryRows<ChunkStats>(
    con,
    `SELECT column_id::INTEGER AS column_id, stats_min_value, stats_max_value, stats_null_count::BIGINT AS stats_null_count, min_is_exact, max_is_exact ` +
      `FROM parquet_metadata(${source})`,
  );
  const types = new Map(schema.fields.map((f) => [f.name.toLowerCase(), f.type]));
  const byColumn = new Map<number, ChunkStats[]>();
  for (const chunk of chunks) byColumn.set(chunk.column_id, [...(byColumn.get(chunk.column_id) ?? []), chunk]);

  const min: string[] = [];
  const max: string[] = [];
  const nulls: string[] = [];
  for (const [leaf, name] of leaves) {
    const type = types.get(name.toLowerCase());
    const groups = byColumn.get(leaf) ?? [];
    if (!type || typeof type !== "string" || groups.length === 0) continue;
    const key = JSON.stringify(name);
    if (groups.every((g) => g.stats_null_count !== null)) {
      nulls.push(`${key}:${groups.reduce((n, g) => n + Number(g.stats_null_count), 0)}`);
    }
    const bound = boundsOf(type, groups);
    if (bound.min !== undefined) min.push(`${key}:${bound.min}`);
    if (bound.max !== undefined) max.push(`${key}:${bound.max}`);
  }
  const json = `{"numRecords":${numRecords},"minValues":{${min.join(",")}},"maxValues":{${max.join(",")}},"nullCount":{${nulls.join(",")}}}`;
  return { numRecords, json };
}

/** Parquet leaf column index → name, for leaves that are top-level columns (not inside a struct, list or map). */
async function topLevelLeaves(con: DuckDBConnection, source: string): Promise<Map<number, string>> {
  const rows = await queryRows<{ name: string; num_children: bigint | null }>(con, `SELECT name, num_children FROM parquet_schema(${source})`);
  const leaves = new Map<number, string>();
  const open: number[] = []; // children still to come, per open group
  let leaf = 0;
  for (const row of rows.slice(1)) {
    const children = Number(row.num_children ?? 0);
    if (children > 0) {
      open.push(children);
      continue;
    }
    if (open.length === 0) leaves.set(leaf, row.name);
    leaf++;
    // A leaf closes every group whose last child it was.
    while (open.length && --open[open.length - 1] === 0) open.pop();
  }
  return leaves;
}

interface Bound {
  min?: string;
  max?: string;
}

/** The smallest min and the largest max over row groups, as JSON literals; none unless all are exact. */
function boundsOf(type: string, groups: readonly ChunkStats[]): Bound {
  const codec = codecFor(type);
  if (!codec) return {};
  const pick = (values: (string | null)[], exact: (boolean | null)[], better: (c: number) => boolean, encode: (v: string) => string | undefined) => {
    if (values.some((v) => v === null) || exact.some((e) => e === false)) return undefined;
    const parsed = values.map((v) => codec.parse(v!));
    if (parsed.some((p) => p === undefined)) return undefined;
    const best = parsed.reduce((a, b) => (better(codec.compare(b!, a!)) ? b : a));
    return encode(best!.text);
  };
  return {
    min: pick(groups.map((g) => g.stats_min_value), groups.map((g) => g.min_is_exact), (c) => c < 0, codec.encodeMin),
    max: pick(groups.map((g) => g.stats_max_value), groups.map((g) => g.max_is_exact), (c) => c > 0, codec.encodeMax),
  };
}

interface Parsed {
  readonly text: string;
  readonly key: bigint | number | Buffer;
}

interface Codec {
  parse(text: string): Parsed | undefined;
  compare(a: Parsed, b: Parsed): number;
  encodeMin(text: string): string | undefined;
  encodeMax(text: string): string | undefined;
}

function compareKeys(a: Parsed, b: Parsed): number {
  if (Buffer.isBuffer(a.key) || Buffer.isBuffer(b.key)) return Buffer.compare(a.key as Buffer, b.key as Buffer);
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

const JSON_NUMBER = /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/;

function codecFor(type: DeltaType & string): Codec | undefined {
  const decimal = /^decimal\(\d+,\s*(\d+)\)$/.exec(type);
  if (decimal || ["byte", "short", "integer", "long"].includes(type)) {
    const scale = decimal ? Number(decimal[1]) : 0;
    return {
      parse: (text) => (/^-?\d+(\.\d+)?$/.test(text) ? { text, key: scaled(text, scale) } : undefined),
      compare: compareKeys,
      encodeMin: (t) => t,
      encodeMax: (t) => t,
    };
  }
  if (type === "float" || type === "double") {
    return {
      parse: (text) => (JSON_NUMBER.test(text) ? { text, key: Number(text) } : undefined),
      compare: compareKeys,
      encodeMin: (t) => t,
      encodeMax: (t) => t,
    };
  }
  if (type === "date") {
    return {
      parse: (text) => (/^\d{4}-\d{2}-\d{2}$/.test(text) ? { text, key: Buffer.from(text) } : undefined),
      compare: compareKeys,
      encodeMin: (t) => JSON.stringify(t),
      encodeMax: (t) => JSON.stringify(t),
    };
  }
  if (type === "timestamp" || type === "timestamp_ntz") {
    // Delta keeps timestamp stats in milliseconds, truncated (readers widen the max by 1 ms).
    const encode = (t: string) => JSON.stringify(`${t.slice(0, 10)}T${t.slice(11, 19)}.${(t.slice(20, 23) + "000").slice(0, 3)}${type === "timestamp" ? "Z" : ""}`);
    return {
      parse: (text) => {
        const m = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?(\+00)?$/.exec(text);
        if (!m || (type === "timestamp") !== (m[4] !== undefined)) return undefined;
        const micros = BigInt(Date.parse(`${m[1]}T${m[2]}Z`)) * 1000n + BigInt((m[3] ?? "").padEnd(6, "0"));
        return { text: `${m[1]} ${m[2]}.${(m[3] ?? "").padEnd(6, "0")}`, key: micros };
      },
      compare: compareKeys,
      encodeMin: encode,
      encodeMax: encode,
    };
  }
  if (type === "string") {
    return {
      parse: (text) => ({ text, key: Buffer.from(text) }),
      compare: compareKeys,
      // A prefix is still a lower bound; a cut value is no upper bound, so a long max is left out.
      encodeMin: (t) => JSON.stringify([...t].slice(0, STRING_PREFIX).join("")),
      encodeMax: (t) => ([...t].length <= STRING_PREFIX ? JSON.stringify(t) : undefined),
    };
  }
  return undefined; // boolean, binary: nullCount only, as Spark does
}

/** `-12.5` at scale 3 → -12500n. */
function scaled(text: string, scale: number): bigint {
  const negative = text.startsWith("-");
  const [whole, fraction = ""] = text.replace("-", "").split(".");
  const digits = BigInt(whole + fraction.padEnd(scale, "0").slice(0, scale));
  return negative ? -digits : digits;
}
