// Several bronze resources extract in parallel in the local runner's bounded pool, and a slow source never
// stalls the others: a REST API that holds its second page until both PostgreSQL tables are loaded must
// see them loaded (with two slots, the two tables share the one slot the API does not hold). No timing is
// measured: if the slow source stalled the others (a pool slot, the shared DuckDB engine, a connection),
// the held page would never be released and the run would fail on the hold's deadline.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { bronze, pipeline, source } from "../../../runtime/declare/index.ts";
import { quoteIdent } from "../../../runtime/engine/sql.ts";
import { executeTask } from "../../../runtime/orchestration/execute-task.ts";
import { runLocal, type RunEvent } from "../../../runtime/orchestration/local-runner.ts";
import type { Task } from "../../../runtime/orchestration/plan.ts";
import type { StageContext } from "../../../runtime/stages/context.ts";
import { SecretChain } from "../../../runtime/secrets/secrets.ts";
import { bronzeBed, type BronzeBed } from "../../helpers/bronze-bed.ts";
import { type ApiRecord, startApi, type TestApi } from "../../helpers/rest-api.ts";

let bed: BronzeBed;
let api: TestApi;
const fastDone = { count: 0, release: () => {} };
const released = new Promise<void>((resolve) => (fastDone.release = resolve));
let heldTooLong = false;

const records: ApiRecord[] = Array.from({ length: 12 }, (_, i) => ({ json: `{"id":${i + 1},"name":"slow ${i + 1}"}` }));

before(async () => {
  bed = await bronzeBed("parallel");
  for (const t of ["fast_a", "fast_b"]) {
    await bed.client.query(`CREATE TABLE ${quoteIdent(bed.schema)}.${t} (id int PRIMARY KEY, v text)`);
    await bed.client.query(`INSERT INTO ${quoteIdent(bed.schema)}.${t} SELECT g, 'v' || g FROM generate_series(1, 500) g`);
  }
  api = await startApi({
    records: () => records, paginate: "cursor", pageSize: 5,
    // The second page of a read waits until both tables are loaded (or a deadline, which fails the test).
    async hold(url) {
      if (url.searchParams.get("after") !== "5") return;
      const deadline = new Promise<void>((resolve) => setTimeout(() => {
        heldTooLong = true;
        resolve();
      }, 120_000).unref());
      await Promise.race([released, deadline]);
    },
  });
});
after(async () => {
  await api.close();
  await bed.close();
});

describe("parallel extraction in the local runner", () => {
  it("runs resources in a bounded pool, and a slow API does not hold up the tables beside it", async () => {
    const db = source.postgres("db", { connection: bed.server.url });
    const rest = source.rest("slow", { baseUrl: `${api.url}/v1`, chunkRows: 3 });
    const stages = [
      bronze.endpoint(rest, { name: "slow", path: "/items", records: "data", paginate: { kind: "cursor", field: "meta.next_cursor", param: "after" }, primaryKey: "id", sample: 0, types: { id: "BIGINT", name: "VARCHAR" } }),
      bronze.table(db, { table: `${bed.schema}.fast_a`, primaryKey: "id" }),
      bronze.table(db, { table: `${bed.schema}.fast_b`, primaryKey: "id" }),
    ];
    const order: string[] = [];
    let running = 0;
    let most = 0;
    // Counted around the stage code itself: the runner's events may overlap a slot handed over.
    const runTask = async (task: Task, ctx: StageContext) => {
      most = Math.max(most, ++running);
      try {
        return await executeTask(task, ctx);
      } finally {
        running--;
      }
    };
    const onEvent = (event: RunEvent) => {
      if (event.type !== "task-end") return;
      order.push(event.task.id);
      if (event.task.id.startsWith("fast_") && ++fastDone.count === 2) fastDone.release();
    };
    const record = await runLocal({
      pipeline: pipeline("parallel", { schedule: "0 0 * * * *", stages }),
      lake: bed.scratch.lake, secrets: new SecretChain([]), projectRoot: process.cwd(), concurrency: 2, onEvent, runTask,
    });
    assert.equal(record.status, "succeeded", JSON.stringify(record.tasks));
    assert.equal(heldTooLong, false, "the tables were loaded while the API held its page");
    assert.deepEqual(order, ["fast_a", "fast_b", "slow"]);
    assert.equal(most, 2, "never more tasks at once than the pool's size");
    assert.equal(record.tasks.slow.rowsOut, 12);
    assert.equal(record.tasks.fast_a.rowsOut, 500);
  });
});
