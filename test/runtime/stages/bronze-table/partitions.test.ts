// Partitioned bronze: several tasks extract disjoint ranges in parallel and one commit makes them
// visible with the checkpoint. The result must equal the unpartitioned extraction, first load and
// incremental, through the local runner and through the task queue.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { bronze, pipeline, source, type BronzeTable, type Partitioning } from "../../../../runtime/declare/index.ts";
import { queryRows } from "../../../../runtime/engine/engine.ts";
import { quoteIdent } from "../../../../runtime/engine/sql.ts";
import { runThroughQueue } from "../../../../runtime/orchestration/azure/worker.ts";
import { runLocal } from "../../../../runtime/orchestration/local-runner.ts";
import { planTasks } from "../../../../runtime/orchestration/plan.ts";
import { InProcessTaskQueue } from "../../../../runtime/orchestration/queue/memory-queue.ts";
import { SecretChain } from "../../../../runtime/secrets/secrets.ts";
import { registerInputs } from "../../../../runtime/stages/inputs.ts";
import { TaskAbandoned } from "../../../../runtime/lake/publish-guard.ts";
import { commitBronzePartitions, runBronzePartition } from "../../../../runtime/stages/bronze-table/partitions.ts";
import { bronzeBed, type BronzeBed, bronzeState } from "../../../helpers/bronze-bed.ts";
import { stageContext, type TestStageContext } from "../../../helpers/stage-context.ts";

let bed: BronzeBed;
let server: BronzeBed["server"];
let client: BronzeBed["client"];
let engine: BronzeBed["engine"];
let scratch: BronzeBed["scratch"];
let schema: string;

before(async () => {
  bed = await bronzeBed("parts");
  ({ server, client, engine, scratch, schema } = bed);
  await client.query(`CREATE TABLE ${quoteIdent(schema)}.t (id bigint PRIMARY KEY, k integer, day date, updated_at timestamptz NOT NULL, v text)`);
  // 3,000 rows; partition keys skewed and some NULL, so ranges are uneven and NULLs must not get lost.
  await client.query(`INSERT INTO ${quoteIdent(schema)}.t
    SELECT g, CASE WHEN g % 97 = 0 THEN NULL ELSE (g * g) % 1000 END, date '2026-01-01' + (g % 40),
           timestamptz '2026-01-01 00:00:00+00' + (g % 13) * interval '1 minute', 'v' || g
    FROM generate_series(1, 3000) g`);
  makeStages();
});
after(() => bed.close());

function table(name: string, partitions?: Partitioning): BronzeTable {
  const db = source.postgres("src", { connection: server.url, chunkRows: 400 });
  return bronze.table(db, { table: `${schema}.t`, name, primaryKey: "id", incremental: { cursor: ["updated_at", "id"] }, partitions });
}

let stages: Record<"whole" | "chunks" | "ranges", BronzeTable>;
let sample: ReturnType<typeof pipeline>;

function makeStages() {
  stages = {
    whole: table("whole"),
    chunks: table("by_chunks", { kind: "chunks", column: "k", count: 3 }),
    ranges: table("by_ranges", { kind: "range", column: "day", step: "7 days", tasks: 2 }),
  };
  sample = pipeline("parts", { schedule: "0 0 * * * *", stages: Object.values(stages) });
}

async function rows(stage: BronzeTable): Promise<unknown[]> {
  return engine.withConnection(async (con) => {
    await registerInputs(con, scratch.lake, { pipeline: "parts", stage: "test" }, { t: stage });
    return queryRows(con, `SELECT id, k, day::VARCHAR AS day, updated_at::VARCHAR AS updated_at, v FROM t ORDER BY id`);
  });
}

async function assertAllEqual(expectedRows: number) {
  const whole = await rows(stages.whole);
  assert.equal(whole.length, expectedRows);
  assert.deepEqual(await rows(stages.chunks), whole);
  assert.deepEqual(await rows(stages.ranges), whole);
  const checkpoints = await Promise.all(Object.values(stages).map(async (s) => (await bronzeState(engine, scratch.lake, "parts", s))?.checkpoint));
  assert.deepEqual(checkpoints[1], checkpoints[0]);
  assert.deepEqual(checkpoints[2], checkpoints[0]);
}

