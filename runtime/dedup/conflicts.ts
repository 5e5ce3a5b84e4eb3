// Clustering that respects conflicts: two records whose `conflict` comparison falls to `else` (different
// dates of birth, different national ids) are different entities, so no chain of links may join them.
// Connected components come first (cluster.ts); only components holding a conflicting pair are rebuilt
// here, strongest link first, refusing each link that would join conflicting records.

import type { DuckDBConnection } from "@duckdb/node-api";
import { gammaSql } from "./comparisons.ts";
import { col, type Model, type TableNames } from "./model.ts";
import { quoteDouble, quoteIdent, quoteLiteral } from "./sql.ts";

/** Components larger than this are checked on their scored pairs only, not on every pair of members. */
const ALL_PAIRS_UP_TO = 1000;

/** SQL giving the index of the first conflict comparison whose `else` level the pair (l, r) falls in, or NULL. */
export function conflictSql(model: Model): string | undefined {
  const whens = model.comparisons.flatMap((c, i) =>
    c.conflict ? [`WHEN (${gammaSql(c)}) = ${c.spec.levels.length} THEN ${i}`] : [],
  );
  return whens.length > 0 ? `CASE ${whens.join(" ")} END` : undefined;
}

interface Edge {
  a: bigint;
  b: bigint;
  weight: number;
}

/**
 * Split the components of the clusters table that hold conflicting records. Writes the refused links
 * (l, r, reason) to `names.refused` and returns how many components were split and links refused.
 */
export async function splitConflicts(
  con: DuckDBConnection,
  model: Model,
  names: TableNames,
  keepPreviousEntities: boolean,
): Promise<{ components: number; refused: number }> {
  await con.run(`CREATE OR REPLACE TABLE ${names.refused} (l UBIGINT, r UBIGINT, reason VARCHAR)`);
  const conflict = conflictSql(model);
  if (!conflict) return { components: 0, refused: 0 };
  const rid = quoteIdent(col.rid);
  const conflicts = quoteIdent(`${unquote(names.refused)}_conflicts`);
  // Every pair of members of a multi-record component is checked (they were never all compared: a
  // chain A–B–C links A and C without scoring them); a very large component only on its scored pairs.
  await con.run(`
    CREATE OR REPLACE TEMP TABLE ${conflicts} AS
    WITH sizes AS (SELECT cluster, count(*) AS n FROM ${names.clusters} GROUP BY cluster HAVING count(*) >= 2),
    members AS (SELECT c.rid, c.cluster, s.n FROM ${names.clusters} c JOIN sizes s USING (cluster)),
    pairs AS (
      SELECT a.rid AS l, b.rid AS r, a.cluster FROM members a JOIN members b
        ON a.cluster = b.cluster AND a.rid < b.rid AND a.n <= ${ALL_PAIRS_UP_TO}
      UNION
      SELECT s.l, s.r, a.cluster FROM ${names.scored} s JOIN members a ON a.rid = s.l JOIN members b ON b.rid = s.r
        WHERE a.cluster = b.cluster AND a.n > ${ALL_PAIRS_UP_TO}
    )
    SELECT p.l, p.r, p.cluster, ${conflict} AS comparison
    FROM pairs p JOIN ${names.records} l ON l.${rid} = p.l JOIN ${names.records} r ON r.${rid} = p.r
    WHERE ${conflict} IS NOT NULL`);
  const affected = `(SELECT DISTINCT cluster FROM ${conflicts})`;
  const q = async (sql: string) => (await con.runAndReadAll(sql)).getRowObjectsJS();
  const nodes = await q(`SELECT rid, CAST(id AS VARCHAR) AS id, cluster FROM ${names.clusters} WHERE cluster IN ${affected}`);
  if (nodes.length === 0) {
    await con.run(`DROP TABLE ${conflicts}`);
    return { components: 0, refused: 0 };
  }
  const prev = quoteIdent(col.prevEntity);
  const isNew = quoteIdent(col.isNew);
  // Records of an untouched previous entity are glued together (infinite weight): they stay one entity.
  const star = keepPreviousEntities
    ? `UNION ALL SELECT r.${rid}, min(r.${rid}) OVER (PARTITION BY r.${prev}), 'Infinity'::DOUBLE FROM ${names.records} r
         WHERE r.${prev} IS NOT NULL AND NOT r.${isNew} AND r.${rid} IN (SELECT rid FROM ${names.clusters} WHERE cluster IN ${affected})`
    : "";
  const edges = (await q(`
    SELECT s.l AS a, s.r AS b, s.match_weight AS weight FROM ${names.scored} s
      JOIN ${names.clusters} c ON c.rid = s.l
      WHERE c.cluster IN ${affected} AND s.match_probability >= ${quoteDouble(model.clusterThreshold)}
    ${star}`)).map((e) => ({ a: e.a as bigint, b: e.b as bigint, weight: Number(e.weight) }));
  const pairs = await q(`SELECT l, r, comparison FROM ${conflicts}`);
  await con.run(`DROP TABLE ${conflicts}`);

  const idOf = new Map(nodes.map((n) => [n.rid as bigint, String(n.id)]));
  const against = new Map<bigint, { other: bigint; comparison: number }[]>();
  for (const p of pairs) {
    const l = p.l as bigint;
    const r = p.r as bigint;
    const comparison = Number(p.comparison);
    if (!against.has(l)) against.set(l, []);
    if (!against.has(r)) against.set(r, []);
    against.get(l)!.push({ other: r, comparison });
    against.get(r)!.push({ other: l, comparison });
  }
  const { labels, refused } = constrainedUnion([...idOf.keys()], edges, against);
  const reason = (x: bigint, y: bigint, c: number) =>
    `refused: would join ${idOf.get(x)} and ${idOf.get(y)}, which conflict on ${model.comparisons[c].name}`;
  await insertRows(con, `CREATE OR REPLACE TEMP TABLE _dd_split (rid UBIGINT, cluster UBIGINT)`, "_dd_split",
    [...labels].map(([node, label]) => `(${node}, ${label})`));
  await con.run(`UPDATE ${names.clusters} SET cluster = s.cluster FROM _dd_split s WHERE s.rid = ${names.clusters}.rid`);
  await con.run(`DROP TABLE _dd_split`);
  await insertRows(con, "", unquote(names.refused),
    refused.map((e) => `(${e.a}, ${e.b}, ${quoteLiteral(reason(e.x, e.y, e.comparison))})`));
  const components = new Set(nodes.map((n) => n.cluster as bigint)).size;
  return { components, refused: refused.length };
}

