// bronze.endpoint through `mallard run`'s code path (runLocal, a local lake) against a local HTTP API:
// a first load, an incremental one with ties at the checkpoint and a late row, the YAML form building
// the same stage, and the one-line errors a wrong declaration gets.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { bronze, pipeline, source, type BronzeTable } from "../../../../runtime/declare/index.ts";
import { pipelineFromYaml } from "../../../../runtime/declare/yaml.ts";
import { Engine, queryRows } from "../../../../runtime/engine/engine.ts";
import { ConfigError } from "../../../../runtime/errors.ts";
import { runLocal } from "../../../../runtime/orchestration/local-runner.ts";
import { SecretChain } from "../../../../runtime/secrets/secrets.ts";
import { bronzeViews } from "../../../../runtime/stages/bronze-table/views.ts";
import { type ApiRecord, isoAt, startApi, type TestApi } from "../../../helpers/rest-api.ts";
import { scratchLake } from "../../../helpers/lake.ts";
import { tmpdir } from "node:os";

let engine: Engine;
let api: TestApi;
let records: ApiRecord[];
const rec = (id: number, minute: number, name = `n${id}`): ApiRecord => ({ json: `{"id":${id},"updated_at":"${isoAt(minute)}","name":${JSON.stringify(name)},"big":${9007199254740993n + BigInt(id)}}`, updatedAt: isoAt(minute) });

before(async () => {
  engine = await Engine.create({ memoryLimit: "256MB", threads: 1 }, { directories: [tmpdir()] });
  api = await startApi({ records: () => records, paginate: "cursor", pageSize: 3 });
});
after(async () => {
  await api.close();
  await engine.close();
});

async function load(stage: BronzeTable, lake: Awaited<ReturnType<typeof scratchLake>>) {
  const record = await runLocal({ pipeline: pipeline("rest", { schedule: "0 0 * * * *", stages: [stage] }), lake: lake.lake, secrets: new SecretChain([]), projectRoot: process.cwd() });
  const task = Object.values(record.tasks)[0];
  assert.equal(record.status, "succeeded", JSON.stringify(task));
  return task;
}

async function latest(stage: BronzeTable, lake: Awaited<ReturnType<typeof scratchLake>>): Promise<Record<string, string>[]> {
  return engine.withConnection(async (con) => {
    await bronzeViews.register(con, lake.lake, "b", stage, { pipeline: "rest", stage: "test" });
    return queryRows<Record<string, string>>(con, `SELECT id::VARCHAR AS id, name, big::VARCHAR AS big FROM b ORDER BY id`);
  });
}

describe("bronze.endpoint", () => {
  test("first load, then an incremental load: ties at the checkpoint and a changed row, nothing twice", async () => {
    records = [1, 2, 3, 4, 5, 6, 7].map((i) => rec(i, i < 5 ? 1 : 2));
    const api_ = source.rest("shop", { baseUrl: `${api.url}/v1`, retry: { backoff: "0.05 seconds" } });
    const stage = bronze.endpoint(api_, {
      path: "/orders", records: "data", paginate: { kind: "cursor", field: "meta.next_cursor", param: "after" }, primaryKey: "id",
      incremental: { cursor: ["updated_at", "id"], param: "updated_since", ordered: true },
    });
    assert.equal(stage.name, "orders");
    const lake = await scratchLake();
    try {
      assert.equal((await load(stage, lake)).rowsOut, 7);
      // Two rows share the checkpoint's timestamp; row 3 changes, row 8 is new.
      records = [...records.filter((r) => !r.json.includes(`"id":3,`)), rec(8, 2), rec(3, 3, "changed")];
      const second = await load(stage, lake);
      assert.equal(second.rowsOut, 2, "only the changed and the new row");
      assert.deepEqual(second.checkpointAfter, { columns: ["updated_at", "id"], values: [isoAt(3), "3"] });
      const rows = await latest(stage, lake);
      assert.deepEqual(rows.map((r) => [r.id, r.name]), [["1", "n1"], ["2", "n2"], ["3", "changed"], ["4", "n4"], ["5", "n5"], ["6", "n6"], ["7", "n7"], ["8", "n8"]]);
      assert.equal(rows[0].big, "9007199254740994", "integers beyond 2^53 exact");
      assert.equal((await load(stage, lake)).rowsOut, 0, "nothing new, nothing read");
      const since = api.requests.at(-1)!.url.searchParams.get("updated_since");
      assert.equal(since, isoAt(3), "asked from the checkpoint, inclusive");
    } finally {
      await lake.dispose();
    }
  });
});

