// runDedup end to end on a small people table: stable entity ids across runs, incremental linking,
// merges, the pair-budget refusal, survivors and the links table.

import assert from "node:assert/strict";
import { test } from "node:test";
import type { DuckDBConnection } from "@duckdb/node-api";
import type { DedupSpec } from "../../../runtime/declare/dedup.ts";
import { ConfigError } from "../../../runtime/errors.ts";
import { runDedup, type DedupParams } from "../../../runtime/dedup/index.ts";
import { normalise } from "../../../runtime/dedup/model.ts";
import { buildParams } from "../../../runtime/dedup/params.ts";
import { rows, withDuckDB } from "./helpers.ts";

const spec: DedupSpec = {
  id: "id",
  blocking: ["surname", "dob"],
  compare: {
    first_name: { levels: [{ kind: "exact" }, { kind: "jaroWinkler", threshold: 0.85 }] },
    surname: { levels: [{ kind: "exact" }, { kind: "jaroWinkler", threshold: 0.85 }] },
    dob: { levels: [{ kind: "exact" }] },
  },
  survivor: { kind: "mostRecent", column: "updated_at" },
};
const columns = ["id", "first_name", "surname", "dob", "updated_at"];

/** Fixed parameters, so clusters depend on the data only (training on 10 rows would be noise). */
const params: DedupParams = buildParams(
  normalise(spec, columns),
  0.05,
  [[0.8, 0.15, 0.05], [0.8, 0.15, 0.05], [0.9, 0.1]],
  [[0.01, 0.04, 0.95], [0.01, 0.04, 0.95], [0.02, 0.98]],
  [true, true, true],
);

const base = [
  [1, "anna", "smith", "1980-01-01", 1],
  [2, "ana", "smith", "1980-01-01", 3],
  [3, "anna", "smyth", "1980-01-01", 2],
  [4, "bob", "jones", "1975-05-05", 1],
  [5, "bobby", "jones", "1975-05-05", 2],
  [6, "carl", "brown", "1990-09-09", 1],
] as const;

async function load(con: DuckDBConnection, table: string, data: readonly (readonly (string | number)[])[]): Promise<void> {
  const values = data.map(([id, f, s, d, u]) => `(${id}, '${f}', '${s}', '${d}', ${u})`).join(", ");
  await con.run(`CREATE OR REPLACE TABLE ${table} AS SELECT * FROM (VALUES ${values}) t(${columns.join(", ")})`);
}

async function entityOf(con: DuckDBConnection, table: string): Promise<Map<number, string>> {
  const out = await rows(con, `SELECT id, entity_id FROM ${table} ORDER BY id`);
  return new Map(out.map((r) => [Number(r.id), String(r.entity_id)]));
}

test("entity ids are the same on two runs over the same records", async () => {
  await withDuckDB(async (con) => {
    await load(con, "people", base);
    const first = await runDedup(con, { input: "people", spec, prefix: "a", previous: { params } });
    const a = await entityOf(con, first.tables.entities);
    const second = await runDedup(con, { input: "people", spec, prefix: "b", previous: { params } });
    const b = await entityOf(con, second.tables.entities);
    assert.deepEqual(b, a);
    assert.equal(a.get(1), a.get(2));
    assert.equal(a.get(1), a.get(3));
    assert.equal(a.get(4), a.get(5));
    assert.notEqual(a.get(1), a.get(4));
    assert.notEqual(a.get(6), a.get(4));
    assert.equal(first.metrics.entities, 3);
    const [[linkRows]] = (await con.runAndReadAll(`SELECT count(*) FROM ${first.tables.links}`)).getRows();
    assert.ok(first.metrics.links > 0);
    assert.equal(first.metrics.links, Number(linkRows), "the metric counts the links table's rows");
    assert.equal(first.metrics.trained, false, "saved params with the same fingerprint are reused");
  });
});

