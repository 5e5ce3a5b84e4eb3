// Chained namesakes: records that strongly disagree (a different date of birth) are never one entity, even
// when a chain of strong links joins them; the link that would have is refused and the links table says
// why. Without the declaration the same data makes one entity of the chain.

import assert from "node:assert/strict";
import { test } from "node:test";
import type { DuckDBConnection } from "@duckdb/node-api";
import type { DedupSpec } from "../../../runtime/declare/dedup.ts";
import { runDedup } from "../../../runtime/dedup/index.ts";
import { expectationMaximisation, MIN_PROBABILITY, type Pattern } from "../../../runtime/dedup/em.ts";
import { normalise } from "../../../runtime/dedup/model.ts";
import { buildParams } from "../../../runtime/dedup/params.ts";
import { rows, withDuckDB } from "./helpers.ts";

const spec = (conflict: boolean): DedupSpec => ({
  id: "id",
  blocking: [["first_name", "surname"]],
  compare: {
    first_name: { levels: [{ kind: "exact" }] },
    surname: { levels: [{ kind: "exact" }] },
    dob: { levels: [{ kind: "exact" }], conflict },
    email: { levels: [{ kind: "exact" }] },
    city: { levels: [{ kind: "exact" }] },
  },
  keepLinksAbove: 0,
});
const columns = ["id", "first_name", "surname", "dob", "email", "city"];

// m(else) of dob is what training holds for a conflict comparison.
const params = (conflict: boolean) => buildParams(
  normalise(spec(conflict), columns),
  0.05,
  [[0.8, 0.2], [0.8, 0.2], [1 - MIN_PROBABILITY, MIN_PROBABILITY], [0.9, 0.1], [0.9, 0.1]],
  [[0.1, 0.9], [0.1, 0.9], [0.02, 0.98], [0.001, 0.999], [0.05, 0.95]],
  [true, true, true, true, true],
);

// John Smith born 1980 (1, 2) and John Smith born 1955 (4), with a record of no birth date (3) sharing an
// e-mail address with both. Names alone are weak (p 0.78); 2–3 (names, e-mail, city) is the strongest link,
// 3–4 (names, e-mail) next, 1–2 (names, dob, city) next; 2–4 and 1–4 conflict on dob.
async function load(con: DuckDBConnection): Promise<void> {
  await con.run(`CREATE OR REPLACE TABLE people AS SELECT * FROM (VALUES
    (1, 'john', 'smith', '1980-01-01', NULL, 'leeds'),
    (2, 'john', 'smith', '1980-01-01', 'john.smith@mail.example', 'leeds'),
    (3, 'john', 'smith', NULL, 'john.smith@mail.example', 'leeds'),
    (4, 'john', 'smith', '1955-05-05', 'john.smith@mail.example', NULL),
    (5, 'mary', 'jones', '1970-02-02', NULL, 'york')
  ) t(${columns.join(", ")})`);
}

async function entities(con: DuckDBConnection, table: string): Promise<number[][]> {
  const groups = await rows(con, `SELECT list(id ORDER BY id) AS ids FROM ${table} GROUP BY entity_id ORDER BY min(id)`);
  return groups.map((g) => (g.ids as number[]).map(Number));
}

test("without a conflict declaration, a chain of strong links makes one entity of two namesakes", async () => {
  await withDuckDB(async (con) => {
    await load(con);
    const result = await runDedup(con, { input: "people", spec: spec(false), prefix: "a", previous: { params: params(false) } });
    assert.deepEqual(await entities(con, result.tables.entities), [[1, 2, 3, 4], [5]]);
    assert.deepEqual(result.metrics.conflicts, { components: 0, refusedLinks: 0 });
  });
});

test("a chained-namesake cluster is split where the chain is weakest, and the refused link says why", async () => {
  await withDuckDB(async (con) => {
    await load(con);
    const result = await runDedup(con, { input: "people", spec: spec(true), prefix: "b", previous: { params: params(true) } });
    // Strongest first: 2–3 joins; 3–4 would put 4 (born 1955) with 2 (born 1980): refused; 1–2 joins.
    assert.deepEqual(await entities(con, result.tables.entities), [[1, 2, 3], [4], [5]]);
    assert.deepEqual(result.metrics.conflicts, { components: 1, refusedLinks: 1 });
    const links = await rows(con, `SELECT id_l, id_r, joins_entity, refused, dob_level, dob_weight, match_probability FROM ${result.tables.links} ORDER BY id_l, id_r`);
    const link = (l: number, r: number) => links.find((x) => Number(x.id_l) === l && Number(x.id_r) === r)!;
    assert.equal(link(3, 4).joins_entity, false);
    assert.ok(Number(link(3, 4).match_probability) >= 0.99, "the refused link was strong enough to join");
    assert.equal(link(3, 4).refused, "refused: would join 4 and 2, which conflict on dob");
    assert.equal(link(2, 3).joins_entity, true);
    assert.equal(link(2, 3).refused, null);
    // A different date of birth weighs its full negative weight: log2(1e-6 / 0.98).
    assert.equal(link(2, 4).dob_level, "else");
    assert.ok(Math.abs(Number(link(2, 4).dob_weight) - Math.log2(MIN_PROBABILITY / 0.98)) < 1e-3);
    assert.ok(Number(link(2, 4).match_probability) < 0.01);
  });
});

test("EM holds a conflict comparison's m(else) at the floor, so namesakes do not teach that matches disagree", () => {
  // Pairs blocked on the name, comparisons [dob, email]: matches agree on both (60); namesakes differ in
  // dob but their e-mail addresses, built from the name, agree (30); 10 agree on neither. Without the
  // declaration EM takes the namesakes for matches that disagree on dob; with it, m(else) stays at the floor.
  const patterns: Pattern[] = [
    { gammas: [0, 0], flags: [], count: 60 },
    { gammas: [1, 0], flags: [], count: 30 },
    { gammas: [1, 1], flags: [], count: 10 },
  ];
  const start = { m: [[0.7, 0.3], [0.7, 0.3]], u: [[0.01, 0.99], [0.05, 0.95]], lambda: 0.5 };
  const options = { active: [true, true], levels: [2, 2], maxIterations: 100, tolerance: 1e-9 };
  const held = expectationMaximisation(patterns, start, { ...options, conflicts: [true, false] });
  assert.equal(held.m[0][1], MIN_PROBABILITY);
  assert.ok(Math.abs(held.m[0][0] + held.m[0][1] - 1) < 1e-12);
  const free = expectationMaximisation(patterns, start, options);
  assert.ok(free.m[0][1] > 0.2, `unheld m(else) ${free.m[0][1]}`);
  assert.ok(held.lambda < free.lambda, "the namesakes are no longer counted as matches");
});