describe("partitioned bronze", () => {
  it("plans one task per partition and a committing task that depends on them", () => {
    const ids = planTasks(sample).map((t) => `${t.id}<-${t.dependsOn.join(",")}`);
    assert.deepEqual(ids, ["whole<-", "by_chunks#0<-", "by_chunks#1<-", "by_chunks#2<-", "by_chunks<-by_chunks#0,by_chunks#1,by_chunks#2",
      "by_ranges#0<-", "by_ranges#1<-", "by_ranges<-by_ranges#0,by_ranges#1"]);
  });

  it("equals the unpartitioned extraction on the first load (local runner)", async () => {
    const record = await runLocal({ pipeline: sample, lake: scratch.lake, secrets: new SecretChain([]), projectRoot: process.cwd(), concurrency: 3 });
    assert.equal(record.status, "succeeded", JSON.stringify(record.tasks));
    assert.equal(record.tasks["by_chunks"].rowsOut, 3000);
    assert.ok(Number(record.tasks["by_chunks#0"].rowsOut) > 0 && Number(record.tasks["by_chunks#2"].rowsOut) > 0);
    await assertAllEqual(3000);
    const state = await bronzeState(engine, scratch.lake, "parts", stages.chunks);
    assert.equal(state!.batches.length, 1, "all partitions committed as one batch");
  });

  it("equals it again after updates and inserts, loaded incrementally through the task queue", async () => {
    await client.query(`UPDATE ${quoteIdent(schema)}.t SET v = 'changed', updated_at = '2026-02-01 00:00:00+00' WHERE id % 10 = 3`);
    await client.query(`INSERT INTO ${quoteIdent(schema)}.t SELECT g, NULL, NULL, '2026-02-01 00:00:00+00', 'new' FROM generate_series(3001, 3100) g`);
    const record = await runThroughQueue({
      pipeline: sample, lake: scratch.lake, secrets: new SecretChain([]), projectRoot: process.cwd(),
      queue: new InProcessTaskQueue("parts-tasks"), workers: 3,
    });
    assert.equal(record.status, "succeeded", JSON.stringify(record.tasks));
    assert.equal(record.tasks["by_chunks"].rowsOut, 300 + 100, "only the changed rows");
    await assertAllEqual(3100);
  });

  it("a commit task taken over after it committed reports what it committed; one that no longer holds its run commits nothing", async () => {
    const stage = table("retaken", { kind: "chunks", column: "k", count: 2 });
    const contexts: TestStageContext<typeof stage>[] = [];
    const ctxOf = (runId: string, holds = true) => {
      const ctx = stageContext({ pipeline: pipeline("parts", { schedule: "0 0 * * * *", stages: [stage] }), stage, lake: scratch.lake, engine, runId });
      contexts.push(ctx); // its connectors are closed at the end, as a runner would
      return { ...ctx, holdsTask: async () => holds };
    };
    try {
      const ctx = ctxOf("20260101T000000Z-retake");
      for (const index of [0, 1]) await runBronzePartition(ctx, { index, count: 2 });
      const first = await commitBronzePartitions(ctx, 2);
      // The redelivered commit task finds the run's plan and manifests gone (the commit removed them).
      const again = await commitBronzePartitions(ctx, 2);
      assert.deepEqual([again.rowsOut, again.bytes, again.note], [first.rowsOut, first.bytes, "2 partitions, already committed"]);
      assert.equal(first.rowsOut, 3100);

      await client.query(`UPDATE ${quoteIdent(schema)}.t SET updated_at = '2026-03-01 00:00:00+00' WHERE id <= 10`);
      const stale = ctxOf("20260101T000000Z-stale", false);
      for (const index of [0, 1]) await runBronzePartition(stale, { index, count: 2 });
      const committedBefore = (await bronzeState(engine, scratch.lake, "parts", stage));
      await assert.rejects(commitBronzePartitions(stale, 2), (e: unknown) => e instanceof TaskAbandoned);
      assert.deepEqual((await bronzeState(engine, scratch.lake, "parts", stage)), committedBefore, "nothing committed");
    } finally {
      for (const ctx of contexts) await ctx.closeConnectors();
    }
  });
});

