// `npm start` end to end: the first demo run seeds the embedded PostgreSQL and loads everything; the
// second changes the shop first and loads only what changed, and gold reflects the change.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Engine } from "../../../runtime/engine/engine.ts";
import { LocalLake } from "../../../runtime/lake/local-lake.ts";
import { RunRecords } from "../../../runtime/state/run-records.ts";
import { mallardArgs } from "../../helpers/cli.ts";
import { readTable } from "../../helpers/lake.ts";

let dir: string;
let engine: Engine;

function demo() {
  const r = spawnSync(process.execPath, mallardArgs(["demo", "--lake", join(dir, "lake"), "--data-dir", join(dir, "pg")]), { encoding: "utf8" });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "mallard-demo-"));
  engine = await Engine.create({ memoryLimit: "512MB", threads: 1 }, { directories: [tmpdir()] });
});
after(async () => {
  await engine.close();
  await rm(dir, { recursive: true, force: true });
});

describe("npm start (mallard demo)", () => {
  it("loads everything, then only the changes, and gold follows", async () => {
    const first = demo();
    assert.equal(first.code, 0, first.out + first.err);
    assert.match(first.out, /seeded the sample shop/);
    assert.match(first.out, /run \S+ succeeded/);
    const lake = new LocalLake(join(dir, "lake"));
    const revenueBefore = await readTable(engine, lake, "gold/daily_revenue", "order_date");
    const ordersBefore = revenueBefore.reduce((n, r) => n + Number(r.orders), 0);
    const entitiesBefore = await readTable(engine, lake, "silver/people__entities", "id");
    const people = await readTable(engine, lake, "silver/people");
    // 1,150 customer records of 1,000 people: the dedup stage finds (nearly) all of them.
    assert.ok(people.length >= 990 && people.length <= 1010, `${people.length} people`);

    const second = demo();
    assert.equal(second.code, 0, second.out + second.err);
    const changed = /changed the shop \(generation 1\): (\d+) orders updated, (\d+) inserted, (\d+) late-arriving/.exec(second.out);
    assert.ok(changed, second.out);
    const [updated, inserted, late] = changed.slice(1).map(Number);

    const [latest] = await new RunRecords(lake).latest("shop", 1);
    const orders = latest.tasks.orders;
    // Incremental: the changed orders plus whatever the one-hour look-back re-reads, not all 5,000.
    assert.ok(orders.rowsOut! >= updated + inserted + late, `orders loaded ${orders.rowsOut}`);
    assert.ok(orders.rowsOut! < 1000, `orders loaded ${orders.rowsOut}: not incremental`);
    assert.equal(latest.tasks.customers.rowsOut, 0);

    const revenueAfter = await readTable(engine, lake, "gold/daily_revenue", "order_date");
    const ordersAfter = revenueAfter.reduce((n, r) => n + Number(r.orders), 0);
    const clean = await readTable(engine, lake, "silver/orders_clean");
    const quarantine = await readTable(engine, lake, "silver/orders_clean__quarantine");
    assert.equal(clean.length + quarantine.length, 5000 + inserted + late, "every order is in silver or its quarantine");
    assert.ok(ordersAfter > ordersBefore, "gold counts the new orders");
    const entitiesAfter = await readTable(engine, lake, "silver/people__entities", "id");
    assert.deepEqual(entitiesAfter.map((e) => [e.id, e.entity_id]), entitiesBefore.map((e) => [e.id, e.entity_id]), "entity ids are stable");
  });
});
