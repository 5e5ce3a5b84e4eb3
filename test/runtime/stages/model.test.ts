// Silver and gold models with checks of every severity: warn records, drop quarantines, fail publishes
// nothing. Real DuckDB, real local lake.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { check, pipeline, silver, gold, type Check } from "../../../runtime/declare/index.ts";
import { Engine, lakeAccess } from "../../../runtime/engine/engine.ts";
import { ModelCheckFailed, runModel } from "../../../runtime/stages/model.ts";
import { currentVersion, publishQuery, readTable, scratchLake } from "../../helpers/lake.ts";
import { stageContext } from "../../helpers/stage-context.ts";

let engine: Engine;
let scratch: Awaited<ReturnType<typeof scratchLake>>;

// `raw` is a published silver table the models read: 10 rows, two of them breaking rules.
const raw = silver.model("raw", { from: {}, sql: "select 1" });

before(async () => {
  scratch = await scratchLake();
  // What a run gives its engine: the lake's table folders, nothing more.
  engine = await Engine.create({ memoryLimit: "512MB", threads: 1 }, lakeAccess(scratch.lake));
  await publishQuery(engine, scratch.lake, "silver/raw", `
    SELECT range AS id,
           CASE WHEN range = 3 THEN NULL ELSE 'item ' || range END AS name,
           CASE WHEN range = 7 THEN -5 ELSE range * 10 END AS amount,
           CASE WHEN range % 2 = 0 THEN 'even' ELSE 'odd' END AS parity,
           now() - INTERVAL 1 HOUR AS updated_at
    FROM range(10)`);
});
after(async () => {
  await engine.close();
  await scratch.dispose();
});

function model(name: string, checks: Check[], sql = "select * from raw") {
  const stage = silver.model(name, { from: { raw }, sql, checks });
  return { stage, ctx: stageContext({ pipeline: pipeline("t", { schedule: "0 0 * * * *", stages: [raw, stage] }), stage, lake: scratch.lake, engine }) };
}

