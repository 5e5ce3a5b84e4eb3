// u probabilities from random record pairs: almost every random pair is two different entities, so the
// share of random pairs at each level estimates P(level | non-match).

import type { DuckDBConnection } from "@duckdb/node-api";
import type { Pattern } from "./em.ts";
import { col, type Model, type TableNames } from "./model.ts";
import { patternCounts } from "./patterns.ts";
import { quoteIdent } from "./sql.ts";

/**
 * Pattern counts of about `model.uPairs` random pairs. Records are shuffled by a seeded hash, then each
 * (or, past uPairs records, each of the first uPairs) is paired with the records k positions further on
 * for K distinct offsets in 1..⌊(n−1)/2⌋: records take part equally, no pair is drawn twice, and the
 * sample is the same on every run.
 */
export async function randomPairPatterns(
  con: DuckDBConnection,
  model: Model,
  names: TableNames,
  recordCount: number,
  count: (from: string) => Promise<Pattern[]> = (from) => patternCounts(con, model, from),
): Promise<{ patterns: Pattern[]; pairs: number }> {
  const n = recordCount;
  const maxOffset = Math.floor((n - 1) / 2);
  if (maxOffset < 1) return { patterns: [], pairs: 0 };
  const k = Math.min(maxOffset, Math.max(1, Math.ceil(model.uPairs / n)));
  // With more records than uPairs, one offset would pair every record: only the first of the shuffled
  // records start a pair, so the sample stays at uPairs (a 1M-record run scored 1M random pairs).
  const starts = Math.min(n, Math.ceil(model.uPairs / k));
  const offsets = pickOffsets(k, maxOffset, model.seed);
  const rid = quoteIdent(col.rid);
  const perm = quoteIdent(`${unquote(names.pairs)}_perm`);
  const sample = quoteIdent(`${unquote(names.pairs)}_u`);
  // Materialised in two steps with the partner position computed before the join: written as one
  // query, DuckDB did not plan the (a × offsets) ⋈ b join as a hash join (0.9 s instead of 0.1 s).
  await con.run(`
    CREATE OR REPLACE TEMP TABLE ${perm} AS
    SELECT ${rid} AS rid, row_number() OVER (ORDER BY hash(${rid}, ${model.seed}), ${rid}) - 1 AS pos
    FROM ${names.records}`);
  await con.run(`
    CREATE OR REPLACE TEMP TABLE ${sample} AS
    SELECT x.l, b.rid AS r
    FROM (SELECT a.rid AS l, (a.pos + o.off) % ${n} AS partner
          FROM ${perm} a CROSS JOIN (SELECT unnest([${offsets.join(", ")}]) AS off) o WHERE a.pos < ${starts}) x
    JOIN ${perm} b ON b.pos = x.partner`);
  const from = `${sample} p JOIN ${names.records} l ON l.${rid} = p.l JOIN ${names.records} r ON r.${rid} = p.r`;
  const patterns = await count(from);
  await con.run(`DROP TABLE ${sample}; DROP TABLE ${perm}`);
  return { patterns, pairs: starts * k };
}

/** k distinct offsets in 1..max, spread evenly with a seeded jitter (all of them when k = max). */
function pickOffsets(k: number, max: number, seed: number): number[] {
  if (k >= max) return Array.from({ length: max }, (_, i) => i + 1);
  const step = max / k;
  let state = (seed >>> 0) || 1;
  const next = () => {
    // xorshift32: a tiny deterministic generator; quality is ample for jittering offsets.
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
  const picked = new Set<number>();
  for (let i = 0; i < k; i++) picked.add(1 + Math.min(max - 1, Math.floor(i * step + next() * step)));
  return [...picked];
}

function unquote(quoted: string): string {
  return quoted.slice(1, -1).replaceAll('""', '"');
}
