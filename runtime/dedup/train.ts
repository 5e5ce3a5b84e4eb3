// Unsupervised training: u from random pairs, m by EM one training rule at a time (each comparison
// learns where it is not blocked on), then u refined and the prior estimated from the sessions.

import type { DuckDBConnection } from "@duckdb/node-api";
import { rulePairsFrom, sharesKey } from "./blocking.ts";
import { countPairs } from "./budget.ts";
import { defaultM, expectationMaximisation, holdConflicts, levelShares, posterior, type Pattern, type UGiven } from "./em.ts";
import { randomPairPatterns } from "./estimate-u.ts";
import { col, type Model, type TableNames } from "./model.ts";
import { buildParams, type DedupParams } from "./params.ts";
import { KeptPairs, patternCounts } from "./patterns.ts";
import { givenKeySql, givenSets, keySql } from "./records.ts";
import { quoteIdent } from "./sql.ts";

export interface SessionReport {
  rule: string;
  pairs: number;
  /** Match rate EM found among this rule's pairs. */
  lambda: number;
  iterations: number;
  converged: boolean;
  /** Comparisons whose m this session learned (those not reading the rule's columns). */
  trained: string[];
  /** Estimated share of all true pairs that this rule finds, from the other sessions' models. */
  recall: number;
}

export interface TrainingReport {
  randomPairs: number;
  sessions: SessionReport[];
  prior: number;
  /** Declared, from the random pairs' match rate (when they hold enough matches), or from the sessions. */
  priorSource: "declared" | "random pairs" | "sessions";
  /** Match rate among random pairs with m fixed: a second, noisier prior estimate, for comparison. */
  priorFromRandomPairs: number;
  /** Milliseconds: sampling u pairs, building session patterns, and the EM iterations themselves. */
  timings: { u: number; sessions: number; em: number };
}

/**
 * Rounds of (EM sessions → refine u → conditional u): the second round starts from u with likely
 * matches removed, the third (with correlated comparisons) from the conditional u the second learned.
 */
const ROUNDS = 2;

/** Expected matches among the random pairs above which their match rate is the prior estimate. */
const RANDOM_PRIOR_MATCHES = 100;

/** What training learns from: pattern counts of the random pairs, of each training rule's pairs, and of the correlated sets' pairs. */
export interface TrainingSamples {
  random: { patterns: Pattern[]; pairs: number };
  sessions: { patterns: Pattern[]; active: boolean[]; pairs: number }[];
  /** Per correlated set with pairs: the comparisons, the tag its pairs are kept under and its patterns. */
  conditional: { set: number[]; tag: number; patterns: Pattern[] }[];
  /** The sampled pairs, one row each, when kept for counting again after aliases are learned. */
  kept?: KeptPairs;
  /** Milliseconds spent sampling u pairs and the sessions' and conditional pairs. */
  timings: { u: number; sessions: number };
}

/** Tags of the kept pairs: random pairs, then sessions, then correlated sets. */
const RANDOM_TAG = 0;
const sessionTag = (s: number) => 1 + s;
const conditionalTag = (i: number) => 1000 + i;

/**
 * Draw the training samples from the records table. `sessionPairs`: each training rule's exact pair
 * count (from the budget), which sets its sample fraction and feeds the prior estimate. `keep`: keep
 * every sampled pair's levels (see KeptPairs), for a retraining once aliases are learned.
 */
export async function drawSamples(
  con: DuckDBConnection,
  model: Model,
  names: TableNames,
  recordCount: number,
  sessionPairs: readonly number[],
  keep: boolean,
): Promise<TrainingSamples> {
  let t = performance.now();
  const lap = () => {
    const elapsed = performance.now() - t;
    t = performance.now();
    return Math.round(elapsed);
  };
  const trainKeys = model.training.map((_, j) => col.trainKey(j));
  const kept = keep ? new KeptPairs(con, model, names.samples, model.training.length) : undefined;
  await kept?.create();
  const count = (tag: number, from: string, flags: string[] = [], flagColumns: string[] = []) =>
    kept ? kept.add(tag, from, flags, flagColumns) : patternCounts(con, model, from, flags, flagColumns);
  const random = await randomPairPatterns(con, model, names, recordCount, (from) => count(RANDOM_TAG, from));
  const uMs = lap();
  const flags = model.training.map((rule, j) => sharesKey(rule, col.trainKey(j)));
  const sessions: TrainingSamples["sessions"] = [];
  for (let s = 0; s < model.training.length; s++) {
    const rule = model.training[s];
    // EM needs pattern shares, not every pair: a loose training rule (dob on 1M people: 16M pairs) is
    // sampled down to sessionPairs. The rule's full pair count still feeds the prior estimate.
    const pairs = sessionPairs[s];
    const fraction = Math.min(1, model.sessionPairs / Math.max(1, pairs));
    const from = rulePairsFrom(names, col.trainKey(s), rule, { fraction, seed: model.seed });
    const patterns = await count(sessionTag(s), from, flags, trainKeys);
    const active = model.comparisons.map((c) => !c.sources.some((column) => rule.columns.includes(column)));
    sessions.push({ patterns, active, pairs });
  }
  const conditional = await conditionalSamples(con, model, names, sessions, count);
  return { random, sessions, conditional, kept, timings: { u: uMs, sessions: lap() } };
}

