// Each comparison level kind, evaluated by real DuckDB on hand-picked value pairs.

import assert from "node:assert/strict";
import { test } from "node:test";
import type { Comparison, ComparisonLevel } from "../../../runtime/declare/dedup.ts";
import { gammaSql, levelLabels } from "../../../runtime/dedup/comparisons.ts";
import type { NormalComparison } from "../../../runtime/dedup/model.ts";
import { sqlValue } from "../../../runtime/dedup/sql.ts";
import { rows, withDuckDB } from "./helpers.ts";

function comparison(levels: ComparisonLevel[], extra: Partial<Comparison> = {}): NormalComparison {
  const columns = ["v", ...(extra.uses ?? [])];
  return { name: "v", column: "v", columns, sources: columns, given: [], conflict: false, spec: { levels, ...extra } };
}

/** Gamma of each (l, r) pair under the comparison. */
async function gammas(c: NormalComparison, pairs: [string | null, string | null][], type = "VARCHAR"): Promise<number[]> {
  return withDuckDB(async (con) => {
    const values = pairs
      .map(([l, r], i) => `(${i}, CAST(${sqlValue(l)} AS ${type}), CAST(${sqlValue(r)} AS ${type}))`)
      .join(", ");
    await con.run(`CREATE TABLE p AS SELECT * FROM (VALUES ${values}) t(i, lv, rv)`);
    const out = await rows(con, `
      SELECT ${gammaSql(c)} AS g FROM (SELECT i, {'v': lv} AS l, {'v': rv} AS r FROM p) ORDER BY i`);
    return out.map((r) => Number(r.g));
  });
}

test("exact: equal values are level 0, others else, nulls -1", async () => {
  const c = comparison([{ kind: "exact" }]);
  assert.deepEqual(await gammas(c, [["ann", "ann"], ["ann", "anne"], [null, "ann"], ["ann", null]]), [0, 1, -1, -1]);
});

test("nulls: 'disagree' scores a missing value as the else level", async () => {
  const c = comparison([{ kind: "exact" }], { nulls: "disagree" });
  assert.deepEqual(await gammas(c, [[null, "ann"], ["ann", "ann"]]), [1, 0]);
});

test("jaroWinkler: threshold is inclusive and levels are tried in order", async () => {
  const c = comparison([{ kind: "exact" }, { kind: "jaroWinkler", threshold: 0.9 }, { kind: "jaroWinkler", threshold: 0.7 }]);
  // jaro_winkler('martha', 'marhta') = 0.961; ('dixon', 'dicksonx') = 0.813; ('abc', 'xyz') = 0
  assert.deepEqual(await gammas(c, [["martha", "martha"], ["martha", "marhta"], ["dixon", "dicksonx"], ["abc", "xyz"]]), [0, 1, 2, 3]);
});

test("jaro: similarity without the prefix bonus", async () => {
  const c = comparison([{ kind: "jaro", threshold: 0.94 }]);
  // jaro('martha', 'marhta') = 0.944, jaro('dwayne', 'duane') = 0.822
  assert.deepEqual(await gammas(c, [["martha", "marhta"], ["dwayne", "duane"]]), [0, 1]);
});

test("levenshtein: edit distance at most max", async () => {
  const c = comparison([{ kind: "levenshtein", max: 1 }, { kind: "levenshtein", max: 2 }]);
  assert.deepEqual(await gammas(c, [["smith", "smyth"], ["smith", "smiht"], ["smith", "jones"]]), [0, 1, 2]);
});

test("damerauLevenshtein: a transposition is one edit", async () => {
  const c = comparison([{ kind: "damerauLevenshtein", max: 1 }]);
  assert.deepEqual(await gammas(c, [["smith", "smiht"], ["19560409", "19560490"], ["smith", "sitmh"]]), [0, 0, 1]);
});

test("jaccard: character-set similarity", async () => {
  const c = comparison([{ kind: "jaccard", threshold: 0.75 }]);
  // {a,b,c,d} vs {a,b,c}: 3/4; {a,b} vs {c,d}: 0
  assert.deepEqual(await gammas(c, [["abcd", "abc"], ["ab", "cd"]]), [0, 1]);
});

test("numericDifference: absolute difference, text cast to numbers", async () => {
  const c = comparison([{ kind: "numericDifference", max: 5 }]);
  assert.deepEqual(await gammas(c, [["100", "104.5"], ["100", "106"], ["100", "n/a"]]), [0, 1, 1]);
});

test("dateDifference: within max units, from ISO strings or dates", async () => {
  const c = comparison([{ kind: "exact" }, { kind: "dateDifference", max: 1, unit: "month" }, { kind: "dateDifference", max: 2, unit: "year" }]);
  const pairs: [string, string][] = [["2000-01-15", "2000-01-15"], ["2000-01-15", "2000-02-10"], ["2000-01-15", "2001-12-31"], ["2000-01-15", "2003-01-01"]];
  assert.deepEqual(await gammas(c, pairs), [0, 1, 2, 3]);
  assert.deepEqual(await gammas(c, pairs, "DATE"), [0, 1, 2, 3]);
});

test("sql: a custom condition over l and r", async () => {
  const c = comparison([{ kind: "sql", sql: "lower(l.v) = lower(r.v)", label: "same ignoring case" }]);
  assert.deepEqual(await gammas(c, [["Ann", "ANN"], ["Ann", "Anne"]]), [0, 1]);
  assert.deepEqual(levelLabels(c), ["same ignoring case", "else"]);
});
