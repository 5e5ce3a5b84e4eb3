// Score a dedup run against ground truth, all in SQL: blocking recall, pairwise and cluster-level
// precision / recall / F1. Needs the run's working tables (keepIntermediate).

import type { DedupMetrics, DedupPhase } from "../../runtime/dedup/index.ts";
import type { DuckDBConnection } from "@duckdb/node-api";
import { quoteDouble, quoteIdent } from "../../runtime/dedup/sql.ts";

export interface Prf {
  precision: number;
  recall: number;
  f1: number;
}

export interface Scores {
  truePairs: number;
  candidatePairs: number;
  blockingRecall: number;
  pairwise: Prf & { threshold: number; predicted: number };
  /** Best pairwise F1 over all thresholds: shown for comparison with Splink's figure, never used to choose. */
  bestPairwiseF1: { f1: number; threshold: number };
  cluster: Prf & { threshold: number; entities: number };
}

const prf = (tp: number, predicted: number, truth: number): Prf => {
  const precision = predicted > 0 ? tp / predicted : 1;
  const recall = truth > 0 ? tp / truth : 1;
  const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  return { precision, recall, f1 };
};

export async function score(
  con: DuckDBConnection,
  prefix: string,
  truthTable: string,
  id: string,
  threshold: number,
  clusterThreshold: number,
): Promise<Scores> {
  const t = (s: string) => quoteIdent(`${prefix}${s}`);
  const truth = quoteIdent(truthTable);
  await con.run(`CREATE OR REPLACE TEMP TABLE score_truth AS
    SELECT r._dd_rid AS rid, t.truth FROM ${t("__records")} r JOIN ${truth} t ON t.id = r._dd_id`);
  const q = async (sql: string) => (await con.runAndReadAll(sql)).getRowObjectsJS()[0];
  const base = await q(`
    SELECT (SELECT sum(n * (n - 1) // 2) FROM (SELECT count(*) AS n FROM score_truth GROUP BY truth)) AS true_pairs,
           (SELECT count(*) FROM ${t("__scored")}) AS candidates,
           (SELECT count(*) FROM ${t("__scored")} p JOIN score_truth a ON a.rid = p.l JOIN score_truth b ON b.rid = p.r
             WHERE a.truth = b.truth) AS found`);
  const truePairs = Number(base.true_pairs);
  const pair = await q(`
    SELECT count(*) AS predicted, count(*) FILTER (WHERE a.truth = b.truth) AS tp
    FROM ${t("__scored")} s JOIN score_truth a ON a.rid = s.l JOIN score_truth b ON b.rid = s.r
    WHERE s.match_probability >= ${quoteDouble(threshold)}`);
  // Best F1 over thresholds from 10,000 probability bins (a window over every scored pair took more
  // memory than the run it scores).
  const best = await q(`
    WITH s AS (
      SELECT floor(s.match_probability * 10000) AS bin, count(*) AS predicted, count(*) FILTER (WHERE a.truth = b.truth) AS tp
      FROM ${t("__scored")} s JOIN score_truth a ON a.rid = s.l JOIN score_truth b ON b.rid = s.r GROUP BY bin
    ), c AS (
      SELECT bin, sum(tp) OVER w AS tp, sum(predicted) OVER w AS predicted FROM s
      WINDOW w AS (ORDER BY bin DESC ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
    )
    SELECT arg_max(bin / 10000, 2.0 * tp / (predicted + ${truePairs})) AS threshold, max(2.0 * tp / (predicted + ${truePairs})) AS f1 FROM c`);
  const cluster = await q(`
    WITH e AS (SELECT e.entity_id, t.truth FROM ${t("_entities")} e JOIN ${truth} t ON t.id = e.${quoteIdent(id)}),
    tp AS (SELECT sum(n * (n - 1) // 2) AS v FROM (SELECT count(*) AS n FROM e GROUP BY entity_id, truth)),
    pred AS (SELECT sum(n * (n - 1) // 2) AS v, count(*) AS entities FROM (SELECT count(*) AS n FROM e GROUP BY entity_id))
    SELECT tp.v AS tp, pred.v AS predicted, pred.entities FROM tp, pred`);
  return {
    truePairs,
    candidatePairs: Number(base.candidates),
    blockingRecall: truePairs > 0 ? Number(base.found) / truePairs : 1,
    pairwise: { threshold, predicted: Number(pair.predicted), ...prf(Number(pair.tp), Number(pair.predicted), truePairs) },
    bestPairwiseF1: { f1: Number(best.f1 ?? 0), threshold: Number(best.threshold ?? 0) },
    cluster: { threshold: clusterThreshold, entities: Number(cluster.entities), ...prf(Number(cluster.tp), Number(cluster.predicted), truePairs) },
  };
}

/** Seconds, to the millisecond. */
export const seconds = (ms: number): number => Math.round(ms) / 1000;

/** Per phase of the run: wall and CPU seconds, and their totals. */
export interface PhaseSeconds {
  wall: Record<DedupPhase, number>;
  cpu: Record<DedupPhase, number>;
  total: number;
  totalCpu: number;
}

export function phaseSeconds(metrics: Pick<DedupMetrics, "timings" | "cpuTimings">): PhaseSeconds {
  const bySeconds = (t: Record<DedupPhase, number>) =>
    Object.fromEntries(Object.entries(t).map(([k, v]) => [k, seconds(v)])) as Record<DedupPhase, number>;
  const sum = (t: Record<DedupPhase, number>) => seconds(Object.values(t).reduce((a, b) => a + b, 0));
  return { wall: bySeconds(metrics.timings), cpu: bySeconds(metrics.cpuTimings), total: sum(metrics.timings), totalCpu: sum(metrics.cpuTimings) };
}

/** One line: each phase's wall / CPU seconds. */
export function phaseLine(p: PhaseSeconds): string {
  return Object.keys(p.wall).map((k) => `${k} ${p.wall[k as DedupPhase]}/${p.cpu[k as DedupPhase]}`).join("  ");
}
