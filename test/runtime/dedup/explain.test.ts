// The blocking advisor on skewed generated people: exact pairs per rule and in the union (checked against
// plain SQL), the largest blocks, shares of likely matches (exact when every pair is sampled, close when
// few are), and refinements for a rule over budget that fit and say what they keep.

import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { test } from "node:test";
import { parse as parseYaml } from "yaml";
import { generatePeople } from "../../../bench/dedup/people.ts";
import { parseDedupArgs, type DedupSpec } from "../../../runtime/declare/dedup.ts";
import { explainBlocking, formatAdvice, runDedup } from "../../../runtime/dedup/index.ts";
import { rows, withDuckDB } from "./helpers.ts";

async function peopleSpec(): Promise<DedupSpec> {
  const { from: _from, ...spec } = parseDedupArgs("people", parseYaml(await readFile("configs/dedup/people_1m.yml", "utf8")));
  return spec;
}

const pairsOf = (rule: string[]) => {
  const on = rule.map((c) => `a.${c} = b.${c}`).join(" AND ");
  return `SELECT a.person_id AS l, b.person_id AS r FROM people a JOIN people b ON ${on} AND a.person_id < b.person_id`;
};

test("explain: pairs per rule and in the union, largest blocks and match shares agree with the run", async () => {
  await withDuckDB(async (con) => {
    await generatePeople(con, 4000, 3);
    const spec = await peopleSpec();
    const run = await runDedup(con, { input: "people", spec, prefix: "run", keepIntermediate: true });
    // Every pair sampled: the shares are exact, and must equal those of the run's own scored pairs.
    const advice = await explainBlocking(con, { input: "people", spec, prefix: "x", params: run.params, samplePairs: 1_000_000 });
    assert.equal(advice.likelyMatches.model, "saved");
    const [[records]] = (await con.runAndReadAll(`SELECT count(*) FROM people`)).getRows();
    assert.equal(advice.records, Number(records));
    const rules = [["first_name", "surname", "city"], ["surname", "dob"], ["first_name", "dob"], ["dob", "city"], ["email"], ["national_id"]];
    for (const [i, rule] of rules.entries()) {
      const [[pairs]] = (await con.runAndReadAll(`SELECT count(*) FROM (${pairsOf(rule)})`)).getRows();
      assert.equal(advice.rules[i].pairs, Number(pairs), `pairs of ${rule}`);
    }
    const [[union]] = (await con.runAndReadAll(`SELECT count(*) FROM (${rules.map(pairsOf).join(" UNION ")})`)).getRows();
    assert.equal(advice.union, Number(union));
    assert.equal(advice.unionComplete, true);
    assert.equal(advice.union, run.metrics.candidatePairs);
    const [biggest] = await rows(con, `SELECT count(*) AS n FROM people WHERE dob IS NOT NULL AND city IS NOT NULL GROUP BY dob, city ORDER BY n DESC LIMIT 1`);
    assert.equal(advice.rules[3].largest[0].records, Number(biggest.n));

    const flags = ["l.first_name = r.first_name AND l.surname = r.surname AND l.city = r.city", "l.surname = r.surname AND l.dob = r.dob",
      "l.first_name = r.first_name AND l.dob = r.dob", "l.dob = r.dob AND l.city = r.city", "l.email = r.email", "l.national_id = r.national_id"];
    const [exact] = await rows(con, `
      SELECT count(*) AS likely, ${flags.map((f, i) => `count(*) FILTER (WHERE coalesce(${f}, FALSE)) AS s${i}`).join(", ")}
      FROM run__scored s JOIN run__records l ON l._dd_rid = s.l JOIN run__records r ON r._dd_rid = s.r
      WHERE s.match_probability >= 0.9`);
    assert.ok(Number(exact.likely) > 100, "the sample holds likely matches");
    assert.equal(advice.likelyMatches.estimated, Number(exact.likely));
    for (const [i, r] of advice.rules.entries()) {
      assert.ok(Math.abs(r.matchShare - Number(exact[`s${i}`]) / Number(exact.likely)) < 1e-9, `share of ${r.rule}`);
      assert.ok(r.onlyShare <= r.matchShare);
    }

    // A few hundred pairs per rule: estimates, within a few points of the exact shares.
    const sampled = await explainBlocking(con, { input: "people", spec, prefix: "y", params: run.params, samplePairs: 1000 });
    assert.ok(sampled.likelyMatches.sampledPairs < advice.likelyMatches.sampledPairs);
    for (const [i, r] of sampled.rules.entries()) {
      assert.ok(Math.abs(r.matchShare - advice.rules[i].matchShare) < 0.1, `${r.rule}: ${r.matchShare} vs ${advice.rules[i].matchShare}`);
    }
    const left = await rows(con, `SELECT table_name FROM duckdb_tables() WHERE table_name LIKE 'x\\_\\_%' ESCAPE '\\'`);
    assert.deepEqual(left, [], "working tables are dropped");
  });
});

test("explain: a rule over budget gets refinements that fit, with the share of its matches each keeps", async () => {
  await withDuckDB(async (con) => {
    await generatePeople(con, 4000, 3);
    const spec = await peopleSpec();
    const [[pairs]] = (await con.runAndReadAll(`SELECT count(*) FROM (${pairsOf(["first_name", "surname"])})`)).getRows();
    // Training counts at its sampled size (100 pairs per rule), so only the name rule breaks the budget.
    const budget = Math.floor(Number(pairs) * 0.9);
    const loose: DedupSpec = {
      ...spec, blocking: [["first_name", "surname"], "email"], pairBudget: budget,
      training: { ...spec.training, sessionPairs: 100 },
    };
    const advice = await explainBlocking(con, { input: "people", spec: loose, prefix: "x", stage: "people" });
    assert.equal(advice.likelyMatches.model, "trained", "no saved model: one is trained for the advice");
    const [names] = advice.rules;
    assert.equal(names.pairs, Number(pairs));
    assert.ok(names.pairs > budget);
    assert.equal(names.overBudget, true);
    assert.equal(names.added, undefined, "a rule over budget alone is not joined in full");
    assert.equal(advice.unionComplete, false);
    assert.equal(advice.rules[1].overBudget, false);
    assert.ok(names.refinements.length >= 3);
    const best = names.refinements[0];
    assert.equal(best.fits, true);
    assert.ok(best.keeps > 0.5 && best.keeps <= 1, `keeps ${best.keeps}`);
    for (const r of names.refinements) {
      const parts = r.rule.slice(1, -1).split(", ");
      const [[n]] = (await con.runAndReadAll(`SELECT count(*) FROM (${pairsOf(parts)})`)).getRows();
      assert.equal(r.pairs, Number(n), `pairs of ${r.rule}`);
    }
    const text = formatAdvice(advice);
    assert.match(text, new RegExp(`^dedup people: [\\d,]+ records, pair budget ${budget.toLocaleString("en-US")}`));
    assert.match(text, /blocking\[0\] first_name, surname {2}OVER BUDGET/);
    assert.match(text, new RegExp(`blocking\\[0\\] \\(first_name, surname\\) is over budget with ${names.pairs.toLocaleString("en-US")} pairs`));
    assert.match(text, new RegExp(`  \\${best.rule.replace("]", "\\]")}: [\\d,]+ pairs, fits; keeps \\d+\\.\\d% of its likely matches`));
  });
});
