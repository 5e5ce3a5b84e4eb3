// The resource graph of the sample pipeline (configs/pipeline.ts), recorded under pulumi.runtime.setMocks
// (Pulumi's test mode; no engine, no Azure): every resource exists with the settings the design names.

import { test } from "node:test";
import assert from "node:assert/strict";
import sample from "../../configs/pipeline.ts";
import { APP_SETTINGS, LAKE_CONTAINERS } from "../../runtime/declare/deployment.ts";
import { ROLES } from "../../infra/roles.ts";
import { ConfigError } from "../../runtime/errors.ts";
import { appSettingsOf, CLIENT, ofType, one, recordLakehouse, SECRET_VALUES, testSettings } from "./harness.ts";

const { resources } = await recordLakehouse(sample);
const lakeAccount = one(resources, "azure-native:storage:StorageAccount", "mallard-lake-account");
const hostAccount = one(resources, "azure-native:storage:StorageAccount", "mallard-functions-host");
const app = one(resources, "azure-native:web:WebApp");
const settings = appSettingsOf(app);
const idOf = (name: string) => `/subscriptions/${CLIENT.subscriptionId}/mock/${name}`;

test("lake: StorageV2 with hierarchical namespace, TLS 1.2, no public blobs, no shared keys", () => {
  assert.equal(lakeAccount.inputs.kind, "StorageV2");
  assert.equal(lakeAccount.inputs.isHnsEnabled, true);
  assert.equal(lakeAccount.inputs.minimumTlsVersion, "TLS1_2");
  assert.equal(lakeAccount.inputs.enableHttpsTrafficOnly, true);
  assert.equal(lakeAccount.inputs.allowBlobPublicAccess, false);
  assert.equal(lakeAccount.inputs.allowSharedKeyAccess, false);
  assert.match(lakeAccount.inputs.accountName, /^[a-z0-9]{3,24}$/);
});

test("lake: one private container per layer and one for state", () => {
  const containers = ofType(resources, "azure-native:storage:BlobContainer").filter((c) => c.name.startsWith("mallard-lake-"));
  assert.deepEqual(containers.map((c) => c.inputs.containerName).sort(), Object.values(LAKE_CONTAINERS).sort());
  for (const c of containers) {
    assert.equal(c.inputs.accountName, lakeAccount.inputs.accountName);
    assert.equal(c.inputs.publicAccess, "None");
  }
  assert.equal(ofType(resources, "azure-native:storage:ManagementPolicy").length, 0, "no lifecycle rule unless the stack declares one");
});

test("lake: a declared bronze lifecycle tiers old batches under bronze/ only", async () => {
  const run = await recordLakehouse(sample, { settings: testSettings({ lake: { bronzeLifecycle: { coolAfterDays: 30, deleteAfterDays: 365 } } }) });
  const policy = one(run.resources, "azure-native:storage:ManagementPolicy");
  const rule = policy.inputs.policy.rules[0];
  assert.deepEqual(rule.definition.filters.prefixMatch, ["bronze/"]);
  assert.deepEqual(rule.definition.actions.baseBlob, {
    tierToCool: { daysAfterModificationGreaterThan: 30 },
    delete: { daysAfterModificationGreaterThan: 365 },
  });
});

test("task queue and its poison queue live on the lake account", () => {
  const queues = ofType(resources, "azure-native:storage:Queue");
  assert.deepEqual(queues.map((q) => q.inputs.queueName).sort(), ["mallard-tasks", "mallard-tasks-poison"]);
  for (const q of queues) assert.equal(q.inputs.accountName, lakeAccount.inputs.accountName);
});

test("secrets vault: RBAC, soft delete, purge protection, one secret per source connection from stack config", () => {
  const vault = one(resources, "azure-native:keyvault:Vault");
  assert.equal(vault.inputs.properties.enableRbacAuthorization, true);
  assert.equal(vault.inputs.properties.enableSoftDelete, true);
  assert.equal(vault.inputs.properties.enablePurgeProtection, true);
  assert.equal(vault.inputs.properties.tenantId, CLIENT.tenantId);
  const secrets = ofType(resources, "azure-native:keyvault:Secret");
  // Three bronze tables share one source, so one secret.
  assert.deepEqual(secrets.map((s) => s.inputs.secretName), ["shop-db-url"]);
  assert.equal(secrets[0].inputs.properties.value, SECRET_VALUES["shop-db-url"]);
});