test("incremental: new records link to existing entities, which keep their ids", async () => {
  await withDuckDB(async (con) => {
    await load(con, "people", base);
    const first = await runDedup(con, { input: "people", spec, prefix: "run1", previous: { params } });
    const before = await entityOf(con, first.tables.entities);
    await load(con, "people", [...base, [7, "anna", "smith", "1980-01-01", 9], [8, "dora", "white", "2001-02-03", 1]]);
    const second = await runDedup(con, {
      input: "people", spec, prefix: "run2",
      previous: { params, entities: first.tables.entities, links: first.tables.links },
    });
    const after = await entityOf(con, second.tables.entities);
    for (const [id, entity] of before) assert.equal(after.get(id), entity, `record ${id} keeps its entity`);
    assert.equal(after.get(7), before.get(1), "the new anna smith joins the existing entity");
    assert.ok(![...before.values()].includes(after.get(8) ?? ""), "an unmatched new record gets a new id");
    assert.equal(second.metrics.newRecords, 2);
    // Only pairs with a new record are compared: 7 with 1, 2 and 3 (same surname or dob); 8 with nobody.
    assert.equal(second.metrics.candidatePairs, 3);
    // The links table holds the earlier links and the new ones, each pair once.
    const links = await rows(con, `SELECT id_l, id_r FROM ${second.tables.links} ORDER BY id_l, id_r`);
    const earlier = await rows(con, `SELECT id_l, id_r FROM ${first.tables.links} ORDER BY id_l, id_r`);
    const pairs = links.map((l) => `${l.id_l}-${l.id_r}`);
    for (const e of earlier) assert.ok(pairs.includes(`${e.id_l}-${e.id_r}`), `link ${e.id_l}-${e.id_r} kept`);
    assert.ok(pairs.includes("1-7"), "new link 1-7");
    assert.equal(new Set(pairs).size, pairs.length);
    const survivor = await rows(con, `SELECT id FROM ${second.tables.deduped} WHERE entity_id = '${before.get(1)}'`);
    assert.deepEqual(survivor.map((r) => Number(r.id)), [7], "mostRecent picks the latest updated_at");
  });
});

test("a new record that links two entities merges them under the larger one's id", async () => {
  await withDuckDB(async (con) => {
    // Two separate entities: {1,2} anna smith 1980 and {3} anna smith 1981 (different dob, so below threshold).
    const data = [
      [1, "anna", "smith", "1980-01-01", 1], [2, "anna", "smith", "1980-01-01", 1], [3, "anna", "smyth", "1981-01-01", 1],
    ] as const;
    await load(con, "people", data);
    const loose = { ...spec, clusterThreshold: 0.9 };
    const first = await runDedup(con, { input: "people", spec: loose, prefix: "m1", previous: { params } });
    const before = await entityOf(con, first.tables.entities);
    assert.notEqual(before.get(1), before.get(3));
    // Record 4 matches 3 exactly; record 5 matches 1 and 2 (p = 0.97: names agree, dob differs) and 4.
    await load(con, "people", [...data, [4, "anna", "smyth", "1981-01-01", 1], [5, "anna", "smith", "1981-01-01", 1]]);
    const second = await runDedup(con, {
      input: "people", spec: loose, prefix: "m2", previous: { params, entities: first.tables.entities },
    });
    const after = await entityOf(con, second.tables.entities);
    assert.equal(new Set(after.values()).size, 1, "one entity");
    assert.equal(after.get(3), before.get(1), "the entity with two previous records keeps its id");
  });
});

