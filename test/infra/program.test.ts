// The Pulumi program (index.ts runs infra/program.ts) under pulumi.runtime.setMocks, Pulumi's test mode:
// no engine, no Azure. It loads the stack's pipeline through the one loader, bundles that declaration and
// registers its deployment; a declaration `mallard plan` refuses ends it with the same message.

import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import * as pulumi from "@pulumi/pulumi";
import { mallardArgs } from "../helpers/cli.ts";
import { one, recordProgram, SECRET_VALUES } from "./harness.ts";

test("index.ts deploys the sample pipeline with the dev stack's settings", async () => {
  const { resources } = await recordProgram({ secrets: { "shop-db-url": SECRET_VALUES["shop-db-url"] } });
  const app = one(resources, "azure-native:web:WebApp");
  assert.equal(app.inputs.location, "westeurope");
  const code = one(resources, "pulumi-nodejs:dynamic/mallard:CodeDeployment");
  assert.match(code.inputs.zipHash, /^[0-9a-f]{64}$/);
  assert.equal(one(resources, "azure-native:keyvault:Secret").inputs.properties.value, SECRET_VALUES["shop-db-url"]);
  assert.equal(one(resources, "azure-native:keyvault:Vault").inputs.properties.softDeleteRetentionInDays, 7);
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

  let resources: unknown[] = [];
  const error = await recordProgram({ config: { pipeline: file } }).then(
    (run) => {
      resources = run.resources;
      return undefined;
    },
    (e: unknown) => e,
  );
  assert.ok(error instanceof pulumi.RunError, `expected a RunError (printed without a stack), got ${String(error)}`);
  assert.equal(error.message, planMessage);
  assert.deepEqual(resources, []);
});
