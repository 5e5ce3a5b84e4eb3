// Trained parameters: what a later run needs to score pairs without training again. Saved as JSON.

import { createHash } from "node:crypto";
import { levelLabels } from "./comparisons.ts";
import type { Model } from "./model.ts";

export interface LevelParams {
  label: string;
  /** P(level | same entity). */
  m: number;
  /** P(level | different entities). */
  u: number;
  /**
   * P(level | different entities that agree exactly on every `correlatedWith` comparison), for a
   * correlated comparison: its weight is log2(m / uGiven) on such pairs.
   */
  uGiven?: number;
}

export interface ComparisonParams {
  name: string;
  /** Declared levels then `else`; the null level has no parameters (weight 0). */
  levels: LevelParams[];
  /** Whether m was learned (false: never outside its training blocks, so defaults were kept). */
  trained: boolean;
  /** Value pairs learned for an `aliases` level, each once (a < b). */
  aliases?: [string, string][];
}

export interface DedupParams {
  version: 1;
  /** Hash of the comparisons' definitions: parameters apply only to the model they were trained for. */
  fingerprint: string;
  /** Probability that two records drawn at random are the same entity. */
  prior: number;
  comparisons: ComparisonParams[];
  trainedAt: string;
}

/** What a comparison's parameters depend on: its values (a prepared column's SQL), levels, nulls, condition. */
function comparisonShape(model: Model) {
  const valueOf = (column: string) => model.prepared.find((p) => p.name === column)?.sql ?? column;
  return model.comparisons.map((c) => [
    c.name, c.columns.map(valueOf), c.spec.levels, c.spec.nulls ?? "neutral", c.given.map((g) => model.comparisons[g].name),
  ]);
}

const digest = (value: unknown) => createHash("sha256").update(JSON.stringify(value)).digest("hex").slice(0, 16);

/** Hash of what the parameters depend on: comparison names, values and levels, in order. */
export function modelFingerprint(model: Model): string {
  return digest(comparisonShape(model));
}

/**
 * Hash of everything that decides a record's links: the comparisons, term frequencies, conflicts, the
 * prediction rules and the thresholds. It seeds each record's hash, so changing any of them relinks
 * every record on the next run (entity ids still stay where clusters do not change).
 */
export function linkFingerprint(model: Model): string {
  const valueOf = (column: string) => model.prepared.find((p) => p.name === column)?.sql ?? column;
  return digest([
    comparisonShape(model),
    model.comparisons.map((c) => [c.spec.termFrequency ?? false, c.conflict]),
    model.blocking.map((r) => [r.parts.map(valueOf), r.maxBlockRecords ?? null]),
    model.threshold, model.clusterThreshold, model.keepLinksAbove,
  ]);
}

export function buildParams(
  model: Model,
  prior: number,
  m: number[][],
  u: number[][],
  trained: boolean[],
  uGiven: (number[] | undefined)[] = [],
): DedupParams {
  return {
    version: 1,
    fingerprint: modelFingerprint(model),
    prior,
    comparisons: model.comparisons.map((c, i) => ({
      name: c.name,
      trained: trained[i],
      levels: levelLabels(c).map((label, k) => ({
        label, m: m[i][k], u: u[i][k], ...(uGiven[i] ? { uGiven: uGiven[i]![k] } : {}),
      })),
    })),
    trainedAt: new Date().toISOString(),
  };
}

/** Saved parameters if they fit this model, else undefined (the comparisons changed: retrain). */
export function reusableParams(model: Model, params: DedupParams | undefined): DedupParams | undefined {
  if (!params || params.version !== 1 || params.fingerprint !== modelFingerprint(model)) return undefined;
  return params;
}

export function paramsToJson(params: DedupParams): string {
  return JSON.stringify(params, null, 2);
}

export function paramsFromJson(text: string): DedupParams {
  const value = JSON.parse(text) as DedupParams;
  if (value.version !== 1 || !Array.isArray(value.comparisons)) throw new Error("not dedup params (version 1)");
  return value;
}