test("blocking over the pair budget is refused before anything is built, naming the rule, its keys and a refinement", async () => {
  await withDuckDB(async (con) => {
    await load(con, "people", base);
    await assert.rejects(
      runDedup(con, { input: "people", spec: { ...spec, blocking: ["dob"], pairBudget: 3 }, prefix: "x", stage: "people", previous: { params } }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.match(error.message, /^stage "people": blocking: would build 4 pairs, over the pair budget of 3\./);
        assert.match(error.message, /blocking\[0\] \(dob\): 4 pairs; biggest keys: "1980-01-01" \(3 records\), "1975-05-05" \(2 records\)\./);
        // dob + surname: {1, 2} smith 1980 and {4, 5} jones 1975 → 2 pairs, within 3.
        assert.match(error.message, /For blocking\[0\]: refine it to \[dob, surname\] \(2 pairs\), which fits/);
        return true;
      },
    );
    const built = await rows(con, `SELECT table_name FROM duckdb_tables() WHERE table_name LIKE 'x%'`);
    assert.deepEqual(built, [], "no table of the run exists");
  });
});

test("an unknown column is a config error naming the stage and field", async () => {
  await withDuckDB(async (con) => {
    await load(con, "people", base);
    const bad: DedupSpec = { ...spec, compare: { ...spec.compare, email: { levels: [{ kind: "exact" }] } } };
    await assert.rejects(runDedup(con, { input: "people", spec: bad, prefix: "x", stage: "people" }), {
      name: "ConfigError",
      message: `stage "people": compare.email.column: column "email" not found in the input (columns: ${columns.join(", ")})`,
    });
  });
});

test("the links table explains each pair with per-comparison levels and weights", async () => {
  await withDuckDB(async (con) => {
    await load(con, "people", base);
    const result = await runDedup(con, { input: "people", spec, prefix: "l", previous: { params } });
    const link = (await rows(con, `SELECT * FROM ${result.tables.links} WHERE id_l = 1 AND id_r = 2`))[0];
    assert.equal(link.first_name_level, "jaroWinkler >= 0.85");
    assert.equal(link.surname_level, "exact");
    assert.equal(link.dob_level, "exact");
    const expected = Math.log2(0.05 / 0.95) + Math.log2(0.15 / 0.04) + Math.log2(0.8 / 0.01) + Math.log2(0.9 / 0.02);
    assert.ok(Math.abs(Number(link.match_weight) - expected) < 1e-9);
    assert.equal(link.is_match, true);
    assert.equal(link.blocking_rule, "surname");
  });
});

test("an empty input and a single record give empty links and one entity per record", async () => {
  await withDuckDB(async (con) => {
    for (const data of [[], [base[0]]]) {
      await con.run(`CREATE OR REPLACE TABLE people (id INTEGER, first_name VARCHAR, surname VARCHAR, dob VARCHAR, updated_at INTEGER)`);
      if (data.length > 0) await load(con, "people", data);
      const result = await runDedup(con, { input: "people", spec, prefix: "e" });
      assert.equal(result.metrics.links, 0);
      assert.equal(result.metrics.entities, data.length);
      assert.equal((await rows(con, `SELECT * FROM ${result.tables.deduped}`)).length, data.length);
    }
  });
});

test("training rules count at their sampled size: a loose training rule is sampled, not refused", async () => {
  await withDuckDB(async (con) => {
    await load(con, "people", base);
    // surname builds 2 pairs; training on dob (4 pairs) and surname (2), sampled to 1 pair each: 4 in all.
    const loose: DedupSpec = { ...spec, blocking: ["surname"], pairBudget: 4, training: { blocking: ["dob", "surname"], sessionPairs: 1 } };
    const result = await runDedup(con, { input: "people", spec: loose, prefix: "t" });
    assert.deepEqual(result.metrics.budget.training.map((c) => [c.field, c.pairs, c.built]), [
      ["training.blocking[0]", 4, 1],
      ["training.blocking[1]", 2, 1],
    ]);
    // Counted in full, the same rules are over the budget.
    await assert.rejects(
      runDedup(con, { input: "people", spec: { ...loose, training: { blocking: ["dob", "surname"], sessionPairs: 10 } }, prefix: "u", stage: "people" }),
      /would build 8 pairs, over the pair budget of 4/,
    );
  });
});
