import { DuckDBInstance } from "@duckdb/node-api";
import { readFile } from "node:fs/promises";
import { parse } from "yaml";
import { parseDedupArgs } from "../../runtime/declare/dedup.ts";
import { normalise, tableNames } from "../../runtime/dedup/model.ts";
import { prepareRecords } from "../../runtime/dedup/records.ts";
import { randomPairPatterns } from "../../runtime/dedup/estimate-u.ts";
import { patternCounts } from "../../runtime/dedup/patterns.ts";
import { trainingPairsFrom } from "../../runtime/dedup/blocking.ts";
import { loadLabelled } from "./load.ts";
const i = await DuckDBInstance.create(":memory:", { threads: "2" }); const c = await i.connect();
await loadLabelled(c, "/work/shared/data/dedup/fake_1000.csv", "input", "unique_id", "cluster");
const { from, ...spec } = parseDedupArgs("x", parse(await readFile("configs/dedup/fake_1000.yml", "utf8")));
const cols = (await c.runAndReadAll("describe input")).getRowObjectsJS().map(r => String(r.column_name));
const model = normalise(spec, cols); const names = tableNames("b");
let t = performance.now();
await prepareRecords(c, '"input"', model, names, "x", undefined); console.log("prep", performance.now() - t); t = performance.now();
const r = await randomPairPatterns(c, model, names, 1000); console.log("random", performance.now() - t, r.patterns.length); t = performance.now();
for (let s = 0; s < 3; s++) { const p = await patternCounts(c, model, trainingPairsFrom(names, s)); console.log("sess", performance.now() - t, p.length); t = performance.now(); }
import { gammaSql } from "../../runtime/dedup/comparisons.ts";
await c.run(`create table pp as select a._dd_rid l, b._dd_rid r from ${names.records} a, ${names.records} b where a._dd_rid < b._dd_rid`);
for (const cmp of model.comparisons) {
  t = performance.now();
  await c.runAndReadAll(`select ${gammaSql(cmp)} g, count(*) from pp p JOIN ${names.records} l ON l._dd_rid = p.l JOIN ${names.records} r ON r._dd_rid = p.r group by all`);
  console.log(cmp.name, performance.now() - t);
}
for (const e of [`l.dob = r.dob`, `damerau_levenshtein(CAST(l.dob AS VARCHAR), CAST(r.dob AS VARCHAR)) <= 1`, `abs(date_diff('day', TRY_CAST(l.dob AS DATE), TRY_CAST(r.dob AS DATE))) <= 30.4`, `abs(date_diff('day', CAST(l.dob AS DATE), CAST(r.dob AS DATE))) <= 30.4`]) {
  t = performance.now();
  await c.runAndReadAll(`select ${e} g, count(*) from pp p JOIN ${names.records} l ON l._dd_rid = p.l JOIN ${names.records} r ON r._dd_rid = p.r group by all`);
  console.log(e, performance.now() - t);
}
t = performance.now();
await c.run(`CREATE OR REPLACE TEMP TABLE smp AS
    WITH perm AS (SELECT _dd_rid AS rid, row_number() OVER (ORDER BY hash(_dd_rid, 42), _dd_rid) - 1 AS pos FROM ${names.records})
    SELECT a.rid AS l, b.rid AS r FROM perm a CROSS JOIN (SELECT unnest(range(1,500)) AS off) o JOIN perm b ON b.pos = (a.pos + o.off) % 1000`);
console.log("sample", performance.now() - t); t = performance.now();
const all = model.comparisons.map((cmp, i) => `${gammaSql(cmp)} AS g${i}`).join(", ");
await c.runAndReadAll(`select g0,g1,g2,g3,g4, count(*) from (select ${all} from smp p JOIN ${names.records} l ON l._dd_rid = p.l JOIN ${names.records} r ON r._dd_rid = p.r) group by all`);
console.log("patterns", performance.now() - t); t = performance.now();
t = performance.now();
await c.run(`CREATE OR REPLACE TEMP TABLE perm AS SELECT _dd_rid AS rid, row_number() OVER (ORDER BY hash(_dd_rid, 42), _dd_rid) - 1 AS pos FROM ${names.records}`);
await c.run(`CREATE OR REPLACE TEMP TABLE smp2 AS
    SELECT x.l, b.rid AS r FROM (SELECT a.rid AS l, (a.pos + o.off) % 1000 AS bpos FROM perm a CROSS JOIN (SELECT unnest(range(1,500)) AS off) o) x JOIN perm b ON b.pos = x.bpos`);
console.log("sample2", performance.now() - t); t = performance.now();
