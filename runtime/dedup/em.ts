// Expectation maximisation for the Fellegi–Sunter model, on agreement-pattern counts. SQL reduces the
// blocked pairs to one row per distinct pattern (at most Π levels, usually a few thousand), so the
// iterations run here in microseconds instead of rescanning millions of pairs per iteration.

/** One distinct comparison vector: a level index per comparison (-1 = null), and how many pairs had it. */
export interface Pattern {
  gammas: number[];
  /** Per-training-rule flags: did the pair also agree on that rule's keys? (for the prior estimate) */
  flags: boolean[];
  count: number;
  /**
   * Per comparison: do all of its `correlatedWith` comparisons agree exactly on this pattern? Then its
   * u is the conditional `uGiven`. Absent: no comparison is correlated.
   */
  given?: boolean[];
}

/** Per comparison, u given its condition (`correlatedWith` agreeing), or undefined when it has none. */
export type UGiven = (number[] | undefined)[];

export interface EmOptions {
  /** Which comparisons take part; inactive ones (blocked on in this session) are ignored entirely. */
  active: boolean[];
  /** Levels per comparison, `else` included. */
  levels: number[];
  maxIterations: number;
  tolerance: number;
  /** Keep u as given (estimated from random pairs), as Splink does by default. @default true */
  fixU?: boolean;
  /** Keep m as given: used to refine u and the match rate on random pairs. @default false */
  fixM?: boolean;
  /** Learn the conditional u of correlated comparisons from the patterns where their condition holds. @default false */
  freeUGiven?: boolean;
  /**
   * Comparisons whose `else` level is declared to mean different entities (`conflict`): their m(else) is
   * held at MIN_PROBABILITY, so a pair falling there counts as a non-match while EM learns. Otherwise
   * namesakes in a name-blocked session pass for matches and teach that matches often disagree.
   */
  conflicts?: readonly boolean[];
}

export interface EmResult {
  m: number[][];
  u: number[][];
  uGiven: UGiven;
  lambda: number;
  iterations: number;
  converged: boolean;
}

/** Smallest probability a level may have, so a weight is never ±∞ from a level unseen in training. */
export const MIN_PROBABILITY = 1e-6;

/** P(match | pattern) under the model. */
export function posterior(
  p: Pattern,
  m: number[][],
  u: number[][],
  lambda: number,
  active: boolean[],
  uGiven: UGiven = [],
): number {
  // Work in log space: with many comparisons the products underflow for confident non-matches.
  let logBf = 0;
  for (let c = 0; c < p.gammas.length; c++) {
    const g = p.gammas[c];
    if (!active[c] || g < 0) continue;
    const conditional = p.given?.[c] ? uGiven[c] : undefined;
    logBf += Math.log(m[c][g]) - Math.log((conditional ?? u[c])[g]);
  }
  const logOdds = Math.log(lambda) - Math.log(1 - lambda) + logBf;
  return 1 / (1 + Math.exp(-logOdds));
}

/**
 * Level shares weighted by `weight(pattern)`, per comparison, null level excluded; floored and
 * renormalised. `include(p, c)` picks the patterns that count for comparison c (all by default).
 */
function weightedShares(
  patterns: Pattern[],
  levels: number[],
  weight: (p: Pattern) => number,
  include: (p: Pattern, c: number) => boolean = () => true,
): number[][] {
  const sums = levels.map((n) => new Array<number>(n).fill(0));
  for (const p of patterns) {
    const w = weight(p) * p.count;
    for (let c = 0; c < levels.length; c++) if (p.gammas[c] >= 0 && include(p, c)) sums[c][p.gammas[c]] += w;
  }
  return sums.map((s) => {
    const total = s.reduce((a, b) => a + b, 0);
    if (total <= 0) return s.map(() => 1 / s.length);
    const floored = s.map((v) => Math.max(v / total, MIN_PROBABILITY));
    const t = floored.reduce((a, b) => a + b, 0);
    return floored.map((v) => v / t);
  });
}

/** Level shares by count: u from random pairs (nearly all of which are different entities). */
export function levelShares(patterns: Pattern[], levels: number[]): number[][] {
  return weightedShares(patterns, levels, () => 1);
}

/** Has comparison c a condition that holds on this pattern? */
const conditioned = (uGiven: UGiven) => (p: Pattern, c: number) => uGiven[c] !== undefined && p.given?.[c] === true;

