// The cost arithmetic, checked against numbers worked out by hand; the metered lake counting what a real
// local lake is asked; the settings' checks.

import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { bronze, pipeline, secret, source } from "../../../runtime/declare/index.ts";
import { addCosts, priced, runCost, secretsOf, TASK_OVERHEAD, taskCost } from "../../../runtime/cost/estimate.ts";
import { MeteredLake, operationsFor } from "../../../runtime/cost/metered-lake.ts";
import { costProblems, DEFAULT_AZURE_PRICES, resolveCostSettings } from "../../../runtime/cost/prices.ts";
import type { RunRecord } from "../../../runtime/state/run-records.ts";
import { scratchLake } from "../../helpers/lake.ts";

const near = (actual: number, expected: number) => assert.ok(Math.abs(actual - expected) < 1e-12, `${actual} ≠ ${expected}`);
const prices = { ...DEFAULT_AZURE_PRICES, flexGbSecond: 0.00002, flexMillionExecutions: 0.5, storageWrites10k: 0.1, storageReads10k: 0.01, storageLists10k: 0.05, storageGbMonth: 0.02, queue10k: 0.004, keyVault10k: 0.03 };

describe("cost arithmetic", () => {
  it("prices each part of a usage and adds them up", () => {
    const cost = priced({ gbSeconds: 1000, executions: 2_000_000, storageWrites: 20_000, storageReads: 50_000, storageLists: 10_000, bytesWritten: 5 * 1024 ** 3, queueOperations: 30_000, keyVaultOperations: 10_000 }, prices);
    // 1000 × 0.00002 = 0.02; 2 × 0.5 = 1; 2 × 0.1 + 5 × 0.01 + 1 × 0.05 = 0.3; 5 × 0.02 = 0.1; 3 × 0.004 = 0.012; 1 × 0.03 = 0.03.
    near(cost.amount.compute, 0.02);
    near(cost.amount.executions, 1);
    near(cost.amount.storageOperations, 0.3);
    near(cost.amount.storageCapacity, 0.1);
    near(cost.amount.queue, 0.012);
    near(cost.amount.keyVault, 0.03);
    near(cost.amount.total, 1.462);
    assert.equal(cost.pricesAsOf, DEFAULT_AZURE_PRICES.asOf);
  });

  it("makes a task's GB-seconds from instance memory × duration, and adds the queue task's own operations", () => {
    const cost = taskCost(1500, { writes: 4, reads: 10, lists: 1, bytesWritten: 1000 }, { instanceMemoryMB: 4096, prices });
    assert.equal(cost.gbSeconds, 6); // 4 GB × 1.5 s
    assert.deepEqual([cost.executions, cost.storageWrites, cost.storageReads, cost.storageLists, cost.queueOperations, cost.keyVaultOperations],
      [1, 4 + TASK_OVERHEAD.storageWrites, 10 + TASK_OVERHEAD.storageReads, 1, 3, 0]);
    near(cost.amount.compute, 6 * 0.00002);
  });

  it("bills a transfer per 4 MiB started, at least one operation", () => {
    assert.deepEqual([0, 1, 4 * 1024 * 1024, 4 * 1024 * 1024 + 1, 10 * 1024 * 1024].map(operationsFor), [1, 1, 1, 2, 3]);
  });

  it("adds a run's tasks, the run's own overhead and one Key Vault lookup per distinct secret of the sources it read", () => {
    const shop = source.postgres("shop", { connection: secret("shop-db-url") });
    const crm = source.postgres("crm", { connection: "postgres://local/crm" });
    const p = pipeline("p", { schedule: "0 0 * * * *", stages: [bronze.table(shop, { table: "public.a", primaryKey: "id" }), bronze.table(crm, { table: "public.b", primaryKey: "id" })], cost: { prices } });
    assert.deepEqual([...secretsOf(p, new Set(["a", "b"]))], ["shop-db-url"]);
    assert.deepEqual([...secretsOf(p, new Set(["b"]))], []);
    const settings = resolveCostSettings(p.cost);
    const a = taskCost(2000, { writes: 3, reads: 5, lists: 0, bytesWritten: 100 }, settings);
    const b = taskCost(1000, { writes: 1, reads: 1, lists: 2, bytesWritten: 50 }, settings);
    const run: RunRecord = {
      runId: "r", pipeline: "p", status: "succeeded", trigger: "cli", startedAt: "2026-12-02T10:00:00Z",
      tasks: { a: { task: "a", stage: "a", kind: "bronze.table", status: "succeeded", cost: a }, b: { task: "b", stage: "b", kind: "bronze.table", status: "succeeded", cost: b } },
    };
    const total = runCost(p, run);
    assert.equal(total.gbSeconds, 6);
    assert.equal(total.executions, 3);
    assert.equal(total.storageWrites, a.storageWrites + b.storageWrites + 3);
    assert.equal(total.bytesWritten, 150);
    assert.equal(total.keyVaultOperations, 1);
    near(total.amount.total, a.amount.total + b.amount.total + (1 / 1e6) * 0.5 + (3 * 0.1 + 1 * 0.01) / 1e4 + 0.03 / 1e4);
    const day = addCosts([total, total])!;
    near(day.amount.total, 2 * total.amount.total);
    assert.equal(day.executions, 6);
  });

  it("checks the settings, naming the field", () => {
    assert.deepEqual(costProblems({ instanceMemoryMB: 1024 as 2048, prices: { flexGbSecond: -1, nope: 1 } as never }), [
      "cost.instanceMemoryMB: expected 2048 or 4096 (Flex Consumption instance sizes), got 1024",
      "cost.prices.flexGbSecond: expected a price of 0 or more, got -1",
      `cost.prices.nope: unknown (known: ${Object.keys(DEFAULT_AZURE_PRICES).join(", ")})`,
    ]);
    assert.throws(() => pipeline("p", { schedule: "0 0 * * * *", stages: [], cost: { prices: { queue10k: Number.NaN } } }), /cost\.prices\.queue10k: expected a price/);
    assert.deepEqual(resolveCostSettings({ prices: { currency: "EUR" } }).prices.currency, "EUR");
    assert.equal(resolveCostSettings(undefined).instanceMemoryMB, 2048);
  });
});

describe("MeteredLake", () => {
  let scratch: Awaited<ReturnType<typeof scratchLake>>;
  before(async () => {
    scratch = await scratchLake();
  });
  after(() => scratch.dispose());

  it("counts reads, writes per 4 MiB, list pages and bytes written on a real local lake", async () => {
    const lake = new MeteredLake(scratch.lake);
    await lake.writeJson("_mallard/x.json", { a: 1 });
    await lake.writeText("gold/t/_delta_log/0.json", "x".repeat(10));
    const big = join(scratch.dir, "big.bin");
    await writeFile(big, Buffer.alloc(5 * 1024 * 1024));
    await lake.putFile(big, "bronze/t/big.bin");
    assert.equal((await lake.readJson<{ a: number }>("_mallard/x.json"))?.value.a, 1);
    await lake.readText("gold/t/_delta_log/0.json");
    await lake.localFiles(["bronze/t/big.bin"]);
    const listed = [];
    for await (const o of lake.list("")) listed.push(o.path);
    await lake.delete("bronze/t/big.bin");
    assert.equal(listed.length, 3);
    assert.deepEqual(lake.usage, { writes: 1 + 1 + 2, reads: 3, lists: 1, bytesWritten: 7 + 10 + 5 * 1024 * 1024 });
  });
});
