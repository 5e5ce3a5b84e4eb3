// The Pulumi program (index.ts runs infra/program.ts) under pulumi.runtime.setMocks, Pulumi's test mode:
// no engine, no Azure. For the sample and for two pipelines the sample never had (a YAML one, a second
// TypeScript one), the program registers that pipeline's resources, and the zip it built, loaded in a
// fresh Node process with a stand-in for the Functions host, registers exactly that pipeline's functions.
// Then: a declaration `mallard plan` refuses ends the program with the same message; secrets without
// values warn instead of failing; the subscription must be pinned; a soft-deleted vault is recovered.

import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { promisify } from "node:util";
import * as pulumi from "@pulumi/pulumi";
import { mallardArgs } from "../helpers/cli.ts";
import { parse } from "yaml";
import { zipFiles } from "../../infra/bundle/bundle.ts";
import { PLACEHOLDER_SUBSCRIPTION } from "../../infra/program.ts";
import { appSettingsOf, CLIENT, ofType, one, recordProgram, type RecordedResource, SECRET_VALUES } from "./harness.ts";
import { loadBundle, type LoadedBundle, type RegisteredFunction } from "./bundle/load-bundle.ts";

const queue = (queueName: string): RegisteredFunction => ({ trigger: "queueTrigger", queueName, connection: "MALLARD_STORAGE" });
const timer = (schedule: string): RegisteredFunction => ({ trigger: "timerTrigger", schedule });
const RUNS: RegisteredFunction = { trigger: "httpTrigger", methods: ["GET", "POST"], authLevel: "function", route: "runs/{runId?}" } as RegisteredFunction;
const RUN_REPORT = { trigger: "httpTrigger", methods: ["GET"], authLevel: "function", route: "runs/{runId}/report" };
const ALWAYS = { executor: queue("mallard-tasks"), poison: queue("mallard-tasks-poison"), runs: RUNS, run_report: RUN_REPORT };

interface Deployed {
  resources: RecordedResource[];
  warnings: string[];
  /** The zip the program built, loaded with the app settings the program gave the app. */
  app: LoadedBundle;
  zipFiles: string[];
  code: string;
}

/** Runs the program for a pipeline, then loads the zip it built (before another run prunes it). */
async function deploy(pipeline: string, secrets: Record<string, string>): Promise<Deployed> {
  const run = await recordProgram({ config: { pipeline }, secrets });
  const zipPath: string = one(run.resources, "pulumi-nodejs:dynamic/mallard:CodeDeployment").inputs.zipPath;
  const files = await zipFiles(zipPath);
  const settings = appSettingsOf(one(run.resources, "azure-native:web:WebApp"));
  return {
    ...run,
    app: await loadBundle(zipPath, settings),
    zipFiles: files.map((f) => f.path).filter((p) => !p.startsWith("node_modules/") && !p.startsWith("chunks/")),
    code: files.filter((f) => f.path.endsWith(".mjs")).map((f) => f.data.toString()).join("\n"),
  };
}

const secretNames = (resources: RecordedResource[]) => ofType(resources, "azure-native:keyvault:Secret").map((s) => s.inputs.secretName).sort();
const ruleNames = (resources: RecordedResource[]) => ofType(resources, "azure-native:monitor:ScheduledQueryRule").map((r) => r.inputs.ruleName).sort();
const instances = (resources: RecordedResource[]) => one(resources, "azure-native:web:WebApp").inputs.functionAppConfig.scaleAndConcurrency.maximumInstanceCount;

let sample: Deployed;

test("the sample with the dev stack's settings: its resources, and its bundle registers its five functions and opens DuckDB", async () => {
  sample = await deploy("configs/pipeline.ts", { "shop-db-url": SECRET_VALUES["shop-db-url"] });
  const { resources, app, zipFiles: files } = sample;
  const web = one(resources, "azure-native:web:WebApp");
  assert.equal(web.inputs.location, "westeurope");
  assert.equal(instances(resources), 40, "Pulumi.dev.yaml keeps the Flex Consumption minimum");
  assert.deepEqual(secretNames(resources), ["shop-db-url"]);
  assert.equal(one(resources, "azure-native:keyvault:Vault").inputs.properties.softDeleteRetentionInDays, 7);

  assert.deepEqual(app.functions, { driver: timer("0 */15 * * * *"), ...ALWAYS });
  assert.equal(app.checked, "passed", "the load-time checks ran at startup, against the SQL files in the zip");
  assert.equal(app.answer, 42);
  assert.equal(app.encoder, "ready", "the Parquet encoder's worker starts from its file in the zip");
  assert.ok(app.bindingPath.startsWith(app.appDir), "the binding comes from the zip, not the repository");
  assert.deepEqual(files.filter((f) => f.endsWith(".sql")), ["transformations/gold/customer_value.sql", "transformations/gold/daily_revenue.sql", "transformations/silver/orders_clean.sql"]);
  console.log(
    `# sample bundle: cold import ${app.importMs.toFixed(0)} ms + load-time checks ${app.checkMs.toFixed(0)} ms + DuckDB open and first query ` +
      `${app.openMs.toFixed(0)} ms = ${(app.importMs + app.checkMs + app.openMs).toFixed(0)} ms (Flex allows 30000 ms)`,
  );
});