test("telemetry: Log Analytics workspace and workspace-based Application Insights", () => {
  const workspace = one(resources, "azure-native:operationalinsights:Workspace");
  const component = one(resources, "azure-native:applicationinsights:Component");
  assert.equal(component.inputs.workspaceResourceId, idOf(`Workspace/${workspace.name}`));
  assert.equal(component.inputs.ingestionMode, "LogAnalytics");
  assert.equal(workspace.inputs.retentionInDays, 30);
});

test("function app: Flex Consumption FC1, Node 22, memory, instance ceiling, identity-authenticated deployment storage", () => {
  const plan = one(resources, "azure-native:web:AppServicePlan");
  assert.deepEqual(plan.inputs.sku, { name: "FC1", tier: "FlexConsumption" });
  assert.equal(plan.inputs.reserved, true);
  assert.equal(app.inputs.kind, "functionapp,linux");
  assert.equal(app.inputs.serverFarmId, idOf("AppServicePlan/mallard-functions-plan"));
  assert.equal(app.inputs.httpsOnly, true);
  assert.deepEqual(app.inputs.identity, { type: "SystemAssigned" });
  const config = app.inputs.functionAppConfig;
  assert.deepEqual(config.runtime, { name: "node", version: "22" });
  assert.equal(config.scaleAndConcurrency.instanceMemoryMB, 2048);
  assert.equal(config.scaleAndConcurrency.maximumInstanceCount, 40, "the Flex Consumption minimum most regions enforce");
  assert.deepEqual(config.deployment.storage, {
    type: "blobContainer",
    value: `https://${hostAccount.inputs.accountName}.blob.core.windows.net/app-package`,
    authentication: { type: "SystemAssignedIdentity" },
  });
  for (const type of ["azure-native:web:WebAppScmAllowed", "azure-native:web:WebAppFtpAllowed"]) {
    assert.equal(one(resources, type).inputs.allow, false, `${type}: no basic-auth publishing`);
  }
  assert.equal(hostAccount.inputs.isHnsEnabled, false);
  assert.equal(hostAccount.inputs.allowSharedKeyAccess, false);
});

test("function app: identity-based connections and every setting the runtime reads, no secret in plain settings", () => {
  assert.equal(settings.AzureWebJobsStorage__accountName, hostAccount.inputs.accountName);
  assert.equal(settings.AzureWebJobsStorage, undefined);
  assert.equal(settings[`${APP_SETTINGS.queueConnection}__queueServiceUri`], `https://${lakeAccount.inputs.accountName}.queue.core.windows.net/`);
  assert.equal(settings[APP_SETTINGS.lakeAccount], lakeAccount.inputs.accountName);
  assert.equal(settings[APP_SETTINGS.taskQueue], "mallard-tasks");
  assert.match(settings[APP_SETTINGS.keyVaultUrl], /^https:\/\/mallard-dev-kv[0-9a-f]{6}\.vault\.azure\.net\/$/);
  assert.equal(settings[APP_SETTINGS.engineMemoryLimit], sample.engine.memoryLimit ?? "1536MB", "the declaration's limit when it sets one");
  assert.ok(settings[APP_SETTINGS.appInsights]);
  assert.equal(settings.APPLICATIONINSIGHTS_AUTHENTICATION_STRING, "Authorization=AAD");
  assert.equal(settings.MALLARD_SCHEDULE, sample.schedule);
  assert.equal(settings[APP_SETTINGS.lakeConnectionString], undefined);
  for (const name of ["FUNCTIONS_WORKER_RUNTIME", "WEBSITE_RUN_FROM_PACKAGE", "FUNCTIONS_EXTENSION_VERSION"]) {
    assert.equal(settings[name], undefined, `${name} must not be set on Flex Consumption`);
  }
  const values = Object.values(settings).join("\n");
  for (const secret of Object.values(SECRET_VALUES)) assert.ok(!values.includes(secret));
  assert.doesNotMatch(values, /AccountKey=|SharedAccessSignature=|password=/i);
});

