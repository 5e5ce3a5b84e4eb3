// Each stage yields what it needs, and adding one stage to the declaration adds exactly its resources:
// the graph before and after is compared resource by resource, under pulumi.runtime.setMocks (Pulumi's
// test mode). The bundle is held fixed; in a real `pulumi up` the code redeploys too, since the
// declaration ships in the bundle.

import { test } from "node:test";
import assert from "node:assert/strict";
import sample from "../../configs/pipeline.ts";
import { bronze, check, pipeline, secret, silver, source, type SqlSource, type Stage } from "../../runtime/declare/index.ts";
import { collectNeeds, stageNeeds } from "../../infra/stages/index.ts";
import { appSettingsOf, one, recordLakehouse, type RecordedResource } from "./harness.ts";

const withStage = (stage: Stage) =>
  pipeline(sample.name, { schedule: sample.schedule, stages: [...sample.stages, stage], engine: sample.engine });

const stageByName = (name: string) => {
  const stage = sample.stages.find((s) => s.name === name);
  if (!stage) throw new Error(`sample has no stage ${name}`);
  return stage;
};

interface GraphDiff {
  added: string[];
  removed: string[];
  changed: string[];
}

const key = (r: RecordedResource) => `${r.type}::${r.name}`;

function diffGraphs(before: readonly RecordedResource[], after: readonly RecordedResource[]): GraphDiff {
  const old = new Map(before.map((r) => [key(r), r]));
  const neu = new Map(after.map((r) => [key(r), r]));
  return {
    added: [...neu.keys()].filter((k) => !old.has(k)),
    removed: [...old.keys()].filter((k) => !neu.has(k)),
    changed: [...neu.keys()].filter((k) => old.has(k) && JSON.stringify(old.get(k)!.inputs) !== JSON.stringify(neu.get(k)!.inputs)),
  };
}

const base = (await recordLakehouse(sample)).resources;

test("a bronze table from a new source adds exactly its source's secret, and nothing else changes", async () => {
  const crm = source.postgres("crm", { connection: secret("crm-db-url") });
  const accounts = bronze.table(crm, { table: "public.accounts", primaryKey: "id" });
  const after = (await recordLakehouse(withStage(accounts))).resources;
  assert.deepEqual(diffGraphs(base, after), {
    added: ["azure-native:keyvault:Secret::mallard-secrets-secret-crm-db-url"],
    removed: [],
    changed: [],
  });
});

test("a bronze table from a source already deployed adds nothing: its secret exists", async () => {
  const shop = (stageByName("orders") as Extract<Stage, { kind: "bronze.table" }>).source as SqlSource;
  const refunds = bronze.table(shop, { table: "public.refunds", primaryKey: "id" });
  const after = (await recordLakehouse(withStage(refunds))).resources;
  assert.deepEqual(diffGraphs(base, after), { added: [], removed: [], changed: [] });
});

test("a bronze table with its own schedule adds exactly one app setting", async () => {
  const shop = (stageByName("orders") as Extract<Stage, { kind: "bronze.table" }>).source as SqlSource;
  const stock = bronze.table(shop, { table: "public.stock", primaryKey: "sku", schedule: "0 */5 * * * *" });
  const after = (await recordLakehouse(withStage(stock))).resources;
  const diff = diffGraphs(base, after);
  assert.deepEqual(diff, { added: [], removed: [], changed: ["azure-native:web:WebApp::mallard-functions-app"] });
  const before = appSettingsOf(one(base, "azure-native:web:WebApp"));
  const now = appSettingsOf(one(after, "azure-native:web:WebApp"));
  assert.deepEqual(now, { ...before, MALLARD_SCHEDULE__stock: "0 */5 * * * *" });
});