/** The kept samples counted again with the aliases now in place: only `aliases` levels can move. */
export async function recountSamples(samples: TrainingSamples): Promise<TrainingSamples> {
  const kept = samples.kept;
  if (!kept) throw new Error("recountSamples needs samples drawn with keep");
  const t = performance.now();
  const random = { ...samples.random, patterns: await kept.patterns(RANDOM_TAG, 0) };
  const sessions = [];
  for (const [s, session] of samples.sessions.entries()) {
    sessions.push({ ...session, patterns: await kept.patterns(sessionTag(s), samples.sessions.length) });
  }
  const conditional = [];
  for (const sample of samples.conditional) conditional.push({ ...sample, patterns: await kept.patterns(sample.tag, 0) });
  const recount = Math.round(performance.now() - t);
  return { random, sessions, conditional, kept, timings: { ...samples.timings, sessions: samples.timings.sessions + recount } };
}

/** Draw the samples and fit the model: what a run without aliases to learn (and the advisor) does. */
export async function train(
  con: DuckDBConnection,
  model: Model,
  names: TableNames,
  recordCount: number,
  sessionPairs: readonly number[],
): Promise<{ params: DedupParams; report: TrainingReport }> {
  return fit(model, await drawSamples(con, model, names, recordCount, sessionPairs, false), recordCount);
}

/** Fit the model on the samples' pattern counts: EM per session, u refined, conditional u, the prior. */
export function fit(model: Model, samples: TrainingSamples, recordCount: number): { params: DedupParams; report: TrainingReport } {
  const t = performance.now();
  const levels = model.comparisons.map((c) => c.spec.levels.length + 1);
  const { random, sessions, conditional } = samples;
  let u = levelShares(random.patterns, levels);
  const conflicts = model.comparisons.map((c) => c.conflict);
  let m = holdConflicts(levels.map(defaultM), conflicts);
  // Conditional u starts as the plain u: the first round is the independent model, later rounds correct it.
  let uGiven: UGiven = model.comparisons.map((c, i) => (c.given.length > 0 ? [...u[i]] : undefined));
  const trained = model.comparisons.map((_, c) => sessions.some((s) => s.active[c] && s.pairs > 0));
  const allPairs = (recordCount * (recordCount - 1)) / 2;
  let prior = model.prior ?? 1e-4;
  let priorFromRandom = prior;
  let reports: SessionReport[] = [];
  const rounds = ROUNDS + (conditional.length > 0 ? 1 : 0);
  for (let round = 0; round < rounds; round++) {
    const fits = sessions.map((s) =>
      s.pairs === 0
        ? undefined
        : expectationMaximisation(s.patterns, { m, u, uGiven, lambda: 0.1 }, {
            active: s.active,
            levels,
            maxIterations: model.maxIterations,
            tolerance: model.tolerance,
            conflicts,
          }),
    );
    // m per comparison: mean over the sessions that could learn it (Splink does the same).
    m = m.map((current, c) => {
      const learned = fits.flatMap((f, s) => (f && sessions[s].active[c] ? [f.m[c]] : []));
      if (learned.length === 0) return current;
      return current.map((_, k) => learned.reduce((a, row) => a + row[k], 0) / learned.length);
    });
    reports = estimateRecalls(sessions, fits, model, m, uGiven);
    if (model.prior === undefined) prior = estimatePrior(reports, allPairs) ?? prior;
    // Random pairs include some true matches, which inflate u for agreeing levels (badly so on small,
    // duplicate-heavy inputs). Re-estimate u with m fixed, weighting each random pair by P(non-match).
    const refined = expectationMaximisation(random.patterns, { m, u, uGiven, lambda: prior }, {
      active: levels.map(() => true),
      levels,
      maxIterations: model.maxIterations,
      tolerance: model.tolerance,
      fixM: true,
      fixU: false,
    });
    u = refined.u;
    priorFromRandom = refined.lambda;
    // The random sample estimates the prior without assuming the rules independent given a match (they
    // are not when record quality varies: a clean record agrees on everything), but only once it holds
    // enough matches to count them: 100 expected matches give about ±10%.
    if (model.prior === undefined && refined.lambda * random.pairs >= RANDOM_PRIOR_MATCHES) prior = refined.lambda;
    // Conditional u: among pairs that agree exactly on a correlated comparison's condition (same name),
    // the non-matches' level shares (namesakes' emails look alike), with m fixed and λ free.
    for (const sample of conditional) {
      const fit = expectationMaximisation(sample.patterns, { m, u, uGiven, lambda: 0.1 }, {
        active: model.comparisons.map((_, c) => !sample.set.includes(c)),
        levels,
        maxIterations: model.maxIterations,
        tolerance: model.tolerance,
        fixM: true,
        freeUGiven: true,
      });
      uGiven = uGiven.map((row, c) => (row && sameSet(model.comparisons[c].given, sample.set) ? fit.uGiven[c] : row));
    }
  }
  const params = buildParams(model, prior, m, u, trained, uGiven);
  return {
    params,
    report: {
      randomPairs: random.pairs,
      sessions: reports,
      prior,
      priorSource: model.prior !== undefined ? "declared" : prior === priorFromRandom ? "random pairs" : "sessions",
      priorFromRandomPairs: priorFromRandom,
      timings: { ...samples.timings, em: Math.round(performance.now() - t) },
    },
  };
}

