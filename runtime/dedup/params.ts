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
}

export interface ComparisonParams {
  name: string;
  /** Declared levels then `else`; the null level has no parameters (weight 0). */
  levels: LevelParams[];
  /** Whether m was learned (false: never outside its training blocks, so defaults were kept). */
  trained: boolean;
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

/** Hash of what the parameters depend on: comparison names, columns and levels, in order. */
export function modelFingerprint(model: Model): string {
  const shape = model.comparisons.map((c) => [c.name, c.column, c.spec.levels, c.spec.nulls ?? "neutral"]);
  return createHash("sha256").update(JSON.stringify(shape)).digest("hex").slice(0, 16);
}

export function buildParams(model: Model, prior: number, m: number[][], u: number[][], trained: boolean[]): DedupParams {
  return {
    version: 1,
    fingerprint: modelFingerprint(model),
    prior,
    comparisons: model.comparisons.map((c, i) => ({
      name: c.name,
      trained: trained[i],
      levels: levelLabels(c).map((label, k) => ({ label, m: m[i][k], u: u[i][k] })),
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
