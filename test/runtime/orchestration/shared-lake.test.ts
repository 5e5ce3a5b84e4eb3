// Two pipelines sharing a lake: each publishes its own tables; a model named like another pipeline's
// fails its task with one line naming both pipelines, and the other pipeline's table is untouched.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { pipeline, silver } from "../../../runtime/declare/index.ts";
import { runLocal } from "../../../runtime/orchestration/local-runner.ts";
import { SecretChain } from "../../../runtime/secrets/secrets.ts";
import { Engine, lakeAccess } from "../../../runtime/engine/engine.ts";
import { readTable, scratchLake } from "../../helpers/lake.ts";

let scratch: Awaited<ReturnType<typeof scratchLake>>;
before(async () => {
  scratch = await scratchLake();
});
after(() => scratch.dispose());

const run = (name: string, sql: string, model = "orders") =>
  runLocal({
    pipeline: pipeline(name, { schedule: "0 0 * * * *", stages: [silver.model(model, { from: {}, sql })] }),
    lake: scratch.lake,
    secrets: new SecretChain([]),
    projectRoot: process.cwd(),
  });

describe("pipelines sharing a lake", () => {
  it("a model named like another pipeline's fails with both names; the owner's table stays, and the owner goes on", async () => {
    assert.equal((await run("shop", "select 1 as x")).status, "succeeded");
    const clash = await run("crm", "select 2 as x");
    assert.equal(clash.status, "failed");
    assert.equal(
      clash.tasks.orders.error,
      'silver/orders is published by pipeline "shop": pipeline "crm" cannot publish a table of the same name in the same lake ' +
        "(a table is named by its model alone): rename one of the two models, or give each pipeline its own lake",
    );
    assert.equal((await run("crm", "select 2 as x", "crm_orders")).status, "succeeded", "under its own name it publishes");
    assert.equal((await run("shop", "select 3 as x")).status, "succeeded");
    const engine = await Engine.create({ memoryLimit: "256MB", threads: 1 }, lakeAccess(scratch.lake));
    try {
      assert.deepEqual(await readTable(engine, scratch.lake, "silver/orders"), [{ x: 3 }]);
      assert.deepEqual(await readTable(engine, scratch.lake, "silver/crm_orders"), [{ x: 2 }]);
    } finally {
      await engine.close();
    }
  });
});
