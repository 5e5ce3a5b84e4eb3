// Connected components in SQL by min-label propagation with pointer jumping: each round a node takes
// the smallest label among itself and its neighbours, then the label of its label. Rounds grow with
// log(cluster diameter), not the diameter, and only nodes that have an edge take part.

import type { DuckDBConnection } from "@duckdb/node-api";
import { StageError } from "../errors.ts";
import { col, type Model, type TableNames } from "./model.ts";
import { quoteDouble, quoteIdent } from "./sql.ts";

/** Bound on rounds: pointer jumping needs about log2(diameter) + a few; hitting it means a bug. */
const MAX_ROUNDS = 200;

/**
 * Build the clusters table (rid, cluster) over all records: edges are pairs at or above the threshold,
 * plus, in an incremental run, each record not linked this run tied to its previous entity (so untouched
 * entities stay whole and a new record that links two of them merges them).
 */
export async function clusterRecords(
  con: DuckDBConnection,
  model: Model,
  names: TableNames,
  keepPreviousEntities: boolean,
): Promise<{ rounds: number; edges: number }> {
  const rid = quoteIdent(col.rid);
  const prev = quoteIdent(col.prevEntity);
  const star = keepPreviousEntities
    ? `UNION ALL
       SELECT ${rid}, min(${rid}) OVER (PARTITION BY ${prev}) FROM ${names.records}
       WHERE ${prev} IS NOT NULL AND NOT ${quoteIdent(col.isNew)}`
    : "";
  await con.run(`
    CREATE OR REPLACE TABLE ${names.edges} AS
    WITH e AS (
      SELECT l AS a, r AS b FROM ${names.scored} WHERE match_probability >= ${quoteDouble(model.clusterThreshold)}
      ${star}
    )
    SELECT a, b FROM e WHERE a <> b UNION ALL SELECT b, a FROM e WHERE a <> b`);
  const edgeCount = Number((await con.runAndReadAll(`SELECT count(*) AS n FROM ${names.edges}`)).getRowObjectsJS()[0].n);
  await con.run(`CREATE OR REPLACE TABLE ${names.labels} AS SELECT DISTINCT a AS node, a AS label FROM ${names.edges}`);
  let rounds = 0;
  for (;;) {
    rounds++;
    if (rounds > MAX_ROUNDS) throw new StageError(`clustering did not converge in ${MAX_ROUNDS} rounds`);
    await con.run(`
      CREATE OR REPLACE TABLE ${names.labelsNext} AS
      WITH nb AS (
        SELECT e.a AS node, min(x.label) AS label FROM ${names.edges} e JOIN ${names.labels} x ON x.node = e.b GROUP BY e.a
      ), step AS (
        SELECT lb.node, least(lb.label, coalesce(nb.label, lb.label)) AS label
        FROM ${names.labels} lb LEFT JOIN nb USING (node)
      )
      SELECT s.node, least(s.label, j.label) AS label FROM step s JOIN step j ON j.node = s.label`);
    const changed = await con.runAndReadAll(`
      SELECT count(*) AS n FROM ${names.labelsNext} n JOIN ${names.labels} o USING (node) WHERE n.label <> o.label`);
    await con.run(`DROP TABLE ${names.labels}; ALTER TABLE ${names.labelsNext} RENAME TO ${quoteIdent(unquote(names.labels))}`);
    if (Number(changed.getRowObjectsJS()[0].n) === 0) break;
  }
  await con.run(`
    CREATE OR REPLACE TABLE ${names.clusters} AS
    SELECT r.${rid} AS rid, r.${quoteIdent(col.id)} AS id, r.${prev} AS prev_entity, r.${quoteIdent(col.hash)} AS record_hash,
           coalesce(lb.label, r.${rid}) AS cluster
    FROM ${names.records} r LEFT JOIN ${names.labels} lb ON lb.node = r.${rid}`);
  return { rounds, edges: edgeCount / 2 };
}

/** Table names are kept quoted; RENAME TO wants the bare name re-quoted by the one helper. */
function unquote(quoted: string): string {
  return quoted.slice(1, -1).replaceAll('""', '"');
}
