// Alerting and the runs workbook, recorded under pulumi.runtime.setMocks (Pulumi's test mode; no engine, no
// Azure): every alert rule fires the one action group; the group has exactly the receivers the stack's
// config names (none without config), a webhook's URL kept secret; the workbook sits on Application
// Insights and queries the events the runtime sends for this pipeline.
import assert from "node:assert/strict";
import { test } from "node:test";
import sample from "../../configs/pipeline.ts";
import { bronze, pipeline, source } from "../../runtime/declare/index.ts";
import { runsWorkbookQueries, workbookGuid } from "../../infra/runs-workbook.ts";
import { TELEMETRY } from "../../runtime/declare/deployment.ts";
import { Monitor, type TelemetrySink } from "../../runtime/telemetry/monitor.ts";
import { CLIENT, ofType, one, recordLakehouse, recordProgram, SECRET_VALUES, testSettings } from "./harness.ts";

const idOf = (name: string) => `/subscriptions/${CLIENT.subscriptionId}/mock/${name}`;
const GROUP = "azure-native:monitor:ActionGroup";

test("without alert config: one action group with no receivers, and every rule wired to it", async () => {
  const { resources } = await recordLakehouse(sample);
  const group = one(resources, GROUP, "mallard-alerts-notify");
  assert.equal(group.inputs.location, "global");
  assert.equal(group.inputs.enabled, true);
  assert.deepEqual(group.inputs.emailReceivers, []);
  assert.deepEqual(group.inputs.webhookReceivers, []);
  const rules = ofType(resources, "azure-native:monitor:ScheduledQueryRule");
  assert.ok(rules.length >= 2);
  for (const rule of rules) assert.deepEqual(rule.inputs.actions, { actionGroups: [idOf("ActionGroup/mallard-alerts-notify")] }, rule.name);
});

test("email and webhook receivers from stack config, the webhook URL from the stack's secrets and kept secret", async () => {
  const settings = testSettings({ alerts: { emails: ["data@example.com", "oncall@example.com"], webhooks: [{ name: "oncall", secret: "alerts-oncall-url" }] } });
  const { resources } = await recordLakehouse(sample, { settings });
  const group = one(resources, GROUP);
  assert.deepEqual(group.inputs.emailReceivers, [
    { name: "email-1", emailAddress: "data@example.com", useCommonAlertSchema: true },
    { name: "email-2", emailAddress: "oncall@example.com", useCommonAlertSchema: true },
  ]);
  assert.deepEqual(group.inputs.webhookReceivers, [{ name: "oncall", serviceUri: SECRET_VALUES["alerts-oncall-url"], useCommonAlertSchema: true }]);
  assert.deepEqual(group.secretInputs, ["webhookReceivers"], "the URL is its key: a secret in the state and in diffs");
  for (const rule of ofType(resources, "azure-native:monitor:ScheduledQueryRule")) assert.deepEqual(rule.inputs.actions.actionGroups, [idOf("ActionGroup/mallard-alerts-notify")]);
});

test("alert webhook settings are checked: a name and a secret name", () => {
  assert.throws(() => testSettings({ alerts: { webhooks: [{ name: "x", url: "https://example.com" }] } }), /mallard:alerts\.webhooks\.0/);
  assert.throws(() => testSettings({ alerts: { webhooks: [{ name: "x", secret: "has space" }] } }), /mallard:alerts\.webhooks\.0\.secret: a secret name/);
});

