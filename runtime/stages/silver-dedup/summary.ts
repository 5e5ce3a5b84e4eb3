// What a run report shows of a dedup run, computed while its tables are still in the connection and kept
// in the task record: pairs compared and their match probabilities, cluster sizes, and the
// largest merged entities with each compared column's share of the evidence.

import type { DuckDBConnection } from "@duckdb/node-api";
import { sampleRows } from "../../checks/sample.ts";
import { dedupDefaults } from "../../declare/dedup.ts";
import type { SilverDedup } from "../../declare/stages.ts";
import { queryRows } from "../../engine/engine.ts";
import { quoteIdent, quoteLiteral } from "../../engine/sql.ts";
import type { DedupSummary, MergedEntity } from "../../state/run-records.ts";

/** Histogram bins over [0, 1]. */
export const PROBABILITY_BINS = 20;
const LARGEST = 5;
const MEMBERS = 8;

export interface DedupTables {
  /** The input view (the records). */
  readonly input: string;
  /** Every pair compared this run with its `match_probability` (the engine's scored table). */
  readonly scored: string;
  readonly links: string;
  readonly entities: string;
}

export async function summariseDedup(
  con: DuckDBConnection,
  stage: SilverDedup,
  tables: DedupTables,
  counts: { records: number; candidatePairs: number; links: number; entities: number },
): Promise<DedupSummary> {
  const spec = stage.spec;
  const id = quoteIdent(spec.id);
  const links = quoteIdent(tables.links);
  const entities = quoteIdent(tables.entities);
  const threshold = spec.threshold ?? dedupDefaults.threshold;
  const keptAbove = spec.keepLinksAbove ?? Math.min(threshold, spec.clusterThreshold ?? dedupDefaults.clusterThreshold);

  // No candidate pairs, no scored table.
  const [{ scored }] = await queryRows<{ scored: bigint }>(con, `SELECT count(*) AS scored FROM duckdb_tables() WHERE table_name = ${quoteLiteral(tables.scored)}`);
  const bins = Number(scored) ? await queryRows<{ bin: number; n: bigint }>(con,
    `SELECT least(floor(match_probability * ${PROBABILITY_BINS}), ${PROBABILITY_BINS - 1})::INTEGER AS bin, count(*) AS n FROM ${quoteIdent(tables.scored)} GROUP BY ALL`) : [];
  const probabilityHistogram = Array.from({ length: PROBABILITY_BINS }, () => 0);
  for (const b of bins) probabilityHistogram[b.bin] = Number(b.n);

  const sizes = await queryRows<{ size: bigint; n: bigint }>(con,
    `SELECT size, count(*) AS n FROM (SELECT count(*) AS size FROM ${entities} GROUP BY entity_id) GROUP BY ALL ORDER BY size`);
  const clusterSizes = sizes.map((s) => [Number(s.size), Number(s.n)] as const);

  const largest: MergedEntity[] = [];
  const top = await queryRows<{ entity_id: string; size: bigint }>(con,
    `SELECT entity_id::VARCHAR AS entity_id, count(*) AS size FROM ${entities} GROUP BY entity_id HAVING count(*) > 1 ORDER BY size DESC, entity_id LIMIT ${LARGEST}`);
  const compared = Object.keys(spec.compare);
  const shown = await shownColumns(con, tables.input, spec.id, Object.entries(spec.compare).map(([k, c]) => c.column ?? k));
  for (const e of top) {
    const members = `SELECT ${id} FROM ${entities} WHERE entity_id::VARCHAR = ${quoteLiteral(e.entity_id)}`;
    const [weights] = await queryRows<Record<string, number | null>>(con,
      `SELECT ${compared.map((c) => `avg(${quoteIdent(`${c}_weight`)}) AS ${quoteIdent(c)}`).join(", ")} FROM ${links} ` +
        `WHERE joins_entity AND ${quoteIdent(`${spec.id}_l`)} IN (${members}) AND ${quoteIdent(`${spec.id}_r`)} IN (${members})`);
    const contributions = Object.fromEntries(compared.map((c) => [c, round(weights?.[c] ?? 0)]));
    const rows = await sampleRows(con, `SELECT ${shown.map(quoteIdent).join(", ")} FROM ${quoteIdent(tables.input)} WHERE ${id} IN (${members}) ORDER BY ${id}`, MEMBERS);
    largest.push({ entityId: e.entity_id, size: Number(e.size), contributions, members: rows });
  }
  return { ...counts, probabilityHistogram, threshold, keptAbove, clusterSizes, largest };
}

/** The id and the compared columns that are plain input columns (a comparison may compare an expression). */
async function shownColumns(con: DuckDBConnection, input: string, idColumn: string, compared: readonly string[]): Promise<string[]> {
  const columns = (await queryRows<{ column_name: string }>(con, `SELECT column_name FROM (DESCRIBE ${quoteIdent(input)})`)).map((c) => c.column_name);
  return [idColumn, ...new Set(compared.filter((c) => c !== idColumn && columns.includes(c)))];
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
