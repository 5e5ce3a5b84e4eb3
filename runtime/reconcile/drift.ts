// Explain a checksum difference key by key: the source's checked columns (read out to Parquet, typed as
// bronze types them) joined with bronze's latest rows on the primary key, each row hashed the same way on
// both sides. Counts what is missing, changed, deleted, and what is merely pending (changed after the
// checkpoint), with a few drifted keys for the report.

import type { DuckDBConnection } from "@duckdb/node-api";
import { queryRows } from "../engine/engine.ts";
import { quoteIdent, quoteLiteral } from "../engine/sql.ts";
import type { SourceColumn } from "../sources/source.ts";
import type { SampleRow } from "../state/run-records.ts";
import { DUCKDB_CHECKSUM, rowHash } from "./canonical.ts";

/** Drifted keys kept in the record. */
export const DRIFT_SAMPLE = 10;

export interface DriftInput {
  /** The checked columns (key first). */
  readonly columns: readonly SourceColumn[];
  readonly key: readonly SourceColumn[];
  /** FROM item of the source's read-out columns. */
  readonly source: string;
  /** SQL over the source's columns: whether a row is inside the compared window. */
  readonly inside: string;
  /** FROM item (with its WHERE) of bronze's compared rows. */
  readonly lake: string;
}

export interface Drift {
  readonly missing: number;
  readonly changed: number;
  readonly deleted: number;
  readonly pending: number;
  readonly sample: readonly SampleRow[];
}

export async function classifyDrift(con: DuckDBConnection, input: DriftInput): Promise<Drift> {
  const hash = rowHash(DUCKDB_CHECKSUM, input.columns);
  const keys = input.key.map((c) => quoteIdent(c.name));
  const text = (c: SourceColumn) => `CAST(${quoteIdent(c.name)} AS VARCHAR)`;
  const others = input.columns.filter((c) => !input.key.some((k) => k.name === c.name));
  // Each side's key, its row hash, and the checked columns as text (to say what differs in the sample).
  const side = (alias: string) => keys.map((k) => `${alias}.${k}`);
  const joined =
    `WITH s AS (SELECT ${keys.join(", ")}, ${hash} AS h, ${input.inside} AS inside, ${others.map((c) => `${text(c)} AS ${quoteIdent(`s_${c.name}`)}`).concat("true AS here").join(", ")} FROM ${input.source}), ` +
    `l AS (SELECT ${keys.join(", ")}, ${hash} AS h, ${others.map((c) => `${text(c)} AS ${quoteIdent(`l_${c.name}`)}`).concat("true AS here").join(", ")} FROM ${input.lake}), ` +
    `j AS (SELECT ${keys.map((k, i) => `coalesce(${side("s")[i]}, ${side("l")[i]}) AS ${k}`).join(", ")}, s.h AS sh, l.h AS lh, s.here AS in_source, l.here AS in_lake, coalesce(s.inside, false) AS inside` +
    `${others.map((c) => `, s.${quoteIdent(`s_${c.name}`)}, l.${quoteIdent(`l_${c.name}`)}`).join("")} ` +
    `FROM s FULL OUTER JOIN l ON ${keys.map((k) => `s.${k} = l.${k}`).join(" AND ")}), ` +
    `c AS (SELECT *, CASE WHEN in_source AND NOT inside THEN 'pending' WHEN in_source AND in_lake IS NULL THEN 'missing' ` +
    `WHEN in_source IS NULL THEN 'deleted' WHEN sh <> lh THEN 'changed' END AS problem FROM j)`;
  const [counts] = await queryRows<Record<string, bigint>>(con,
    `${joined} SELECT count(*) FILTER (WHERE problem = 'missing') AS missing, count(*) FILTER (WHERE problem = 'changed') AS changed, ` +
      `count(*) FILTER (WHERE problem = 'deleted') AS deleted, count(*) FILTER (WHERE problem = 'pending') AS pending FROM c`);
  const describe = others.map((c) =>
    `CASE WHEN problem = 'changed' AND ${quoteIdent(`s_${c.name}`)} IS DISTINCT FROM ${quoteIdent(`l_${c.name}`)} ` +
      `THEN ' ' || ${quoteLiteral(c.name)} || ': source ' || coalesce(${quoteIdent(`s_${c.name}`)}, 'NULL') || ', bronze ' || coalesce(${quoteIdent(`l_${c.name}`)}, 'NULL') ELSE '' END`);
  const sample = await queryRows<Record<string, string | null>>(con,
    `${joined} SELECT ${input.key.map((k) => `${text(k)} AS ${quoteIdent(k.name)}`).join(", ")}, problem${describe.length ? ` || ${describe.join(" || ")}` : ""} AS problem ` +
      `FROM c WHERE problem IN ('missing', 'changed', 'deleted') ORDER BY ${keys.map((k) => `c.${k}`).join(", ")} LIMIT ${DRIFT_SAMPLE}`);
  return {
    missing: Number(counts.missing), changed: Number(counts.changed), deleted: Number(counts.deleted), pending: Number(counts.pending),
    sample,
  };
}
