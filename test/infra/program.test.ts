// The Pulumi program itself (index.ts) with the dev stack's settings from Pulumi.dev.yaml and a secret
// set as `pulumi config set --secret` would, under pulumi.runtime.setMocks (Pulumi's test mode): it loads
// the declaration, builds the bundle and registers the deployment. Needs the runtime's Functions entry and
// host.json, so it is skipped until they exist.

import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { one, recordResources, SECRET_VALUES } from "./harness.ts";

const ready = existsSync("runtime/functions/index.ts") && existsSync("host.json");

test("index.ts deploys the sample pipeline with the dev stack's settings", { skip: ready ? false : "runtime/functions/index.ts or host.json does not exist yet" }, async () => {
  const stack = parse(readFileSync("Pulumi.dev.yaml", "utf8")) as { config: Record<string, unknown> };
  const config: Record<string, string> = {};
  for (const [key, value] of Object.entries(stack.config)) config[key] = typeof value === "string" ? value : JSON.stringify(value);
  config["mallard:shop-db-url"] = SECRET_VALUES["shop-db-url"];
  pulumi.runtime.setAllConfig(config, ["mallard:shop-db-url"]);

  const resources = await recordResources(() => import("../../index.ts"));
  const app = one(resources, "azure-native:web:WebApp");
  assert.equal(app.inputs.functionAppConfig.scaleAndConcurrency.maximumInstanceCount, 4);
  assert.equal(app.inputs.location, "westeurope");
  const code = one(resources, "pulumi-nodejs:dynamic/mallard:CodeDeployment");
  assert.match(code.inputs.zipHash, /^[0-9a-f]{64}$/);
  assert.equal(one(resources, "azure-native:keyvault:Secret").inputs.properties.value, SECRET_VALUES["shop-db-url"]);
  assert.equal(one(resources, "azure-native:keyvault:Vault").inputs.properties.softDeleteRetentionInDays, 7);
});