test("roles: the least that works, each scoped to the one resource it is for, for the app's identity", () => {
  const assignments = ofType(resources, "azure-native:authorization:RoleAssignment");
  const byName = Object.fromEntries(assignments.map((a) => [a.name.replace("mallard-functions-role-", ""), a]));
  const lakeId = idOf("StorageAccount/mallard-lake-account");
  const expected: Record<string, [keyof typeof ROLES, string]> = {
    "host-blob": ["storageBlobDataOwner", idOf("StorageAccount/mallard-functions-host")],
    "host-table": ["storageTableDataContributor", idOf("StorageAccount/mallard-functions-host")],
    "lake-blob": ["storageBlobDataContributor", lakeId],
    // From the queue resources' ids, not a path guessed from the account's.
    "queue-tasks": ["storageQueueDataContributor", idOf("Queue/mallard-tasks-queue")],
    "queue-poison": ["storageQueueDataContributor", idOf("Queue/mallard-tasks-poison-queue")],
    "vault-secrets": ["keyVaultSecretsUser", idOf("Vault/mallard-secrets-vault")],
    "appinsights-publish": ["monitoringMetricsPublisher", idOf("Component/mallard-telemetry-appinsights")],
  };
  assert.deepEqual(Object.keys(byName).sort(), Object.keys(expected).sort());
  for (const [name, [role, scope]] of Object.entries(expected)) {
    const a = byName[name];
    assert.equal(a.inputs.roleDefinitionId, `/subscriptions/${CLIENT.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${ROLES[role]}`, name);
    assert.equal(a.inputs.scope, scope, name);
    assert.equal(a.inputs.principalId, "11111111-2222-3333-4444-555555555555");
    assert.equal(a.inputs.principalType, "ServicePrincipal");
  }
  for (const a of assignments) assert.doesNotMatch(a.inputs.scope, /^\/subscriptions\/[^/]+(\/resourceGroups\/[^/]+)?$/, "never a subscription or group scope");
});

test("alerts: one rule per model with fail checks, on its check-failed telemetry, and one for failed runs", () => {
  const rules = ofType(resources, "azure-native:monitor:ScheduledQueryRule");
  const failModels = sample.stages.filter((s) => (s.kind === "silver.model" || s.kind === "gold.model") && s.checks.some((c) => c.severity === "fail")).map((s) => s.name);
  assert.deepEqual(rules.map((r) => r.name).sort(), [...failModels.map((m) => `mallard-alerts-check-${m}`), "mallard-alerts-run-failed"].sort());
  const rule = one(resources, "azure-native:monitor:ScheduledQueryRule", "mallard-alerts-check-orders_clean");
  assert.deepEqual(rule.inputs.scopes, [idOf("Component/mallard-telemetry-appinsights")]);
  const query: string = rule.inputs.criteria.allOf[0].query;
  assert.match(query, /name == "MallardCheckFailed"/);
  assert.match(query, /pipeline == "shop" and stage == "orders_clean"/);
  assert.equal(rule.inputs.criteria.allOf[0].operator, "GreaterThan");
  assert.equal(rule.inputs.criteria.allOf[0].threshold, 0);
});

test("code deployment: a OneDeploy resource on the app's SCM site, keyed by the bundle hash", () => {
  const code = one(resources, "pulumi-nodejs:dynamic/mallard:CodeDeployment");
  assert.equal(code.inputs.scmUrl, `https://${app.inputs.name}.scm.azurewebsites.net`);
  assert.equal(code.inputs.zipHash, "ab".repeat(32));
  assert.equal(typeof code.inputs.__provider, "string");
});

test("an existing resource group is used, not created", async () => {
  const run = await recordLakehouse(sample, { settings: testSettings({ resourceGroupName: "rg-data" }) });
  assert.equal(ofType(run.resources, "azure-native:resources:ResourceGroup").length, 0);
  assert.equal(one(run.resources, "azure-native:web:WebApp").inputs.resourceGroupName, "rg-data");
});

test("components carry their mallard:<module>:<Name> type tokens", () => {
  const components = resources.filter((r) => !r.custom).map((r) => r.type).sort();
  assert.deepEqual(components, [
    "mallard:alerts:Alerts", "mallard:functions:FunctionApp", "mallard:index:Lakehouse", "mallard:lake:Lake",
    "mallard:queue:TaskQueue", "mallard:secrets:SecretsVault", "mallard:telemetry:RunsWorkbook", "mallard:telemetry:Telemetry",
  ]);
});