describe("model checks", () => {
  it("passes every kind of check on good data and publishes all rows", async () => {
    const { ctx } = model("all_pass", [
      check.notNull("id"), check.unique("id"), check.acceptedValues("parity", ["even", "odd"]),
      check.range("id", { min: 0, max: 9 }), check.rowCount({ min: 10, max: 10 }), check.freshness("updated_at", "1 day"),
      check.sql("no_huge", "select * from model where amount > 1000"), check.expect("id_small", "id < 100"),
    ]);
    const outcome = await runModel(ctx);
    assert.equal(outcome.rowsOut, 10);
    assert.deepEqual(outcome.checks!.map((c) => [c.name, c.passed]), [
      ["not_null(id)", true], ["unique(id)", true], ["accepted_values(parity)", true], ["range(id)", true],
      ["row_count(10..10)", true], ["freshness(updated_at)", true], ["no_huge", true], ["id_small", true],
    ]);
  });

  it("warn records the failure and keeps the rows", async () => {
    const { ctx } = model("warned", [check.notNull("name", { severity: "warn" })]);
    const outcome = await runModel(ctx);
    assert.equal(outcome.rowsOut, 10);
    const [{ sample, ...result }] = outcome.checks!;
    assert.deepEqual(result, { name: "not_null(name)", kind: "not_null", severity: "warn", passed: false, failingRows: 1, detail: "1 failing rows" });
    // The failing row itself, as text, for the run report.
    assert.deepEqual(sample?.map((r) => [r.id, r.name, r.amount]), [["3", null, "30"]]);
    assert.equal((await readTable(engine, scratch.lake, "silver/warned")).length, 10);
  });

  it("drop moves failing rows to the quarantine table with the checks they failed", async () => {
    const { ctx } = model("dropped", [
      check.notNull("name", { severity: "drop" }),
      check.range("amount", { min: 0 }, { severity: "drop" }),
    ]);
    const outcome = await runModel(ctx);
    assert.equal(outcome.rowsOut, 8);
    assert.equal(outcome.quarantined, 2);
    const kept = await readTable(engine, scratch.lake, "silver/dropped", "id");
    assert.deepEqual(kept.map((r) => r.id), [0n, 1n, 2n, 4n, 5n, 6n, 8n, 9n]);
    const quarantine = await readTable(engine, scratch.lake, "silver/dropped__quarantine", "id");
    assert.deepEqual(quarantine.map((r) => [r.id, r._mallard_failed_checks]), [[3n, ["not_null(name)"]], [7n, ["range(amount)"]]]);
  });

  it("drop on unique quarantines every row of a duplicated key", async () => {
    const { ctx } = model("dedup_drop", [check.unique("parity", { severity: "drop" })], "select * from raw where id in (1, 2, 4)");
    const outcome = await runModel(ctx);
    assert.equal(outcome.rowsOut, 1);
    assert.equal(outcome.quarantined, 2);
  });

  it("fail publishes nothing and keeps the previous version", async () => {
    const good = model("guarded", [check.rowCount({ min: 1 })]);
    await runModel(good.ctx);
    const before = await currentVersion(engine, scratch.lake, "silver/guarded");
    const bad = model("guarded", [check.notNull("name"), check.unique("parity", { severity: "warn" })]);
    await assert.rejects(runModel(bad.ctx), (e: unknown) => {
      assert.ok(e instanceof ModelCheckFailed);
      assert.equal(e.message, 'stage "guarded": check failed: not_null(name) (1 failing rows)');
      assert.deepEqual(e.checks.map((c) => [c.name, c.passed]), [["not_null(name)", false], ["unique(parity)", false]]);
      return true;
    });
    assert.deepEqual(await currentVersion(engine, scratch.lake, "silver/guarded"), before);
  });

  it("fails a stale freshness check and a custom SQL check with the rows it returned", async () => {
    const { ctx } = model("stale", [
      check.freshness("updated_at", "1 minutes", { severity: "warn" }),
      check.sql("big_amounts", "select * from model where amount >= 80", { severity: "warn" }),
    ]);
    const outcome = await runModel(ctx);
    assert.deepEqual(outcome.checks!.map((c) => [c.name, c.passed, c.failingRows]), [["freshness(updated_at)", false, 1], ["big_amounts", false, 2]]);
  });

  it("names the stage and check when a check references a missing column", async () => {
    const { ctx } = model("typo", [check.notNull("nmae")]);
    await assert.rejects(runModel(ctx), /stage "typo": checks: not_null\(nmae\): .*nmae/);
  });

  it("runs a TypeScript transform", async () => {
    const stage = gold.model("by_parity", {
      from: { raw },
      transform: async (con, inputs) => {
        const threshold = (await con.runAndReadAll(`select avg(amount) from ${inputs.raw}`)).getRows()[0][0];
        return `select parity, count(*) filter (where amount > ${Number(threshold)}) as above_avg from ${inputs.raw} group by parity`;
      },
    });
    const ctx = stageContext({ pipeline: pipeline("t", { schedule: "0 0 * * * *", stages: [raw, stage] }), stage, lake: scratch.lake, engine });
    await runModel(ctx);
    assert.deepEqual(await readTable(engine, scratch.lake, "gold/by_parity", "parity"), [{ parity: "even", above_avg: 3n }, { parity: "odd", above_avg: 2n }]);
  });

  it("a run that read older inputs and publishes last steps aside: the version from newer inputs stays current", async () => {
    const src = silver.model("src", { from: {}, sql: "select 1" });
    await publishQuery(engine, scratch.lake, "silver/src", "SELECT 'old' AS v");
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let entered!: () => void;
    const inside = new Promise<void>((r) => (entered = r));
    // The same model twice: the slow run reads its input first and waits; the quick one reads it after it changed.
    const slow = gold.model("latest", { from: { src }, transform: async (_con, v) => (entered(), await held, `select v from ${v.src}`) });
    const quick = gold.model("latest", { from: { src }, sql: "select v from src" });
    const ctxOf = (stage: typeof slow, runId: string) =>
      stageContext({ pipeline: pipeline("t", { schedule: "0 0 * * * *", stages: [src, stage] }), stage, lake: scratch.lake, engine, runId });
    const slowRun = runModel(ctxOf(slow, "20260101T000000Z-slow"));
    await inside;
    await publishQuery(engine, scratch.lake, "silver/src", "SELECT 'new' AS v");
    const quickOutcome = await runModel(ctxOf(quick, "20260101T000000Z-quick"));
    assert.equal(quickOutcome.note, undefined);
    release();
    const slowOutcome = await slowRun;
    assert.deepEqual(await readTable(engine, scratch.lake, "gold/latest"), [{ v: "new" }], "the output of older inputs never replaces the newer one");
    assert.match(slowOutcome.note ?? "", /stepped aside: gold\/latest: read silver\/src at version 0; the current version \(run 20260101T000000Z-quick\) was computed from version 1/);
    assert.equal(slowOutcome.version, undefined);
    const current = await currentVersion(engine, scratch.lake, "gold/latest");
    assert.deepEqual([current?.runId, current?.inputs], ["20260101T000000Z-quick", { "silver/src": 1 }]);
  });
});
