// Learned aliases end to end (William / Bill learned from the data, its level weighed, reused from saved
// parameters), the alias set looked up in either order, and list-rule blocking: each pair once, under the
// first rule that finds it.

import assert from "node:assert/strict";
import { test } from "node:test";
import type { DuckDBConnection } from "@duckdb/node-api";
import type { DedupSpec } from "../../../runtime/declare/dedup.ts";
import { useAliases } from "../../../runtime/dedup/aliases.ts";
import { generatePairs } from "../../../runtime/dedup/blocking.ts";
import { gammaSql } from "../../../runtime/dedup/comparisons.ts";
import { checkExpressions } from "../../../runtime/dedup/expressions.ts";
import { runDedup } from "../../../runtime/dedup/index.ts";
import { normalise, tableNames } from "../../../runtime/dedup/model.ts";
import { materialiseSource, prepareRecords } from "../../../runtime/dedup/records.ts";
import { rows, withDuckDB } from "./helpers.ts";

const FIRST_NAMES = ["anna", "carl", "dora", "emil", "fred", "gina", "hugo", "ines", "jack", "kate", "liam", "mona"];

/**
 * 300 people with two records each: a unique surname, a birth date and a city. 30 are "william" on one
 * record and "bill" on the other; everyone else keeps their first name.
 */
async function loadPeople(con: DuckDBConnection): Promise<void> {
  const values: string[] = [];
  for (let p = 0; p < 300; p++) {
    const first = p < 30 ? "william" : FIRST_NAMES[p % FIRST_NAMES.length];
    const second = p < 30 ? "bill" : first;
    const dob = `DATE '1950-01-01' + INTERVAL ${(p * 37) % 15000} DAY`;
    const city = `'city${p % 20}'`;
    values.push(`(${2 * p}, '${first}', 'sur${p}', CAST(${dob} AS DATE), ${city})`);
    values.push(`(${2 * p + 1}, '${second}', 'sur${p}', CAST(${dob} AS DATE), ${city})`);
  }
  await con.run(`CREATE OR REPLACE TABLE people AS SELECT * FROM (VALUES ${values.join(", ")}) t(id, first_name, surname, dob, city)`);
}

const spec: DedupSpec = {
  id: "id",
  blocking: ["surname", "dob"],
  compare: {
    first_name: { levels: [{ kind: "exact" }, { kind: "aliases" }] },
    surname: { levels: [{ kind: "exact" }] },
    dob: { levels: [{ kind: "exact" }] },
    city: { levels: [{ kind: "exact" }] },
  },
};

test("aliases: William / Bill is learned from the data, weighs as evidence, and is reused from the saved parameters", async () => {
  await withDuckDB(async (con) => {
    await loadPeople(con);
    const first = await runDedup(con, { input: "people", spec, prefix: "a" });
    assert.deepEqual(first.params.comparisons[0].aliases, [["bill", "william"]]);
    const level = first.params.comparisons[0].levels[1];
    assert.equal(level.label, "learned alias");
    // 30 of 300 matches say William / Bill; among random pairs, 2 × 30 × 30 of 179,700 do.
    assert.ok(level.m > 10 * level.u, `alias level m ${level.m} vs u ${level.u}`);
    const links = await rows(con, `SELECT id_l, id_r, first_name_level, first_name_weight FROM a_links WHERE first_name_level = 'learned alias' ORDER BY id_l`);
    assert.equal(links.length, 30);
    assert.deepEqual(links.slice(0, 2).map((l) => [Number(l.id_l), Number(l.id_r)]), [[0, 1], [2, 3]]);
    assert.ok(Number(links[0].first_name_weight) > 0);
    // Every william is one entity with its bill; no working table is left behind.
    const entities = await rows(con, `SELECT count(DISTINCT entity_id) AS n FROM a_entities`);
    assert.equal(Number(entities[0].n), 300);
    const left = await rows(con, `SELECT table_name FROM duckdb_tables() WHERE table_name LIKE 'a\\_\\_%' ESCAPE '\\'`);
    assert.deepEqual(left, []);

    // A later run with the saved parameters uses the saved aliases without training.
    const second = await runDedup(con, { input: "people", spec, prefix: "b", previous: { params: first.params } });
    assert.equal(second.metrics.trained, false);
    const again = await rows(con, `SELECT count(*) AS n FROM b_links WHERE first_name_level = 'learned alias'`);
    assert.equal(Number(again[0].n), 30);
  });
});

test("aliases: the level holds for a learned value pair in either order, and for no pair before any is learned", async () => {
  await withDuckDB(async (con) => {
    const model = normalise(spec, ["id", "first_name", "surname", "dob", "city"]);
    const c = model.comparisons[0];
    await con.run(`CREATE TABLE p AS SELECT * FROM (VALUES (0, 'bill', 'william'), (1, 'william', 'bill'), (2, 'bill', 'bob'), (3, 'bill', 'bill'), (4, NULL, 'bill')) t(i, a, b)`);
    const gammas = async () =>
      (await rows(con, `SELECT ${gammaSql(c)} AS g FROM (SELECT i, {'first_name': a} AS l, {'first_name': b} AS r FROM p) ORDER BY i`)).map((r) => Number(r.g));
    assert.deepEqual(await gammas(), [2, 2, 2, 0, -1]);
    await useAliases(con, model, tableNames("t"), new Map([[0, [["bill", "william"]]]]));
    assert.deepEqual(await gammas(), [1, 1, 2, 0, -1]);
  });
});

test("list-rule blocking: each pair once, under the first rule that finds it", async () => {
  await withDuckDB(async (con) => {
    // Words per record; surname is the first rule, shared words the second.
    await con.run(`CREATE TABLE recs AS SELECT * FROM (VALUES
      (1, 'smith', ['a', 'b']), (2, 'smith', ['b', 'c']), (3, 'jones', ['b', 'c']),
      (4, 'jones', ['d']), (5, 'brown', ['a', 'c']), (6, 'brown', CAST([] AS VARCHAR[]))) t(id, surname, words)`);
    const listSpec: DedupSpec = {
      id: "id",
      blocking: ["surname", "words"],
      compare: { surname: { levels: [{ kind: "exact" }] } },
    };
    const model = normalise(listSpec, ["id", "surname", "words"]);
    await checkExpressions(con, model, "recs", "recs");
    const names = tableNames("x");
    const source = await materialiseSource(con, model, "recs", names, undefined, "all");
    await prepareRecords(con, source, model, names, "recs");
    const added = await generatePairs(con, model, names);
    const pairs = await rows(con, `
      SELECT least(a._dd_id, b._dd_id) AS l, greatest(a._dd_id, b._dd_id) AS r, p.rule
      FROM x__pairs p JOIN x__records a ON a._dd_rid = p.l JOIN x__records b ON b._dd_rid = p.r ORDER BY 1, 2`);
    // surname: 1-2, 3-4, 5-6. words: 1-2 (b, already found), 1-3 (b), 1-5 (a), 2-3 (b, c: once), 2-5 (c), 3-5 (c).
    assert.deepEqual(pairs.map((p) => [Number(p.l), Number(p.r), Number(p.rule)]), [
      [1, 2, 0], [1, 3, 1], [1, 5, 1], [2, 3, 1], [2, 5, 1], [3, 4, 0], [3, 5, 1], [5, 6, 0],
    ]);
    assert.deepEqual(added, [3, 5]);
  });
});