test("instance ceiling: 40 by default; below 40 only when lowInstanceCountRegion names the stack's region", async () => {
  assert.equal(testSettings().functions.maximumInstanceCount, 40);
  assert.throws(
    () => testSettings({ functions: { maximumInstanceCount: 4 } }),
    (e: Error) => e instanceof ConfigError && /^mallard:functions\.maximumInstanceCount: 4 is below 40, .* confirm it with mallard:functions\.lowInstanceCountRegion: westeurope$/.test(e.message),
  );
  assert.throws(() => testSettings({ functions: { maximumInstanceCount: 4, lowInstanceCountRegion: "eastasia" } }), /\(it names "eastasia"\)/);
  const low = await recordLakehouse(sample, { settings: testSettings({ functions: { maximumInstanceCount: 4, lowInstanceCountRegion: "westeurope" } }) });
  assert.equal(one(low.resources, "azure-native:web:WebApp").inputs.functionAppConfig.scaleAndConcurrency.maximumInstanceCount, 4);
});

test("diagnostic settings: the vault's audit events and the lake's storage logs go to the Log Analytics workspace", async () => {
  const diagnostics = ofType(resources, "azure-native:monitor:DiagnosticSetting");
  const workspaceId = idOf("Workspace/mallard-telemetry-logs");
  const lakeId = idOf("StorageAccount/mallard-lake-account");
  const byTarget = Object.fromEntries(diagnostics.map((d) => [d.inputs.resourceUri, d.inputs]));
  assert.deepEqual(Object.keys(byTarget).sort(), [`${lakeId}/blobServices/default`, `${lakeId}/queueServices/default`, idOf("Vault/mallard-secrets-vault")].sort());
  for (const d of diagnostics) {
    assert.equal(d.inputs.workspaceId, workspaceId);
    assert.equal(d.inputs.logAnalyticsDestinationType, "Dedicated");
  }
  assert.deepEqual(byTarget[idOf("Vault/mallard-secrets-vault")].logs, [{ category: "AuditEvent", enabled: true }]);
  const storage = [{ category: "StorageWrite", enabled: true }, { category: "StorageDelete", enabled: true }];
  assert.deepEqual(byTarget[`${lakeId}/blobServices/default`].logs, storage);
  assert.deepEqual(byTarget[`${lakeId}/queueServices/default`].logs, storage);

  const reads = await recordLakehouse(sample, { settings: testSettings({ telemetry: { storageLogs: ["StorageRead"] } }) });
  const blob = ofType(reads.resources, "azure-native:monitor:DiagnosticSetting").find((d) => d.inputs.resourceUri.endsWith("/blobServices/default"))!;
  assert.deepEqual(blob.inputs.logs, [{ category: "StorageRead", enabled: true }]);
});

test("lake: blob and container soft delete, with the retention setting", async () => {
  const service = one(resources, "azure-native:storage:BlobServiceProperties");
  assert.equal(service.inputs.accountName, lakeAccount.inputs.accountName);
  assert.equal(service.inputs.blobServicesName, "default");
  assert.deepEqual(service.inputs.deleteRetentionPolicy, { enabled: true, days: 7 });
  assert.deepEqual(service.inputs.containerDeleteRetentionPolicy, { enabled: true, days: 7 });
  const month = await recordLakehouse(sample, { settings: testSettings({ lake: { softDeleteRetentionDays: 30 } }) });
  assert.deepEqual(one(month.resources, "azure-native:storage:BlobServiceProperties").inputs.deleteRetentionPolicy, { enabled: true, days: 30 });
  assert.throws(() => testSettings({ lake: { softDeleteRetentionDays: 0 } }), /mallard:lake\.softDeleteRetentionDays/);
});

test("vault: created normally, or recovered (createMode recover) when a soft-deleted vault holds its name", async () => {
  assert.equal(one(resources, "azure-native:keyvault:Vault").inputs.properties.createMode, "default");
  const recovered = await recordLakehouse(sample, { recoverVault: true });
  assert.equal(one(recovered.resources, "azure-native:keyvault:Vault").inputs.properties.createMode, "recover");
});