test("runs workbook: a shared workbook on Application Insights, with a stable GUID name and the pipeline's queries", async () => {
  const { resources } = await recordLakehouse(sample);
  const workbook = one(resources, "azure-native:applicationinsights:Workbook");
  assert.equal(workbook.inputs.kind, "shared");
  assert.equal(workbook.inputs.category, "workbook");
  assert.equal(workbook.inputs.displayName, "Mallard runs: shop");
  assert.equal(workbook.inputs.sourceId, idOf("Component/mallard-telemetry-appinsights").toLowerCase());
  assert.match(workbook.inputs.resourceName, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(workbook.inputs.resourceName, workbookGuid("mallard-dev/shop/runs"));
  assert.notEqual(workbookGuid("mallard-prod/shop/runs"), workbookGuid("mallard-dev/shop/runs"));

  const content = JSON.parse(workbook.inputs.serializedData) as { version: string; items: { type: number; name: string; content: { query?: string; resourceType?: string; timeContextFromParameter?: string } }[]; fallbackResourceIds: string[] };
  assert.equal(content.version, "Notebook/1.0");
  assert.deepEqual(content.fallbackResourceIds, [idOf("Component/mallard-telemetry-appinsights")]);
  const panels = content.items.filter((i) => i.type === 3);
  assert.deepEqual(panels.map((p) => p.name), ["runsOverTime", "rowsOverTime", "runs", "taskDurations", "taskDurationsOverTime", "failures", "reconciliation", "rowsByStage"]);
  const queries = runsWorkbookQueries("shop");
  for (const p of panels) {
    assert.equal(p.content.query, queries[p.name]);
    assert.equal(p.content.resourceType, "microsoft.insights/components");
    assert.equal(p.content.timeContextFromParameter, "TimeRange");
    assert.match(p.content.query!, /^customEvents\n\| where name in \(.+\)\n\| where tostring\(customDimensions\.pipeline\) == "shop"\n/);
  }
  assert.ok(content.items.some((i) => i.type === 9 && JSON.stringify(i.content).includes('"name":"TimeRange"')));
});

test("runs workbook queries ask for the events and measurements the runtime sends", () => {
  const q = runsWorkbookQueries('we"ird');
  assert.match(q.runs, /where name in \("MallardRunFinished", "MallardRunFailed"\)/);
  assert.match(q.runs, /pipeline\) == "we\\"ird"/, "the name is a KQL string literal");
  assert.match(q.runs, /customMeasurements\.durationMs/);
  assert.match(q.taskDurations, /percentile\(durationSeconds, 95\)/);
  assert.match(q.rowsByStage, /customMeasurements\.rowsOut/);
  for (const event of [TELEMETRY.runFailed, TELEMETRY.taskFailed, TELEMETRY.checkFailed, TELEMETRY.reconcileDrift]) assert.ok(q.failures.includes(`"${event}"`), event);
});

test("every dimension and measurement the workbook reads is one the runtime's monitor sends", () => {
  const dimensions = new Set<string>();
  const measurements = new Set<string>();
  const sink: TelemetrySink = {
    event(_name, properties, m) {
      for (const k of Object.keys(properties)) dimensions.add(k);
      for (const k of Object.keys(m ?? {})) measurements.add(k);
    },
    metric() {},
    exception() {},
    async flush() {},
  };
  const monitor = new Monitor({ sink: () => undefined, telemetry: sink }).with({ pipeline: "shop", runId: "r1" });
  monitor.taskFinished({ task: "clean", stage: "clean", kind: "silver.model", status: "succeeded", rowsIn: 10, rowsOut: 9, bytes: 100, durationMs: 5, checks: [{ name: "c", kind: "not_null", severity: "fail", passed: false, failingRows: 1 }] });
  monitor.taskFinished({ task: "orders", stage: "orders", kind: "bronze.table", status: "failed", durationMs: 5, error: "x" });
  monitor.taskFinished({
    task: "customers", stage: "customers", kind: "bronze.table", status: "succeeded", rowsIn: 3, rowsOut: 3, bytes: 10, durationMs: 5,
    reconciliation: { status: "drift", at: "2026-12-01T00:00:00Z", durationMs: 4, columns: ["id"], source: { rows: 3, checksum: "a" }, lake: { rows: 2, checksum: "b" }, missing: 1, changed: 0, deleted: 0, pending: 0 },
  });
  monitor.runFinished({ runId: "r1", pipeline: "shop", status: "failed", trigger: "timer", startedAt: "2026-12-01T00:00:00Z", endedAt: "2026-12-01T00:01:00Z", tasks: {}, error: { stage: "orders", message: "x" } });
  const all = Object.values(runsWorkbookQueries("shop")).join("\n");
  const used = (field: string) => new Set([...all.matchAll(new RegExp(`${field}\\.(\\w+)`, "g"))].map((m) => m[1]));
  assert.ok(used("customMeasurements").size >= 6);
  for (const key of used("customDimensions")) assert.ok(dimensions.has(key), `customDimensions.${key} is never sent (sent: ${[...dimensions].join(", ")})`);
  for (const key of used("customMeasurements")) assert.ok(measurements.has(key), `customMeasurements.${key} is never sent (sent: ${[...measurements].join(", ")})`);
});

test("the program reads an alert webhook's URL from the stack's secrets, and warns (not fails) when it has none", async () => {
  const url = "https://hooks.example.com/services/T9/B9/ProgramSecret99";
  const config = { alerts: { webhooks: [{ name: "oncall", secret: "alerts-oncall-url" }] } };
  const run = await recordProgram({ config, secrets: { "shop-db-url": SECRET_VALUES["shop-db-url"], "alerts-oncall-url": url } });
  const group = one(run.resources, GROUP);
  assert.deepEqual(group.inputs.webhookReceivers, [{ name: "oncall", serviceUri: url, useCommonAlertSchema: true }]);
  assert.deepEqual(group.secretInputs, ["webhookReceivers"]);
  assert.deepEqual(run.warnings.filter((w) => /alerts-oncall-url/.test(w)), [], "a key the settings name is not an unknown key");
  assert.equal(ofType(run.resources, "azure-native:keyvault:Secret").filter((s) => s.inputs.secretName === "alerts-oncall-url").length, 0, "not written to Key Vault: the app never reads it");

  const unset = await recordProgram({ config, secrets: { "shop-db-url": SECRET_VALUES["shop-db-url"] } });
  assert.deepEqual(one(unset.resources, GROUP).inputs.webhookReceivers, []);
  assert.ok(unset.warnings.some((w) => w.includes(`alert webhook "oncall": secret "alerts-oncall-url" has no value; set it with \`pulumi config set --secret alerts-oncall-url '<url>'\``)), unset.warnings.join("\n"));
});

test("a reconciled bronze table gets an alert rule on its drift events, wired to the action group; others none", async () => {
  const db = source.postgres("db", { connection: "postgres://reader@db.example.com/shop" });
  const p = pipeline("shop", {
    schedule: "0 */15 * * * *",
    stages: [bronze.table(db, { table: "public.orders", primaryKey: "id", reconcile: "afterLoad" }), bronze.table(db, { table: "public.customers", primaryKey: "id" })],
  });
  const { resources } = await recordLakehouse(p);
  const rules = ofType(resources, "azure-native:monitor:ScheduledQueryRule");
  assert.deepEqual(rules.map((r) => r.name).sort(), ["mallard-alerts-reconcile-orders", "mallard-alerts-run-failed"]);
  const rule = one(resources, "azure-native:monitor:ScheduledQueryRule", "mallard-alerts-reconcile-orders");
  const query: string = rule.inputs.criteria.allOf[0].query;
  assert.match(query, /where name == "MallardReconcileDrift"/);
  assert.match(query, /pipeline == "shop" and stage == "orders"/);
  assert.deepEqual(rule.inputs.actions.actionGroups, [idOf("ActionGroup/mallard-alerts-notify")]);
  assert.equal(rule.inputs.displayName, "shop.orders: bronze drifted from its source");
});