test("with values set, secrets land in Key Vault as Pulumi secrets, never in app settings or anywhere else", () => {
  const { resources } = sample;
  const secret = one(resources, "azure-native:keyvault:Secret");
  assert.equal(secret.inputs.properties.value, SECRET_VALUES["shop-db-url"]);
  assert.deepEqual(secret.secretInputs, ["properties"], "encrypted in the state, hidden in diffs");
  for (const r of resources) {
    if (r === secret) continue;
    assert.ok(!JSON.stringify(r.inputs).includes("S3cr3t-shop-pw"), `${r.type} ${r.name} holds the value`);
  }
});

test("a YAML pipeline with other stage names: its resources, and its bundle registers its functions, per-table timer included", async () => {
  const { resources, app, zipFiles: files, code } = await deploy("test/infra/fixtures/pipelines/invoices.yml", { "erp-db-url": "postgres://erp:pw@erp.example.com/erp" });
  assert.deepEqual(secretNames(resources), ["erp-db-url"]);
  const settings = appSettingsOf(one(resources, "azure-native:web:WebApp"));
  assert.equal(settings.MALLARD_SCHEDULE, "0 0 * * * *");
  assert.equal(settings.MALLARD_SCHEDULE__invoice_lines, "0 */5 * * * *");
  assert.deepEqual(ruleNames(resources), ["mallard-dev-check-invoices_valid", "mallard-dev-run-failed"]);

  assert.deepEqual(app.functions, { driver: timer("0 0 * * * *"), driver_invoice_lines: timer("0 */5 * * * *"), ...ALWAYS });
  assert.equal(app.checked, "passed");
  assert.deepEqual(files.filter((f) => f.endsWith(".sql")), ["test/infra/fixtures/pipelines/sql/invoices_valid.sql", "test/infra/fixtures/pipelines/sql/revenue_by_month.sql"]);
  assert.match(code, /revenue_by_month/, "the declaration is in the code");
  assert.doesNotMatch(code, /orders_clean/, "the sample is not");
});

test("a second TypeScript pipeline: its resources, and its bundle registers its functions with its transform inside", async () => {
  const { resources, app, zipFiles: files, code } = await deploy("test/infra/fixtures/pipelines/events.ts", { "web-db-url": "postgres://web:pw@web.example.com/web" });
  assert.deepEqual(secretNames(resources), ["web-db-url"]);
  assert.equal(instances(resources), 48, "raised to page_views' 48 chunks");
  assert.equal(appSettingsOf(one(resources, "azure-native:web:WebApp")).MALLARD_SCHEDULE__page_views, "0 */10 * * * *");
  assert.deepEqual(ruleNames(resources), ["mallard-dev-check-daily_sessions", "mallard-dev-check-sessions", "mallard-dev-run-failed"]);

  assert.deepEqual(app.functions, { driver: timer("0 30 2 * * *"), driver_page_views: timer("0 */10 * * * *"), ...ALWAYS });
  assert.equal(app.checked, "passed");
  assert.deepEqual(files.filter((f) => f.endsWith(".sql")), ["test/infra/fixtures/pipelines/sql/daily_sessions.sql"]);
  assert.match(code, /interval 30 minutes/, "the TypeScript transform is bundled");
  assert.doesNotMatch(code, /orders_clean/);
});

test("a pipeline `mallard plan` refuses ends the program with the same one-line message, and registers nothing", async () => {
  const file = "test/infra/fixtures/pipelines/refused.yml";
  const cli = await promisify(execFile)(process.execPath, mallardArgs(["plan", "-c", file])).then(
    () => assert.fail("mallard plan accepted the pipeline"),
    (e: { code: number; stderr: string }) => e,
  );
  assert.equal(cli.code, 2);
  const planMessage = cli.stderr.trim().replace(/^error: /, "");
  assert.match(planMessage, /stage "invoices_with_customers": sql: reads "customers", which is not an input/);
  await assertRefused({ config: { pipeline: file } }, planMessage);
});

test("model and check SQL that read files, URLs or the secrets file end the program with mallard plan's message", async () => {
  const file = "test/infra/fixtures/pipelines/reaches-out.yml";
  const cli = await promisify(execFile)(process.execPath, mallardArgs(["plan", "-c", file])).then(
    () => assert.fail("mallard plan accepted the pipeline"),
    (e: { code: number; stderr: string }) => e,
  );
  assert.equal(cli.code, 2);
  const planMessage = cli.stderr.trim().replace(/^error: /, "");
  assert.match(planMessage, /^9 problems:\n  - stage "secrets": sql: read_text\(\) is refused/);
  await assertRefused({ config: { pipeline: file } }, planMessage);
});