/**
 * Run EM from the given start. E-step: each pattern's match probability. M-step: m (and u unless fixed)
 * as the match-weighted (non-match-weighted) share of each level, and λ as the mean match probability.
 * Inactive comparisons keep their start values.
 */
export function expectationMaximisation(
  patterns: Pattern[],
  start: { m: number[][]; u: number[][]; lambda: number; uGiven?: UGiven },
  options: EmOptions,
): EmResult {
  const fixU = options.fixU ?? true;
  const fixM = options.fixM ?? false;
  let m = start.m.map((row) => [...row]);
  let u = start.u.map((row) => [...row]);
  let uGiven: UGiven = (start.uGiven ?? []).map((row) => row && [...row]);
  let lambda = start.lambda;
  const isConditioned = conditioned(uGiven);
  const total = patterns.reduce((a, p) => a + p.count, 0);
  // No pairs (a sample that drew none): nothing to learn, and λ = 0/0 would poison the prior.
  if (total <= 0) return { m, u, uGiven, lambda, iterations: 0, converged: true };
  for (let iteration = 1; iteration <= options.maxIterations; iteration++) {
    const post = new Map<Pattern, number>();
    let matched = 0;
    for (const p of patterns) {
      const q = posterior(p, m, u, lambda, options.active, uGiven);
      post.set(p, q);
      matched += q * p.count;
    }
    const matchWeight = (p: Pattern) => post.get(p) ?? 0;
    const nonMatchWeight = (p: Pattern) => 1 - (post.get(p) ?? 0);
    const newM = fixM ? m : holdConflicts(weightedShares(patterns, options.levels, matchWeight), options.conflicts);
    // A correlated comparison's u is learned from the pairs where its condition does not hold, and
    // its uGiven from those where it does: the two are different distributions.
    const newU = fixU ? u : weightedShares(patterns, options.levels, nonMatchWeight, (p, c) => !isConditioned(p, c));
    const keep = (next: number[][], prev: number[][]) => next.map((row, c) => (options.active[c] ? row : prev[c]));
    const nextM = keep(newM, m);
    const nextU = keep(newU, u);
    let nextUGiven = uGiven;
    if (options.freeUGiven) {
      const shares = weightedShares(patterns, options.levels, nonMatchWeight, isConditioned);
      const seen = options.levels.map((_, c) => patterns.some((p) => isConditioned(p, c) && p.gammas[c] >= 0));
      nextUGiven = uGiven.map((row, c) => (row && options.active[c] && seen[c] ? shares[c] : row));
    }
    const nextLambda = Math.min(Math.max(matched / total, 1e-12), 1 - 1e-12);
    let delta = Math.abs(nextLambda - lambda);
    for (let c = 0; c < m.length; c++) {
      for (let k = 0; k < m[c].length; k++) {
        delta = Math.max(delta, Math.abs(nextM[c][k] - m[c][k]), Math.abs(nextU[c][k] - u[c][k]));
        const g = nextUGiven[c];
        if (g) delta = Math.max(delta, Math.abs(g[k] - uGiven[c]![k]));
      }
    }
    m = nextM;
    u = nextU;
    uGiven = nextUGiven;
    lambda = nextLambda;
    if (delta < options.tolerance) return { m, u, uGiven, lambda, iterations: iteration, converged: true };
  }
  return { m, u, uGiven, lambda, iterations: options.maxIterations, converged: false };
}

/** m with each conflict comparison's `else` share set to MIN_PROBABILITY and its other levels rescaled. */
export function holdConflicts(m: number[][], conflicts: readonly boolean[] = []): number[][] {
  return m.map((row, c) => {
    if (!conflicts[c] || row.length < 2) return row;
    const last = row.length - 1;
    const rest = row.slice(0, last).reduce((a, b) => a + b, 0);
    const scale = rest > 0 ? (1 - MIN_PROBABILITY) / rest : 0;
    return row.map((v, k) => (k === last ? MIN_PROBABILITY : rest > 0 ? v * scale : (1 - MIN_PROBABILITY) / last));
  });
}

/** Starting m: most matches agree on the strongest level, few fall to `else`. */
export function defaultM(levels: number): number[] {
  if (levels === 1) return [1];
  const m = new Array<number>(levels).fill(0);
  m[0] = 0.7;
  m[levels - 1] = 0.05;
  for (let k = 1; k < levels - 1; k++) m[k] = 0.25 / (levels - 2);
  if (levels === 2) m[0] = 0.95;
  return m;
}
