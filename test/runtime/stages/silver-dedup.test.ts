// The silver.dedup stage over a real local lake: an incremental run relinks edited records (found by their
// hash) and only the entities they touch, untouched entity ids never change, the published links table is
// true of the published records, and --full-refresh relinks everything yet keeps every id whose cluster
// came out the same. Parameters are fixed (written where the stage keeps them): training on nine rows is noise.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { pipeline, silver } from "../../../runtime/declare/index.ts";
import type { DedupSpec } from "../../../runtime/declare/dedup.ts";
import { Engine } from "../../../runtime/engine/engine.ts";
import { lakeAccess } from "../../../runtime/engine/sandbox.ts";
import { normalise } from "../../../runtime/dedup/model.ts";
import { buildParams } from "../../../runtime/dedup/params.ts";
import { dedupParamsPath, runSilverDedup } from "../../../runtime/stages/silver-dedup/run.ts";
import { publishQuery, readTable, scratchLake } from "../../helpers/lake.ts";
import { stageContext } from "../../helpers/stage-context.ts";

let engine: Engine;
let scratch: Awaited<ReturnType<typeof scratchLake>>;
before(async () => {
  scratch = await scratchLake();
  // The sandboxed engine reads only the lake it is given, as the runner's does.
  engine = await Engine.create({ memoryLimit: "512MB", threads: 1 }, lakeAccess(scratch.lake));
});
after(async () => {
  await engine.close();
  await scratch.dispose();
});

const raw = silver.model("raw_people", { from: {}, sql: "select 1" });
const spec: DedupSpec = {
  id: "id",
  blocking: ["surname", "dob", "first_name"],
  compare: {
    first_name: { levels: [{ kind: "exact" }, { kind: "jaroWinkler", threshold: 0.85 }] },
    surname: { levels: [{ kind: "exact" }, { kind: "jaroWinkler", threshold: 0.85 }] },
    dob: { levels: [{ kind: "exact" }] },
  },
  survivor: { kind: "mostRecent", column: "updated_at" },
};
const people = silver.dedup("people", { from: raw, ...spec });
const params = buildParams(
  normalise(spec, ["id", "first_name", "surname", "dob", "updated_at"]),
  0.05,
  [[0.8, 0.15, 0.05], [0.8, 0.15, 0.05], [0.9, 0.1]],
  [[0.01, 0.04, 0.95], [0.01, 0.04, 0.95], [0.02, 0.98]],
  [true, true, true],
);

type Row = [number, string, string, string, number];
const v1: Row[] = [
  [1, "anna", "smith", "1980-01-01", 1], [2, "ana", "smith", "1980-01-01", 1], [3, "anna", "smyth", "1980-01-01", 1],
  [4, "bob", "jones", "1975-05-05", 1], [5, "bobby", "jones", "1975-05-05", 1], [6, "carl", "brown", "1990-09-09", 1],
  [7, "dora", "white", "2001-02-03", 1], [8, "dora", "white", "2001-02-03", 1], [9, "eve", "black", "1960-06-06", 1],
];
// Record 3 is edited into a Carl Brown; record 9 changes only a column linking does not read.
const v2: Row[] = v1.map((r): Row => (r[0] === 3 ? [3, "carl", "brown", "1990-09-09", 2] : r[0] === 9 ? [9, "eve", "black", "1960-06-06", 2] : r));

async function publishRaw(rows: Row[]): Promise<void> {
  const values = rows.map(([id, f, s, d, u]) => `(${id}, '${f}', '${s}', '${d}', ${u})`).join(", ");
  await publishQuery(engine, scratch.lake, "silver/raw_people", `SELECT * FROM (VALUES ${values}) t(id, first_name, surname, dob, updated_at)`);
}

async function run(fullRefresh = false) {
  const ctx = stageContext({ pipeline: pipeline("t", { schedule: "0 0 * * * *", stages: [raw, people] }), stage: people, lake: scratch.lake, engine, fullRefresh });
  return runSilverDedup(ctx);
}

async function entities(): Promise<Map<number, string>> {
  const rows = await readTable(engine, scratch.lake, "silver/people__entities", "id");
  return new Map(rows.map((r) => [Number(r.id), String(r.entity_id)]));
}

/** Every published link's levels hold for the published records, and joining links stay inside one entity. */
async function assertLinksTrue(ids: Map<number, string>, records: Row[]): Promise<void> {
  const links = await readTable(engine, scratch.lake, "silver/people__links", "id_l, id_r");
  assert.ok(links.length > 0);
  const byId = new Map(records.map((r) => [r[0], r]));
  for (const link of links) {
    const l = byId.get(Number(link.id_l))!;
    const r = byId.get(Number(link.id_r))!;
    const what = `link ${link.id_l}-${link.id_r}`;
    assert.equal(link.first_name_level === "exact", l[1] === r[1], `${what}: first_name_level ${link.first_name_level}`);
    assert.equal(link.surname_level === "exact", l[2] === r[2], `${what}: surname_level ${link.surname_level}`);
    assert.equal(link.dob_level === "exact", l[3] === r[3], `${what}: dob_level ${link.dob_level}`);
    if (link.joins_entity) assert.equal(ids.get(l[0]), ids.get(r[0]), `${what} joins one entity`);
  }
}

test("edits relink: only touched entities are relinked, untouched ids never change, links stay true", async () => {
  await scratch.lake.writeJson(dedupParamsPath("people"), params);
  await publishRaw(v1);
  await run();
  const before = await entities();
  const group = (...ids: number[]) => new Set(ids.map((i) => before.get(i))).size === 1;
  assert.ok(group(1, 2, 3) && group(4, 5) && group(7, 8));
  assert.equal(new Set(before.values()).size, 5);
  await assertLinksTrue(before, v1);

  await publishRaw(v2);
  const outcome = await run();
  const after = await entities();
  for (const id of [4, 5, 6, 7, 8, 9]) assert.equal(after.get(id), before.get(id), `record ${id} keeps its entity id`);
  assert.equal(after.get(1), before.get(1), "the entity that lost record 3 keeps its id");
  assert.equal(after.get(2), before.get(1));
  assert.equal(after.get(3), before.get(6), "the edited record joins Carl Brown's entity, under its id");
  await assertLinksTrue(after, v2);
  const links = await readTable(engine, scratch.lake, "silver/people__links", "id_l, id_r");
  assert.ok(!links.some((l) => Number(l.id_r) === 3 && Number(l.id_l) < 3), "no link left between record 3 and the Annas");
  assert.ok(links.some((l) => Number(l.id_l) === 3 && Number(l.id_r) === 6 && l.joins_entity === true), "a link 3-6 explains the new entity");
  assert.match(outcome.note ?? "", /^5 entities from 9 records/);
  const deduped = await readTable(engine, scratch.lake, "silver/people", "id");
  assert.deepEqual(deduped.map((r) => [Number(r.id), Number(r.entity_records)]), [[1, 2], [3, 2], [4, 2], [7, 2], [9, 1]]);

  // A full refresh relinks every record with the saved model: the same clusters, so the same ids.
  await run(true);
  assert.deepEqual(await entities(), after);
  await assertLinksTrue(after, v2);
});
