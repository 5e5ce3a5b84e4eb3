// The conformance scenarios, the same for every source: a full load; an incremental load with equal cursor
// values across every chunk edge; late rows caught by the look-back; deletes; a process killed mid-load;
// a schema change; every type of the source's type map. After every load bronze's latest rows are
// compared with the source's rows, row for row. Each source's test file runs them with its adapter.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Engine, lakeAccess, queryRows } from "../../../../runtime/engine/engine.ts";
import { quoteIdent } from "../../../../runtime/engine/sql.ts";
import { readBronzeStateAlone } from "../../../../runtime/stages/bronze-table/state.ts";
import { bronzeViews } from "../../../../runtime/stages/bronze-table/views.ts";
import { scratchLake } from "../../../helpers/lake.ts";
import { canonical, type ConformanceSource, crashedLoad, historyVersions, type Lake, latestRows, load, rowsOf } from "./harness.ts";

/** `skip`: why the source cannot run here (no server was supplied): the whole suite is reported skipped with it. */
export function conformance(name: string, open: () => Promise<ConformanceSource>, options: { skip?: string | false } = {}): void {
  describe(`conformance: ${name}`, { skip: options.skip }, () => {
    let source: ConformanceSource;
    let engine: Engine;
    let lake: Lake;
    let n = 0;
    const table = () => `items_${++n}`;

    before(async () => {
      source = await open();
      lake = await scratchLake();
      // What a run gives its engine: the lake's table folders.
      engine = await Engine.create({ memoryLimit: "256MB", threads: 1 }, lakeAccess(lake.lake));
    });
    after(async () => {
      await source?.close();
      await engine?.close();
      await lake?.dispose();
    });

    /** Bronze's latest rows equal the source's, row for row. */
    async function same(stage: ReturnType<ConformanceSource["stage"]>, t: string, extra = false): Promise<void> {
      const expected = canonical(await source.sourceRows(t), extra);
      const actual = await latestRows(engine, lake, stage, extra);
      assert.equal(actual.length, expected.length, "bronze-latest has as many rows as the source");
      assert.deepEqual(actual, expected);
    }

    const skip = (what: keyof NonNullable<ConformanceSource["cannot"]>) => source.cannot?.[what];

    it("full load: every row, and a reload that drops what the source lost", async () => {
      const t = table();
      await source.create(t);
      await source.insert(t, rowsOf(1, 120));
      const stage = source.stage(t, { name: `full_${t}`, incremental: false, chunkRows: 50 });
      const first = await load(stage, lake);
      assert.equal(first.status, "succeeded", first.error);
      assert.equal(first.rowsOut, 120);
      await same(stage, t);
      await source.update(t, rowsOf(5, 3, { day: "2026-01-02", name: "changed" }));
      await source.insert(t, rowsOf(500, 2));
      await source.remove(t, [1, 2]);
      const second = await load(stage, lake);
      assert.equal(second.status, "succeeded", second.error);
      await same(stage, t);
    });

    it("incremental: only what changed, with equal cursor values across every chunk edge", async (ctx) => {
      if (skip("incremental")) return ctx.skip(skip("incremental"));
      const t = table();
      await source.create(t);
      // 300 rows over 5 timestamps and chunks of 40: every chunk ends inside a run of equal timestamps.
      await source.insert(t, rowsOf(1, 300));
      const stage = source.stage(t, { name: `inc_${t}`, incremental: true, chunkRows: 40 });
      const first = await load(stage, lake);
      assert.equal(first.status, "succeeded", first.error);
      assert.equal(first.rowsOut, 300);
      await same(stage, t);
      // Updates and inserts at one new timestamp, some new ids below loaded ones' cursor order.
      const changed = rowsOf(1, 300).filter((r) => r.id % 10 === 0).map((r) => ({ ...r, updatedAt: "2026-01-02 00:00:00", name: "updated" }));
      await source.update(t, changed);
      await source.insert(t, rowsOf(301, 40, { times: 1, day: "2026-01-02" }).map((r) => ({ ...r, updatedAt: "2026-01-02 00:00:00" })));
      const second = await load(stage, lake);
      assert.equal(second.status, "succeeded", second.error);
      assert.equal(second.rowsOut, 30 + 40, "only the changed rows");
      await same(stage, t);
      // A row added later with exactly the checkpoint's timestamp and a higher id is not skipped.
      await source.insert(t, [{ id: 1000, updatedAt: "2026-01-02 00:00:00", name: "same time, later id", amount: "7.00" }]);
      const third = await load(stage, lake);
      assert.equal(third.rowsOut, 1);
      await same(stage, t);
      assert.equal((await load(stage, lake)).rowsOut, 0, "nothing changed, nothing loaded");
      const history = await historyVersions(engine, lake, stage);
      assert.equal(history.rows, history.distinct, "no row version loaded twice");
    });

    it("late rows: a row committed behind the checkpoint is caught inside the look-back", async (ctx) => {
      if (skip("lookBack")) return ctx.skip(skip("lookBack"));
      const t = table();
      await source.create(t);
      await source.insert(t, rowsOf(1, 20, { day: "2026-01-02" }));
      const stage = source.stage(t, { name: `late_${t}`, incremental: true, lookBack: "1 hours", chunkRows: 50 });
      assert.equal((await load(stage, lake)).status, "succeeded");
      // 30 minutes older than the checkpoint (2026-01-02 00:04:00).
      await source.insert(t, [{ id: 900, updatedAt: "2026-01-01 23:34:00", name: "late", amount: "1.00" }]);
      const caught = await load(stage, lake);
      assert.equal(caught.status, "succeeded", caught.error);
      await same(stage, t);
    });

    it("deletes: rows deleted in the source leave bronze's latest rows", async (ctx) => {
      if (skip("deletes")) return ctx.skip(skip("deletes"));
      const t = table();
      await source.create(t);
      await source.insert(t, rowsOf(1, 60));
      const stage = source.stage(t, { name: `del_${t}`, incremental: !skip("incremental"), deletes: true, chunkRows: 25 });
      assert.equal((await load(stage, lake)).status, "succeeded");
      await source.remove(t, [3, 10, 59]);
      await source.update(t, [{ ...rowsOf(20, 1)[0], updatedAt: "2026-01-03 00:00:00", name: "kept" }]);
      const second = await load(stage, lake);
      assert.equal(second.status, "succeeded", second.error);
      await same(stage, t);
      // A deleted key that comes back is loaded again.
      await source.insert(t, [{ id: 10, updatedAt: "2026-01-04 00:00:00", name: "back", amount: "1.00" }]);
      assert.equal((await load(stage, lake)).status, "succeeded");
      await same(stage, t);
    });

    it("a crash mid-load (SIGKILL after an upload, then after a commit): nothing lost, nothing doubled", async (ctx) => {
      if (skip("incremental")) return ctx.skip(skip("incremental"));
      const t = table();
      await source.create(t);
      await source.insert(t, rowsOf(1, 400, { times: 7 }));
      const stage = source.stage(t, { name: `crash_${t}`, incremental: true, chunkRows: 50 });
      await crashedLoad(stage, lake, `bronze:${stage.name}:after-upload:3`);
      const { state: afterUpload } = await readBronzeStateAlone(lake.lake, "conformance", stage);
      await crashedLoad(stage, lake, `bronze:${stage.name}:after-commit:2`);
      const { state: afterCommit } = await readBronzeStateAlone(lake.lake, "conformance", stage);
      assert.ok((afterCommit?.batches.length ?? 0) > (afterUpload?.batches.length ?? 0), "the second child committed chunks before it died");
      const finished = await load(stage, lake);
      assert.equal(finished.status, "succeeded", finished.error);
      await same(stage, t);
      const history = await historyVersions(engine, lake, stage);
      assert.equal(history.rows, 400, "every row once in history");
      assert.equal(history.distinct, 400);
    });

    it("a schema change: a new column is added, recorded, and loaded from then on", async (ctx) => {
      if (skip("schemaChange")) return ctx.skip(skip("schemaChange"));
      const t = table();
      await source.create(t);
      await source.insert(t, rowsOf(1, 30));
      const stage = source.stage(t, { name: `schema_${t}`, incremental: !skip("incremental"), chunkRows: 50 });
      assert.equal((await load(stage, lake)).status, "succeeded");
      await source.addExtra(t);
      await source.update(t, rowsOf(1, 5).map((r) => ({ ...r, updatedAt: "2026-01-05 00:00:00", extra: `x${r.id}` })));
      const second = await load(stage, lake);
      assert.equal(second.status, "succeeded", second.error);
      assert.match(second.note ?? "", /new columns: extra/);
      await same(stage, t, true);
      const { state } = await readBronzeStateAlone(lake.lake, "conformance", stage);
      assert.deepEqual(state!.schemaChanges.at(-1)?.added.map((c) => c.name), ["extra"]);
    });

    it("every type of the type map lands as its DuckDB type with the source's value", async () => {
      for (const types of source.types) {
        const t = table();
        await types.create(t);
        const stage = types.stage(t);
        const done = await load(stage, lake);
        assert.equal(done.status, "succeeded", `${types.label}: ${done.error}`);
        await engine.withConnection(async (con) => {
          await bronzeViews.register(con, lake.lake, "typed", stage, { pipeline: "conformance", stage: "test" });
          const described = await queryRows<{ column_name: string; column_type: string }>(con, `DESCRIBE typed`);
          const typeOf = new Map(described.map((d) => [d.column_name, d.column_type]));
          for (const c of types.cases) {
            assert.equal(typeOf.get(c.column), c.duckType, `${types.label}: column ${c.column}: bronze type`);
            const expected = c.expected.map((sql, i) => `SELECT ${i + 1} AS i, CAST(${sql} AS ${c.duckType}) AS v`).join(" UNION ALL ");
            const differ = await queryRows(con,
              `SELECT e.i, e.v::VARCHAR AS expected, b.v::VARCHAR AS actual FROM (${expected}) e ` +
                `FULL JOIN (SELECT row_number() OVER (ORDER BY id) AS i, ${quoteIdent(c.column)} AS v FROM typed) b USING (i) WHERE e.v IS DISTINCT FROM b.v`);
            assert.deepEqual(differ, [], `${types.label}: column ${c.column} (${c.duckType}): values differ from the source's`);
          }
        });
      }
    });
  });
}
