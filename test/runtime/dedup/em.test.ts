// EM on agreement patterns whose counts are exactly what a known model predicts, so the learned m, u
// and λ can be checked by hand against the generating values.

import assert from "node:assert/strict";
import { test } from "node:test";
import { expectationMaximisation, posterior, type Pattern } from "../../../runtime/dedup/em.ts";

/** Expected counts of every binary pattern under (λ, m, u) for `total` pairs. */
function exactPatterns(total: number, lambda: number, m: number[], u: number[]): Pattern[] {
  const n = m.length;
  const patterns: Pattern[] = [];
  for (let bits = 0; bits < 2 ** n; bits++) {
    // gamma 0 = agree (level 0), gamma 1 = else
    const gammas = Array.from({ length: n }, (_, c) => (bits >> c) & 1);
    let pm = lambda;
    let pu = 1 - lambda;
    gammas.forEach((g, c) => {
      pm *= g === 0 ? m[c] : 1 - m[c];
      pu *= g === 0 ? u[c] : 1 - u[c];
    });
    patterns.push({ gammas, flags: [], count: total * (pm + pu) });
  }
  return patterns;
}

const close = (actual: number, expected: number, tolerance: number, what: string) =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual} not within ${tolerance} of ${expected}`);

test("with u fixed, EM recovers m and λ of two binary comparisons", () => {
  // 2 comparisons, u known: 3 free parameters (λ, m1, m2) against 3 degrees of freedom in 4 cells.
  const truth = { lambda: 0.2, m: [0.9, 0.8], u: [0.1, 0.3] };
  const patterns = exactPatterns(10_000, truth.lambda, truth.m, truth.u);
  const fit = expectationMaximisation(
    patterns,
    { m: [[0.6, 0.4], [0.6, 0.4]], u: truth.u.map((u) => [u, 1 - u]), lambda: 0.5 },
    { active: [true, true], levels: [2, 2], maxIterations: 5000, tolerance: 1e-10 },
  );
  assert.ok(fit.converged);
  close(fit.lambda, 0.2, 1e-4, "lambda");
  close(fit.m[0][0], 0.9, 1e-4, "m1");
  close(fit.m[1][0], 0.8, 1e-4, "m2");
  assert.deepEqual(fit.u, [[0.1, 0.9], [0.3, 0.7]], "u stays fixed");
});

test("with u free, EM recovers m, u and λ of three binary comparisons", () => {
  // 3 comparisons: 7 free parameters against 7 degrees of freedom in 8 cells (identifiable).
  const truth = { lambda: 0.3, m: [0.95, 0.85, 0.7], u: [0.05, 0.2, 0.1] };
  const patterns = exactPatterns(100_000, truth.lambda, truth.m, truth.u);
  const fit = expectationMaximisation(
    patterns,
    { m: [[0.8, 0.2], [0.8, 0.2], [0.8, 0.2]], u: [[0.3, 0.7], [0.3, 0.7], [0.3, 0.7]], lambda: 0.5 },
    { active: [true, true, true], levels: [2, 2, 2], maxIterations: 20_000, tolerance: 1e-12, fixU: false },
  );
  close(fit.lambda, truth.lambda, 1e-3, "lambda");
  truth.m.forEach((m, c) => close(fit.m[c][0], m, 1e-3, `m${c}`));
  truth.u.forEach((u, c) => close(fit.u[c][0], u, 1e-3, `u${c}`));
});

test("a hand-computed E-step: posterior of one pattern", () => {
  // λ = 0.5, agree on a comparison with m = 0.9, u = 0.1: odds 1 × 9 → P = 0.9
  const p: Pattern = { gammas: [0], flags: [], count: 1 };
  close(posterior(p, [[0.9, 0.1]], [[0.1, 0.9]], 0.5, [true]), 0.9, 1e-12, "posterior");
  // an inactive comparison is ignored, a null level (-1) weighs nothing
  close(posterior(p, [[0.9, 0.1]], [[0.1, 0.9]], 0.5, [false]), 0.5, 1e-12, "inactive");
  close(posterior({ gammas: [-1], flags: [], count: 1 }, [[0.9, 0.1]], [[0.1, 0.9]], 0.25, [true]), 0.25, 1e-12, "null");
});

test("one EM step by hand: m is the match-weighted share of each level", () => {
  // Two patterns, agree (count 10) and disagree (count 10); start λ = 0.5, m = (0.9, 0.1), u = (0.1, 0.9).
  // Posteriors: agree 0.9, disagree 0.1 → m_agree = 9 / (9 + 1) = 0.9, λ = (9 + 1) / 20 = 0.5.
  const patterns: Pattern[] = [
    { gammas: [0], flags: [], count: 10 },
    { gammas: [1], flags: [], count: 10 },
  ];
  const fit = expectationMaximisation(patterns, { m: [[0.9, 0.1]], u: [[0.1, 0.9]], lambda: 0.5 }, {
    active: [true], levels: [2], maxIterations: 1, tolerance: 0,
  });
  close(fit.m[0][0], 0.9, 1e-12, "m");
  close(fit.lambda, 0.5, 1e-12, "lambda");
});
