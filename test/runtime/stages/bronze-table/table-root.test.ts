// Bronze tables keyed by pipeline and stage (issue #10): two pipelines on one lake with a bronze stage of
// the same name each load every row and keep their own checkpoint, through the local runner and through
// the task queue; a lake of the earlier layout (`bronze/<source>/<stage>`) keeps its table where it is —
// its pipeline reloads nothing — while another pipeline gets a table of its own. Real PostgreSQL, real
// local lake, in-process queue (the queue protocol itself runs as on Azure).

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, rename } from "node:fs/promises";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { bronze, pipeline, source, type BronzeTable } from "../../../../runtime/declare/index.ts";
import type { Pipeline } from "../../../../runtime/declare/pipeline.ts";
import { Engine, lakeAccess, queryRows } from "../../../../runtime/engine/engine.ts";
import { quoteIdent } from "../../../../runtime/engine/sql.ts";
import { LocalLake } from "../../../../runtime/lake/local-lake.ts";
import { runThroughQueue } from "../../../../runtime/orchestration/azure/worker.ts";
import { runLocal } from "../../../../runtime/orchestration/local-runner.ts";
import { InProcessTaskQueue } from "../../../../runtime/orchestration/queue/memory-queue.ts";
import { tableLocations } from "../../../../runtime/query/locations.ts";
import { SecretChain } from "../../../../runtime/secrets/secrets.ts";
import { bronzeTable } from "../../../../runtime/stages/bronze-table/index.ts";
import { keyedBronzeRoot, legacyBronzeRoot } from "../../../../runtime/stages/bronze-table/paths.ts";
import { type LegacyOwner, legacyOwnerPath } from "../../../../runtime/stages/bronze-table/table-root.ts";
import { registerInputs } from "../../../../runtime/stages/inputs.ts";
import { Monitor } from "../../../../runtime/telemetry/monitor.ts";
import { scratchLake } from "../../../helpers/lake.ts";
import { bronzeBed, type BronzeBed } from "../../../helpers/bronze-bed.ts";

let bed: BronzeBed;
before(async () => {
  bed = await bronzeBed("keyed");
});
after(() => bed.close());

const secrets = new SecretChain([]);
type Runner = (p: Pipeline, lake: LocalLake) => Promise<{ status: string; tasks: Record<string, { rowsOut?: number; error?: string }> }>;
const RUNNERS: Record<string, Runner> = {
  "local runner": (p, lake) => runLocal({ pipeline: p, lake, secrets, projectRoot: process.cwd() }),
  "task queue": (p, lake) => runThroughQueue({
    pipeline: p, lake, queue: new InProcessTaskQueue(), secrets, projectRoot: process.cwd(), workers: 2, pollMs: 50,
    monitor: new Monitor({ sink: () => undefined }), retry: { baseDelaySeconds: 1 },
  }),
};

/** A scratch source table `name` with ids 1..n. */
async function sourceTable(name: string, n: number): Promise<string> {
  const table = `${quoteIdent(bed.schema)}.${quoteIdent(name)}`;
  await bed.client.query(`CREATE TABLE ${table} (id bigint PRIMARY KEY, updated_at timestamptz NOT NULL, label text)`);
  await addRows(name, 1, n);
  return name;
}

async function addRows(name: string, from: number, to: number): Promise<void> {
  await bed.client.query(`INSERT INTO ${quoteIdent(bed.schema)}.${quoteIdent(name)} SELECT g, '2026-01-01'::timestamptz + g * interval '1 second', 'r' || g FROM generate_series(${from}, ${to}) g`);
}

/** Pipeline `name` with one incremental bronze stage `orders` of source `shop` reading `table`. */
function shopPipeline(name: string, table: string): Pipeline {
  const shop = source.postgres("shop", { connection: bed.server.url, chunkRows: 40 });
  const orders = bronze.table(shop, { table: `${bed.schema}.${table}`, name: "orders", primaryKey: ["id"], incremental: { cursor: ["updated_at", "id"] } });
  return pipeline(name, { schedule: "0 0 * * * *", stages: [orders] });
}

async function loaded(run: Runner, p: Pipeline, lake: LocalLake): Promise<number> {
  const record = await run(p, lake);
  assert.equal(record.status, "succeeded", JSON.stringify(record.tasks));
  return record.tasks.orders.rowsOut ?? -1;
}