type Fit = ReturnType<typeof expectationMaximisation> | undefined;

/**
 * Recall of each training rule among true pairs: in every other session's pairs, the match-weighted
 * share that also agree on this rule's keys. Assumes the two rules are independent given a match, the
 * same conditional independence the Fellegi–Sunter model rests on.
 */
function estimateRecalls(
  sessions: { patterns: Pattern[]; active: boolean[]; pairs: number }[],
  fits: Fit[],
  model: Model,
  m: number[][],
  uGiven: UGiven,
): SessionReport[] {
  return sessions.map((s, i) => {
    const fit = fits[i];
    const shares: number[] = [];
    sessions.forEach((t, j) => {
      const other = fits[j];
      if (j === i || !other) return;
      let matched = 0;
      let agreeing = 0;
      for (const p of t.patterns) {
        const q = posterior(p, other.m, other.u, other.lambda, t.active, uGiven) * p.count;
        matched += q;
        if (p.flags[i]) agreeing += q;
      }
      if (matched > 0) shares.push(agreeing / matched);
    });
    // With one session there is nothing to compare against: fall back on the blocked comparisons'
    // chance of agreeing on their strongest level.
    const recall =
      shares.length > 0
        ? shares.reduce((a, b) => a + b, 0) / shares.length
        : model.comparisons.reduce((r, _, c) => (s.active[c] ? r : r * m[c][0]), 1);
    return {
      rule: model.training[i].text,
      pairs: s.pairs,
      lambda: fit?.lambda ?? 0,
      iterations: fit?.iterations ?? 0,
      converged: fit?.converged ?? false,
      trained: model.comparisons.filter((_, c) => s.active[c]).map((c) => c.name),
      recall,
    };
  });
}

/** Prior = (matches found in a rule's pairs ÷ the rule's recall) ÷ all pairs, averaged over rules. */
function estimatePrior(reports: SessionReport[], allPairs: number): number | undefined {
  const estimates = reports
    .filter((r) => r.pairs > 0 && r.recall > 0.01)
    .map((r) => Math.min(allPairs, (r.lambda * r.pairs) / r.recall) / allPairs);
  if (estimates.length === 0 || allPairs <= 0) return undefined;
  const mean = estimates.reduce((a, b) => a + b, 0) / estimates.length;
  return Math.min(Math.max(mean, 1e-12), 0.5);
}

const sameSet = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && [...a].sort((x, y) => x - y).every((v, i) => v === b[i]);

/**
 * Pattern counts of the pairs that agree exactly on each `correlatedWith` set (sampled down to
 * `sessionPairs`): where the conditional u of the comparisons correlated with that set is learned. A
 * set whose key is a training rule's (correlated with [first_name, surname], trained on the same) has
 * the same sample: that session's patterns are reused rather than counted again.
 */
async function conditionalSamples(
  con: DuckDBConnection,
  model: Model,
  names: TableNames,
  sessions: TrainingSamples["sessions"],
  count: (tag: number, from: string) => Promise<Pattern[]>,
): Promise<TrainingSamples["conditional"]> {
  const out = [];
  for (const [i, set] of givenSets(model).entries()) {
    const same = model.training.findIndex((rule) => rule.maxBlockRecords === undefined && keySql(rule) === givenKeySql(model, set));
    if (same >= 0) {
      if (sessions[same].pairs > 0) out.push({ set, tag: sessionTag(same), patterns: sessions[same].patterns });
      continue;
    }
    const key = col.givenKey(i);
    const rule = { text: key, parts: [key], exprs: [quoteIdent(key)], columns: [], listPart: -1 };
    const { pairs } = await countPairs(con, `SELECT * FROM ${names.records}`, [quoteIdent(key)], -1, { onlyNew: false, largest: 0 });
    if (pairs === 0) continue;
    const fraction = Math.min(1, model.sessionPairs / pairs);
    const tag = conditionalTag(i);
    out.push({ set, tag, patterns: await count(tag, rulePairsFrom(names, key, rule, { fraction, seed: model.seed })) });
  }
  return out;
}
