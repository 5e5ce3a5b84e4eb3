// The deployment policy (infra/policy.ts) as plain assertions: the sample pipeline's graph, recorded under
// pulumi.runtime.setMocks (Pulumi's test mode), passes; a graph that allows public access or puts a secret
// value in an app setting fails, naming the resource and the rule.

import { test } from "node:test";
import assert from "node:assert/strict";
import sample from "../../configs/pipeline.ts";
import { checkPolicies } from "../../infra/policy.ts";
import { recordLakehouse, SECRET_VALUES } from "./harness.ts";

const secrets = Object.values(SECRET_VALUES);

test("the sample pipeline's deployment passes every policy", async () => {
  const { resources } = await recordLakehouse(sample);
  assert.deepEqual(checkPolicies(resources, secrets), []);
});

test("a storage account that allows public blob access fails", async () => {
  const { resources } = await recordLakehouse(sample, { transform: { lake: { account: { allowBlobPublicAccess: true } } } });
  const violations = checkPolicies(resources, secrets);
  assert.deepEqual(violations.map((v) => [v.policy, v.resource]), [["storage-no-public-access", "azure-native:storage:StorageAccount mallard-lake-account"]]);
});

test("a public container or a shared-key account fails", async () => {
  const { resources } = await recordLakehouse(sample, {
    transform: {
      lake: { container: (args) => { args.publicAccess = "Blob"; } },
      functions: { hostStorage: { allowSharedKeyAccess: true } },
    },
  });
  const policies = checkPolicies(resources, secrets).map((v) => `${v.policy} ${v.resource}`);
  assert.ok(policies.includes("storage-no-shared-key azure-native:storage:StorageAccount mallard-functions-host"));
  const containers = resources.filter((r) => r.type === "azure-native:storage:BlobContainer" && r.name.startsWith("mallard-lake"));
  assert.ok(containers.length >= 4, "the lake's containers were recorded");
  assert.equal(policies.filter((p) => p.startsWith("storage-no-public-access azure-native:storage:BlobContainer")).length, containers.length);
});

test("a secret value in an app setting fails, whether whole or inside a longer value", async () => {
  const { resources } = await recordLakehouse(sample, {
    transform: {
      functions: {
        app: (args) => {
          args.siteConfig = {
            appSettings: [
              { name: "SHOP_URL", value: SECRET_VALUES["shop-db-url"] },
              { name: "NOTE", value: `uses ${SECRET_VALUES["crm-db-url"]} too` },
            ],
          };
        },
      },
    },
  });
  const violations = checkPolicies(resources, secrets).filter((v) => v.policy === "app-settings-no-secrets");
  assert.deepEqual(violations.map((v) => v.message), ["SHOP_URL holds the value of a stack secret", "NOTE holds the value of a stack secret"]);
});

test("credential-shaped settings fail even when they are not a known secret", () => {
  const app = {
    type: "azure-native:web:WebApp",
    name: "app",
    inputs: {
      httpsOnly: true,
      siteConfig: {
        appSettings: [
          { name: "AzureWebJobsStorage", value: "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=abc==" },
          { name: "DB", value: "postgres://user:hunter2@db/x" },
          { name: "WEBSITE_RUN_FROM_PACKAGE", value: "1" },
        ],
      },
    },
  };
  const messages = checkPolicies([app]).map((v) => v.message);
  assert.ok(messages.some((m) => m.startsWith("AzureWebJobsStorage: host storage must use the identity")));
  assert.ok(messages.some((m) => m === "AzureWebJobsStorage looks like it holds a storage account key"));
  assert.ok(messages.some((m) => m === "DB looks like it holds a URL with a password"));
  assert.ok(messages.some((m) => m.startsWith("WEBSITE_RUN_FROM_PACKAGE: Flex Consumption deploys with OneDeploy")));
});

test("a vault without RBAC or purge protection fails", async () => {
  const { resources } = await recordLakehouse(sample, {
    transform: { vault: { vault: (args) => { args.properties = { ...(args.properties as object), enableRbacAuthorization: false, enablePurgeProtection: false } as typeof args.properties; } } },
  });
  assert.deepEqual(checkPolicies(resources, secrets).map((v) => v.policy).sort(), ["vault-purge-protection", "vault-rbac"]);
});