/** What pipeline `p`'s models read of its `orders`: the ids of the latest rows. */
async function latestIds(p: Pipeline, lake: LocalLake): Promise<number[]> {
  // An engine reads only the lake it was given (the bed's is another one).
  const engine = await Engine.create({ threads: 1, memoryLimit: "256MB" }, lakeAccess(lake));
  return engine.withConnection(async (con) => {
    await registerInputs(con, lake, { pipeline: p.name, stage: "test" }, { orders: p.stages[0] });
    return (await queryRows<{ id: bigint }>(con, "SELECT id FROM orders ORDER BY id")).map((r) => Number(r.id));
  }).finally(() => engine.close());
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const stageOf = (p: Pipeline) => p.stages[0] as BronzeTable;

describe("two pipelines on one lake with a bronze stage of the same name", () => {
  for (const [how, run] of Object.entries(RUNNERS)) {
    it(`each loads every row and keeps its own checkpoint (${how})`, async () => {
      const scratch = await scratchLake();
      try {
        const table = await sourceTable(`shared_${how.replace(/\W/g, "_")}`, 120);
        const sales = shopPipeline("sales", table);
        const crm = shopPipeline("crm", table);
        assert.equal(await loaded(run, sales, scratch.lake), 120);
        // The reproduction: before keying, crm found sales's checkpoint and loaded 0 rows.
        assert.equal(await loaded(run, crm, scratch.lake), 120, "the second pipeline loads every row");
        await addRows(table, 121, 150);
        assert.equal(await loaded(run, sales, scratch.lake), 30);
        // crm's checkpoint did not move with sales's load.
        assert.match((await bronzeTable.status(stageOf(crm), scratch.lake, "crm"))!, /id=120 .*, 120 rows loaded/);
        assert.match((await bronzeTable.status(stageOf(sales), scratch.lake, "sales"))!, /150 rows loaded/);
        assert.equal(await loaded(run, crm, scratch.lake), 30);
        assert.equal(await loaded(run, crm, scratch.lake), 0, "and nothing twice");
        assert.deepEqual(await latestIds(sales, scratch.lake), range(1, 150));
        assert.deepEqual(await latestIds(crm, scratch.lake), range(1, 150));
        for (const p of [sales, crm]) assert.ok(existsSync(join(scratch.dir, keyedBronzeRoot(p.name, stageOf(p)), "_delta_log")), `${p.name} has its own table`);
        assert.equal(existsSync(join(scratch.dir, legacyBronzeRoot(stageOf(sales)))), false, "nothing at the earlier layout's root");
        // Outside readers are pointed at each pipeline's own table.
        const [salesAt, crmAt] = [await tableLocations(scratch.lake, sales), await tableLocations(scratch.lake, crm)];
        assert.notEqual(salesAt[0].path, crmAt[0].path);
      } finally {
        await scratch.dispose();
      }
    });
  }
});

describe("a lake of the earlier layout (bronze/<source>/<stage>)", () => {
  /** A lake whose `orders` table sales loaded before tables were keyed: sales's table, moved to the old root. */
  async function oldLayoutLake(table: string, run: Runner) {
    const scratch = await scratchLake();
    const sales = shopPipeline("sales", table);
    assert.equal(await loaded(run, sales, scratch.lake), 120);
    const [keyed, legacy] = [join(scratch.dir, keyedBronzeRoot("sales", stageOf(sales))), join(scratch.dir, legacyBronzeRoot(stageOf(sales)))];
    await mkdir(dirname(legacy), { recursive: true });
    await rename(keyed, legacy);
    // A fresh handle: what a process started on the upgraded lake sees (a handle caches settled roots).
    return { scratch: { ...scratch, lake: new LocalLake(scratch.dir) }, sales, legacy };
  }

  for (const [how, run] of Object.entries(RUNNERS)) {
    it(`keeps its table where it is: its pipeline reloads nothing, another gets its own (${how})`, async () => {
      const table = await sourceTable(`old_${how.replace(/\W/g, "_")}`, 120);
      const { scratch, sales, legacy } = await oldLayoutLake(table, run);
      try {
        assert.equal(await loaded(run, sales, scratch.lake), 0, "nothing reloaded");
        await addRows(table, 121, 150);
        assert.equal(await loaded(run, sales, scratch.lake), 30, "incremental from the old table's checkpoint");
        assert.equal(existsSync(join(scratch.dir, keyedBronzeRoot("sales", stageOf(sales)))), false, "the old table stays the table");
        assert.deepEqual(await latestIds(sales, scratch.lake), range(1, 150));
        const owner = (await scratch.lake.readJson<LegacyOwner>(legacyOwnerPath(stageOf(sales))))!.value;
        assert.equal(owner.pipeline, "sales");
        assert.match(owner.reason, /run .* of pipeline sales loaded its earliest recorded batch/);
        const crm = shopPipeline("crm", table);
        assert.equal(await loaded(run, crm, scratch.lake), 150, "a new pipeline with the same stage name loads every row into its own table");
        assert.deepEqual(await latestIds(crm, scratch.lake), range(1, 150));
        assert.ok(existsSync(join(legacy, "_delta_log")));
        assert.match((await bronzeTable.status(stageOf(sales), scratch.lake, "sales"))!, /150 rows loaded/);
      } finally {
        await scratch.dispose();
      }
    });
  }

  it("goes to the pipeline whose run loaded it, even when another pipeline asks first", async () => {
    const table = await sourceTable("old_claimed", 120);
    const { scratch, sales } = await oldLayoutLake(table, RUNNERS["local runner"]);
    try {
      const crm = shopPipeline("crm", table);
      assert.equal(await loaded(RUNNERS["local runner"], crm, scratch.lake), 120, "crm is not handed sales's checkpoint");
      assert.equal((await scratch.lake.readJson<LegacyOwner>(legacyOwnerPath(stageOf(sales))))!.value.pipeline, "sales");
      assert.equal(await loaded(RUNNERS["local runner"], sales, scratch.lake), 0, "sales still reloads nothing");
      assert.deepEqual(await latestIds(sales, scratch.lake), range(1, 120));
    } finally {
      await scratch.dispose();
    }
  });
});