/**
 * Union-find over `edges`, strongest first, refusing an edge whose two sides hold records that conflict.
 * Returns each node's label (the smallest node of its final group) and the refused edges with the
 * conflicting pair that stopped them.
 */
export function constrainedUnion(
  nodes: bigint[],
  edges: Edge[],
  against: Map<bigint, { other: bigint; comparison: number }[]>,
): { labels: Map<bigint, bigint>; refused: (Edge & { x: bigint; y: bigint; comparison: number })[] } {
  const parent = new Map(nodes.map((n) => [n, n]));
  const members = new Map(nodes.map((n) => [n, [n]]));
  const find = (n: bigint): bigint => {
    let root = n;
    while (parent.get(root) !== root) root = parent.get(root)!;
    for (let x = n; x !== root; ) {
      const next = parent.get(x)!;
      parent.set(x, root);
      x = next;
    }
    return root;
  };
  const sorted = [...edges].sort((e, f) => f.weight - e.weight || (e.a < f.a ? -1 : e.a > f.a ? 1 : e.b < f.b ? -1 : e.b > f.b ? 1 : 0));
  const refused: (Edge & { x: bigint; y: bigint; comparison: number })[] = [];
  for (const edge of sorted) {
    let ra = find(edge.a);
    let rb = find(edge.b);
    if (ra === rb) continue;
    if (members.get(ra)!.length > members.get(rb)!.length) [ra, rb] = [rb, ra];
    let clash: { x: bigint; y: bigint; comparison: number } | undefined;
    for (const x of members.get(ra)!) {
      const hit = against.get(x)?.find((c) => find(c.other) === rb);
      if (hit) {
        clash = { x, y: hit.other, comparison: hit.comparison };
        break;
      }
    }
    // A previous entity's glue is never refused: it was consistent when it was built.
    if (clash && Number.isFinite(edge.weight)) {
      refused.push({ ...edge, ...clash });
      continue;
    }
    parent.set(ra, rb);
    members.get(rb)!.push(...members.get(ra)!);
    members.delete(ra);
  }
  const labels = new Map<bigint, bigint>();
  for (const [root, group] of members) {
    if (find(root) !== root) continue;
    const label = group.reduce((a, b) => (b < a ? b : a));
    for (const n of group) labels.set(n, label);
  }
  return { labels, refused };
}

async function insertRows(con: DuckDBConnection, create: string, table: string, rows: string[]): Promise<void> {
  if (create) await con.run(create);
  for (let i = 0; i < rows.length; i += 5000) {
    await con.run(`INSERT INTO ${quoteIdent(table)} VALUES ${rows.slice(i, i + 5000).join(", ")}`);
  }
}

function unquote(quoted: string): string {
  return quoted.slice(1, -1).replaceAll('""', '"');
}