describe("bronze.endpoint deletes", () => {
  test("a tombstone record drops its key from the latest rows; __history keeps it", async () => {
    records = [1, 2, 3, 4].map((i) => rec(i, 1));
    const api_ = source.rest("shop", { baseUrl: `${api.url}/v1`, retry: { backoff: "0.05 seconds" } });
    const stage = bronze.endpoint(api_, {
      name: "tombstoned", path: "/orders", records: "data", paginate: { kind: "cursor", field: "meta.next_cursor", param: "after" }, primaryKey: "id",
      incremental: { cursor: ["updated_at", "id"], param: "updated_since", ordered: true }, deletes: { field: "deleted", equals: true },
    });
    const lake = await scratchLake();
    try {
      await load(stage, lake);
      records = [...records.filter((r) => !r.json.includes(`"id":2,`)), { json: `{"id":2,"updated_at":"${isoAt(5)}","deleted":true}`, updatedAt: isoAt(5) }];
      await load(stage, lake);
      assert.deepEqual((await latest(stage, lake)).map((r) => r.id), ["1", "3", "4"]);
      const history = await engine.withConnection(async (con) => {
        await bronzeViews.register(con, lake.lake, "b", stage, { pipeline: "rest", stage: "test" });
        return queryRows<{ id: bigint; deleted: boolean | null }>(con, `SELECT id, _mallard_deleted AS deleted FROM b__history WHERE id = 2 ORDER BY _mallard_deleted NULLS FIRST`);
      });
      assert.deepEqual(history.map((r) => [Number(r.id), r.deleted]), [[2, false], [2, true]]);
    } finally {
      await lake.dispose();
    }
  });
});

describe("the YAML form", () => {
  const yaml = (stage: string, src = "kind: rest\n    baseUrl: https://api.example.com/v1\n    auth: { kind: bearer, token: { secret: shop-token } }") => `
name: rest
schedule: "0 0 * * * *"
sources:
  api:
    ${src}
  db: { kind: postgres, connection: { secret: db-url } }
stages:
${stage}`;

  test("builds the same stage as TypeScript", () => {
    const p = pipelineFromYaml(yaml(`  - bronze: orders
    source: api
    endpoint: /orders
    records: data
    paginate: { kind: linkHeader }
    primaryKey: id
    types: { amount: "DECIMAL(12,2)" }
    incremental: { cursor: [updated_at, id], param: updated_since, format: iso, ordered: true, lookBack: 5 minutes }
    deletes: { field: deleted, equals: true }`), "p.yml");
    const api_ = source.rest("api", { baseUrl: "https://api.example.com/v1", auth: { kind: "bearer", token: { kind: "secret", name: "shop-token" } } });
    const expected = bronze.endpoint(api_, {
      name: "orders", path: "/orders", records: "data", paginate: { kind: "linkHeader" }, primaryKey: "id", types: { amount: "DECIMAL(12,2)" },
      incremental: { cursor: ["updated_at", "id"], param: "updated_since", format: "iso", ordered: true, lookBack: "5 minutes" },
      deletes: { field: "deleted", equals: true },
    });
    assert.deepEqual(JSON.parse(JSON.stringify(p.stages[0])), JSON.parse(JSON.stringify(expected)));
    assert.equal((p.stages[0] as BronzeTable).deletes, "tombstone");
  });

  test("names the stage and field when a table is asked of an API, or an endpoint of a database", () => {
    assert.throws(() => pipelineFromYaml(yaml(`  - { bronze: orders, source: api, table: public.orders, primaryKey: id }`), "p.yml"),
      (e: Error) => e instanceof ConfigError && /p\.yml: stage "orders": endpoint: source "api" is a REST API: name an endpoint/.test(e.message));
    assert.throws(() => pipelineFromYaml(yaml(`  - { bronze: orders, source: db, table: public.orders, primaryKey: id, paginate: { kind: linkHeader } }`), "p.yml"),
      (e: Error) => e instanceof ConfigError && /stage "orders": paginate: only for an endpoint of a REST source or a file pattern of a file drop; source "db" is postgres/.test(e.message));
    assert.throws(() => pipelineFromYaml(yaml(`  - { bronze: orders, source: api, endpoint: /o, primaryKey: id }`, "kind: rest\n    baseUrl: https://x\n    auth: { kind: bearer }"), "p.yml"),
      (e: Error) => e instanceof ConfigError && /sources\.api\.auth\.token/.test(e.message));
  });
});