async function assertRefused(options: Parameters<typeof recordProgram>[0], message: string | RegExp): Promise<void> {
  let registered = -1;
  const error = await recordProgram(options).then((run) => void (registered = run.resources.length), (e: unknown) => e);
  assert.ok(error instanceof pulumi.RunError, `expected a RunError (printed without a stack), got ${String(error)} after ${registered} resources`);
  if (typeof message === "string") assert.equal(error.message, message);
  else assert.match(error.message, message);
}

test("no secret values in config: the program runs to completion, warns with the command to run, and writes no secret", async () => {
  for (const preview of [false, true]) {
    const { resources, warnings } = await recordProgram({ preview });
    assert.deepEqual(secretNames(resources), [], `preview ${preview}`);
    assert.ok(warnings.some((w) => w.includes("secret \"shop-db-url\" has no value in stack \"dev\"") && w.includes("`pulumi config set --secret shop-db-url '<value>'`")), warnings.join("\n"));
    // The rest of the diff is all there, the app's read access to the vault included.
    assert.ok(one(resources, "pulumi-nodejs:dynamic/mallard:CodeDeployment"));
    assert.equal(one(resources, "azure-native:authorization:RoleAssignment", "mallard-functions-role-vault-secrets").inputs.scope, `/subscriptions/${CLIENT.subscriptionId}/mock/Vault/mallard-secrets-vault`);
  }
});

test("mallard:externalSecrets: no secret is written, the app may still read the vault; a stray value or name is a warning", async () => {
  const all = await recordProgram({ config: { externalSecrets: true } });
  assert.deepEqual(secretNames(all.resources), []);
  assert.ok(one(all.resources, "azure-native:authorization:RoleAssignment", "mallard-functions-role-vault-secrets"));
  assert.deepEqual(all.warnings.filter((w) => w.includes("secret")), [], "nothing to warn about");

  const listed = await recordProgram({ config: { externalSecrets: ["shop-db-url", "old-db-url"] }, secrets: { "shop-db-url": "postgres://x:y@h/d" } });
  assert.deepEqual(secretNames(listed.resources), []);
  assert.ok(listed.warnings.some((w) => /"shop-db-url" is in mallard:externalSecrets, so its value in the stack's config/.test(w)));
  assert.ok(listed.warnings.some((w) => /names "old-db-url", which no source of the pipeline references/.test(w)));
});

test("the subscription is pinned in the stack file, and the program refuses to run unpinned, on the placeholder, or on another subscription", async () => {
  const stackFile = parse(readFileSync("Pulumi.dev.yaml", "utf8")) as { config: Record<string, unknown> };
  assert.match(String(stackFile.config["azure-native:subscriptionId"]), /^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$/);
  await assertRefused({ config: { "azure-native:subscriptionId": PLACEHOLDER_SUBSCRIPTION } }, /azure-native:subscriptionId is still the placeholder .*`pulumi config set azure-native:subscriptionId <id>`/);
  await assertRefused({ config: { "azure-native:subscriptionId": "" } }, /azure-native:subscriptionId is not set; pin it in the stack file/);
  const other = "11111111-2222-3333-4444-555555555555";
  await assertRefused(
    { config: { "azure-native:subscriptionId": other } },
    `the Azure credentials use subscription ${CLIENT.subscriptionId}, but the stack is pinned to ${other} (azure-native:subscriptionId); ` +
      `log in to that subscription (\`az account set --subscription ${other}\`, or ARM_SUBSCRIPTION_ID in CI), or change the pin on purpose`,
  );
});

test("a vault soft-deleted by an earlier destroy is recovered (createMode recover); when the program cannot tell, it says what to do", async () => {
  const fresh = await recordProgram();
  assert.equal(one(fresh.resources, "azure-native:keyvault:Vault").inputs.properties.createMode, "default");
  const vaultName = one(fresh.resources, "azure-native:keyvault:Vault").inputs.vaultName;
  assert.equal(fresh.resourceManagerCalls.length, 1);
  assert.match(fresh.resourceManagerCalls[0].path, new RegExp(`^/subscriptions/${CLIENT.subscriptionId}/providers/Microsoft\\.KeyVault/locations/westeurope/deletedVaults/${vaultName}\\?`));
  assert.equal(fresh.resourceManagerCalls[0].authorization, "Bearer mock-arm-token");

  const deleted = await recordProgram({ deletedVault: { deletionDate: "2025-03-01T10:00:00Z", scheduledPurgeDate: "2025-03-08T10:00:00Z" } });
  assert.equal(one(deleted.resources, "azure-native:keyvault:Vault").inputs.properties.createMode, "recover");
  assert.ok(deleted.warnings.some((w) => w.includes(`Key Vault "${vaultName}" was deleted on 2025-03-01T10:00:00Z and is soft-deleted until 2025-03-08T10:00:00Z`)), deleted.warnings.join("\n"));

  const forbidden = await recordProgram({ deletedVault: "forbidden" });
  assert.equal(one(forbidden.resources, "azure-native:keyvault:Vault").inputs.properties.createMode, "default");
  assert.ok(forbidden.warnings.some((w) => w.includes(`could not check whether a soft-deleted Key Vault holds the name "${vaultName}" (Resource Manager answered 403`)));
});