test("a bronze table split into more chunks than the app may scale to raises the instance ceiling to them", async () => {
  const shop = (stageByName("orders") as Extract<Stage, { kind: "bronze.table" }>).source as SqlSource;
  const events = bronze.table(shop, { table: "public.events", primaryKey: "id", partitions: { kind: "chunks", column: "id", count: 64 } });
  const after = (await recordLakehouse(withStage(events))).resources;
  assert.deepEqual(diffGraphs(base, after).changed, ["azure-native:web:WebApp::mallard-functions-app"]);
  const app = one(after, "azure-native:web:WebApp");
  assert.equal(app.inputs.functionAppConfig.scaleAndConcurrency.maximumInstanceCount, 64);
  const before = structuredClone(one(base, "azure-native:web:WebApp").inputs);
  before.functionAppConfig.scaleAndConcurrency.maximumInstanceCount = 64;
  assert.deepEqual(app.inputs, before, "only the ceiling moved");
});

test("a silver model with fail checks adds exactly one alert rule on its failures", async () => {
  const ordersClean = stageByName("orders_clean");
  const refunds = silver.model("big_orders", {
    from: { orders_clean: ordersClean },
    sql: "select * from orders_clean where total > 1000",
    checks: [check.notNull("order_id"), check.rowCount({ max: 1_000_000 }, { severity: "warn" })],
  });
  const after = (await recordLakehouse(withStage(refunds))).resources;
  assert.deepEqual(diffGraphs(base, after), {
    added: ["azure-native:monitor:ScheduledQueryRule::mallard-alerts-check-big_orders"],
    removed: [],
    changed: [],
  });
  const rule = one(after, "azure-native:monitor:ScheduledQueryRule", "mallard-alerts-check-big_orders");
  assert.match(rule.inputs.criteria.allOf[0].query, /stage == "big_orders"/);
});

test("a model whose checks only warn or drop adds nothing", async () => {
  const ordersClean = stageByName("orders_clean");
  const model = silver.model("orders_flagged", {
    from: { orders_clean: ordersClean },
    sql: "select * from orders_clean",
    checks: [check.notNull("order_id", { severity: "warn" }), check.expect("positive", "total >= 0", { severity: "drop" })],
  });
  const after = (await recordLakehouse(withStage(model))).resources;
  assert.deepEqual(diffGraphs(base, after), { added: [], removed: [], changed: [] });
});

test("a silver.dedup stage adds nothing: it uses the lake that exists and the run-failed alert", async () => {
  const customers = stageByName("customers");
  const people = silver.dedup("people_by_surname", {
    from: customers, id: "id",
    blocking: [["surname"]],
    compare: { surname: { levels: [{ kind: "exact" }] } },
  });
  const after = (await recordLakehouse(withStage(people))).resources;
  assert.deepEqual(diffGraphs(base, after), { added: [], removed: [], changed: [] });
});

test("stage needs: bronze yields its secret, schedule and partition parallelism; plain-text connections warn", () => {
  const plain = source.postgres("legacy", { connection: "postgres://u:p@h/db" });
  const table = bronze.table(plain, { table: "t", primaryKey: "id", partitions: { kind: "range", column: "id", step: 1000, tasks: 6 } });
  const p = pipeline("x", { schedule: "0 0 * * * *", stages: [table] });
  const needs = stageNeeds(table, p);
  assert.deepEqual(needs.secrets, []);
  assert.equal(needs.parallelism, 6, "ranges are dealt to a fixed number of tasks");
  assert.match(needs.warnings[0], /plain string/);
  const all = collectNeeds(p);
  assert.deepEqual(all.appSettings, { MALLARD_SCHEDULE: "0 0 * * * *" });
  assert.deepEqual(all.alerts.map((a) => a.key), ["run-failed"]);
});

test("pipeline needs: secrets once each, sorted; the timer schedule; one run-failed alert", () => {
  const needs = collectNeeds(sample);
  assert.deepEqual(needs.secrets.map((s) => s.name), ["shop-db-url"]);
  assert.equal(needs.appSettings.MALLARD_SCHEDULE, sample.schedule);
  assert.ok(needs.alerts.some((a) => a.key === "run-failed" && /MallardRunFailed/.test(a.query) && /"shop"/.test(a.query)));
});
