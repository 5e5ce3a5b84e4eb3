// Stable entity ids. Rule: a cluster keeps the id of the previous entity it shares the most records
// with, provided that entity shares no more records with another cluster (so on a split the larger part
// keeps the id; on a merge the id of the entity contributing most records survives). Any other cluster
// gets a fresh id from a hash of its smallest record id (as text), so a rerun from scratch gives the same ids too.

import type { DuckDBConnection } from "@duckdb/node-api";
import { StageError } from "../errors.ts";
import type { Model, TableNames } from "./model.ts";
import { quoteIdent } from "./sql.ts";

/**
 * Write the entities table: (<id>, entity_id, record_hash) for every record. The hash of what linking
 * read lets the next run find the records edited since.
 */
export async function assignEntityIds(
  con: DuckDBConnection,
  model: Model,
  names: TableNames,
): Promise<{ entities: number; carriedOver: number }> {
  const fresh = (seed: string) => `'e' || substr(md5(${seed}), 1, 15)`;
  await con.run(`
    CREATE OR REPLACE TABLE ${names.entities} AS
    WITH c AS (
      SELECT cluster, min(CAST(id AS VARCHAR)) AS min_id FROM ${names.clusters} GROUP BY cluster
    ), overlap AS (
      SELECT cluster, prev_entity, count(*) AS n FROM ${names.clusters}
      WHERE prev_entity IS NOT NULL GROUP BY cluster, prev_entity
    ), ranked AS (
      SELECT o.cluster, o.prev_entity,
             row_number() OVER (PARTITION BY o.cluster ORDER BY o.n DESC, o.prev_entity) AS by_cluster,
             row_number() OVER (PARTITION BY o.prev_entity ORDER BY o.n DESC, c.min_id) AS by_entity
      FROM overlap o JOIN c USING (cluster)
    ), kept AS (
      SELECT cluster, prev_entity FROM ranked WHERE by_cluster = 1 AND by_entity = 1
    ), named AS (
      SELECT c.cluster,
             CASE WHEN k.prev_entity IS NOT NULL THEN k.prev_entity
                  -- a split-off part whose smallest record still hashes to an id in use takes a variant
                  WHEN ${fresh("c.min_id")} IN (SELECT prev_entity FROM kept) THEN ${fresh("c.min_id || '|split'")}
                  ELSE ${fresh("c.min_id")} END AS entity_id,
             k.prev_entity IS NOT NULL AS carried
      FROM c LEFT JOIN kept k USING (cluster)
    )
    SELECT cl.id AS ${quoteIdent(model.id)}, n.entity_id, cl.record_hash, n.carried
    FROM ${names.clusters} cl JOIN named n USING (cluster)`);
  const reader = await con.runAndReadAll(`
    SELECT count(DISTINCT entity_id) AS entities,
           count(DISTINCT entity_id) FILTER (WHERE carried) AS carried,
           (SELECT count(DISTINCT cluster) FROM ${names.clusters}) AS clusters
    FROM ${names.entities}`);
  const row = reader.getRowObjectsJS()[0];
  // One id per cluster is the invariant downstream joins rely on; a clash is a bug, never data.
  if (Number(row.entities) !== Number(row.clusters)) {
    throw new StageError(`entity id clash: ${row.clusters} clusters got ${row.entities} distinct ids`);
  }
  await con.run(`ALTER TABLE ${names.entities} DROP COLUMN carried`);
  return { entities: Number(row.entities), carriedOver: Number(row.carried) };
}
