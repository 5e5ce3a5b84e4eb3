// A real local run (PostgreSQL → bronze → a silver model) records a plausible Azure cost estimate: per
// task GB-seconds are instance memory × its duration, storage writes and bytes cover the files it
// committed, and the run's estimate is its tasks' plus the run's own overhead and Key Vault lookup.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { bronze, pipeline, secret, silver, source } from "../../../runtime/declare/index.ts";
import { quoteIdent } from "../../../runtime/engine/sql.ts";
import { RUN_OVERHEAD } from "../../../runtime/cost/estimate.ts";
import { DEFAULT_AZURE_PRICES } from "../../../runtime/cost/prices.ts";
import { runLocal } from "../../../runtime/orchestration/local-runner.ts";
import { EnvSecretProvider, SecretChain, secretEnvName } from "../../../runtime/secrets/secrets.ts";
import { bronzeBed, type BronzeBed } from "../../helpers/bronze-bed.ts";

let bed: BronzeBed;
before(async () => {
  bed = await bronzeBed("cost");
});
after(() => bed.close());

describe("cost estimate of a real run", () => {
  it("is recorded per task and for the run, and adds up", async () => {
    await bed.client.query(`CREATE TABLE ${quoteIdent(bed.schema)}.orders AS SELECT g AS id, (g * 1.5)::numeric(12,2) AS total FROM generate_series(1, 20000) g`);
    const shop = source.postgres("shop", { connection: secret("shop-db-url"), chunkRows: 5000 });
    const orders = bronze.table(shop, { table: `${bed.schema}.orders`, primaryKey: "id" });
    const big = silver.model("big", { from: { orders }, sql: "select * from orders where total > 100" });
    const p = pipeline("cost", { schedule: "0 0 * * * *", stages: [orders, big], cost: { instanceMemoryMB: 4096 } });
    const secrets = new SecretChain([new EnvSecretProvider({ [secretEnvName("shop-db-url")]: bed.server.url })]);
    const run = await runLocal({ pipeline: p, lake: bed.scratch.lake, secrets, projectRoot: process.cwd() });
    assert.equal(run.status, "succeeded", JSON.stringify(run.tasks));
    for (const task of Object.values(run.tasks)) {
      const cost = task.cost!;
      assert.ok(cost, `${task.task} has a cost`);
      assert.equal(cost.gbSeconds, 4 * (task.durationMs! / 1000), `${task.task}: 4 GB × its duration`);
      assert.equal(cost.executions, 1);
      // At least its data file, its Delta commit and its two run-record updates; bytes at least what it wrote.
      assert.ok(cost.storageWrites >= 4, `${task.task} writes ${cost.storageWrites}`);
      assert.ok(cost.bytesWritten >= (task.bytes ?? 0) && cost.bytesWritten > 1000, `${task.task} bytes ${cost.bytesWritten} vs ${task.bytes}`);
      assert.ok(cost.amount.total > 0 && cost.amount.total < 0.01, `${task.task}: ${cost.amount.total} USD is plausible for seconds of work`);
      assert.equal(cost.currency, "USD");
    }
    const total = run.cost!;
    const tasks = Object.values(run.tasks).map((t) => t.cost!);
    assert.equal(total.executions, tasks.length + RUN_OVERHEAD.executions);
    assert.equal(total.keyVaultOperations, 1, "one secret, looked up once");
    assert.equal(total.bytesWritten, tasks.reduce((n, c) => n + c.bytesWritten, 0));
    const prices = DEFAULT_AZURE_PRICES;
    const overhead = RUN_OVERHEAD.executions * prices.flexMillionExecutions / 1e6 +
      (RUN_OVERHEAD.storageWrites * prices.storageWrites10k + RUN_OVERHEAD.storageReads * prices.storageReads10k + prices.keyVault10k) / 1e4;
    assert.ok(Math.abs(total.amount.total - tasks.reduce((n, c) => n + c.amount.total, 0) - overhead) < 1e-12);
  });
});
