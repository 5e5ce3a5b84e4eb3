// On the queue path, model SQL that does not bind against its inputs (a misspelt column) fails the same
// way on every attempt: its task fails on the first attempt with DuckDB's reason, goes to the poison
// queue at once, and is not retried (it was retried three times). An error that a retry can fix still is:
// see queue-run.test.ts. Real PostgreSQL, local lake, in-process queue running the queue protocol.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { bronze, gold, pipeline, source } from "../../../../runtime/declare/index.ts";
import { quoteIdent } from "../../../../runtime/engine/sql.ts";
import { runThroughQueue } from "../../../../runtime/orchestration/azure/worker.ts";
import { InProcessTaskQueue } from "../../../../runtime/orchestration/queue/memory-queue.ts";
import { decodeTaskMessage } from "../../../../runtime/orchestration/queue/message.ts";
import { SecretChain } from "../../../../runtime/secrets/secrets.ts";
import { Monitor } from "../../../../runtime/telemetry/monitor.ts";
import { bronzeBed, type BronzeBed } from "../../../helpers/bronze-bed.ts";

let bed: BronzeBed;
before(async () => {
  bed = await bronzeBed("badsql");
  await bed.client.query(`CREATE TABLE ${quoteIdent(bed.schema)}.items (id bigint PRIMARY KEY, name text); INSERT INTO ${quoteIdent(bed.schema)}.items VALUES (1, 'a'), (2, 'b')`);
});
after(() => bed.close());

describe("model SQL that does not bind, on the queue path", () => {
  it("fails its task on the first attempt, with the reason, and poisons it at once", async () => {
    const db = source.postgres("db", { connection: bed.server.url });
    const items = bronze.table(db, { table: `${bed.schema}.items`, primaryKey: "id" });
    const totals = gold.model("totals", { from: { items }, sql: "select nmae, count(*) as n from items group by nmae" });
    const p = pipeline("badsql", { schedule: "0 0 * * * *", stages: [items, totals] });
    const queue = new InProcessTaskQueue();
    const record = await runThroughQueue({
      pipeline: p, lake: bed.scratch.lake, queue, secrets: new SecretChain([]), projectRoot: process.cwd(), workers: 1, pollMs: 20,
      monitor: new Monitor({ sink: () => undefined }), retry: { baseDelaySeconds: 1, maxAttempts: 3 },
    });
    assert.equal(record.status, "failed");
    assert.equal(record.tasks.items.status, "succeeded");
    const task = record.tasks.totals;
    assert.equal(task.status, "failed");
    assert.equal(task.attempt, 1, "not retried");
    assert.match(task.error ?? "", /^stage "totals": sql: Binder Error: Referenced column "nmae" not found/);
    assert.doesNotMatch(task.error ?? "", /\n/);
    const poisoned = await queue.receivePoison({ max: 32 });
    assert.deepEqual(poisoned.map((m) => decodeTaskMessage(m.body).task), ["totals"]);
  });
});
