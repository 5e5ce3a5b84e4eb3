// u probabilities from random record pairs: almost every random pair is two different entities, so the
// share of random pairs at each level estimates P(level | non-match).

import type { DuckDBConnection } from "@duckdb/node-api";
import type { Pattern } from "./em.ts";
import { col, type Model, type TableNames } from "./model.ts";
import { patternCounts } from "./patterns.ts";
import { quoteIdent } from "./sql.ts";

/**
 * Pattern counts of about `model.uPairs` random pairs. Records are shuffled by a seeded hash, then each
 * is paired with the records k positions further on for K distinct offsets in 1..⌊(n−1)/2⌋: every
 * record takes part equally, no pair is drawn twice, and the sample is the same on every run.
 */
export async function randomPairPatterns(
  con: DuckDBConnection,
  model: Model,
  names: TableNames,
  recordCount: number,
): Promise<{ patterns: Pattern[]; pairs: number }> {
  const n = recordCount;
  const maxOffset = Math.floor((n - 1) / 2);
  if (maxOffset < 1) return { patterns: [], pairs: 0 };
  const k = Math.min(maxOffset, Math.max(1, Math.ceil(model.uPairs / n)));
  const offsets = pickOffsets(k, maxOffset, model.seed);
  const rid = quoteIdent(col.rid);
  const from = `
    (SELECT ${rid} AS rid, row_number() OVER (ORDER BY hash(${rid}, ${model.seed}), ${rid}) - 1 AS pos
       FROM ${names.records}) a
    CROSS JOIN (SELECT unnest([${offsets.join(", ")}]) AS off) o
    JOIN (SELECT ${rid} AS rid, row_number() OVER (ORDER BY hash(${rid}, ${model.seed}), ${rid}) - 1 AS pos
            FROM ${names.records}) b ON b.pos = (a.pos + o.off) % ${n}
    JOIN ${names.records} l ON l.${rid} = a.rid
    JOIN ${names.records} r ON r.${rid} = b.rid`;
  const patterns = await patternCounts(con, model, from);
  return { patterns, pairs: n * k };
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
