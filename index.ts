// The Pulumi program: loads the pipeline declaration, bundles the runtime that runs it, and deploys the
// resources its stages need together with the code, in one `pulumi up`. Settings: infra/config.ts.

import * as pulumi from "@pulumi/pulumi";
import * as authorization from "@pulumi/azure-native/authorization/index.js";
import { buildBundle, pruneBundles } from "./infra/bundle/bundle.ts";
import { readSettings, secretConfigKey, SETTING_KEYS } from "./infra/config.ts";
import { Lakehouse } from "./infra/lakehouse.ts";
import { loadDeclaration } from "./infra/load-pipeline.ts";
import { collectNeeds } from "./infra/stages/index.ts";
import { dirname } from "node:path";

const settings = readSettings();
const pipeline = await loadDeclaration(settings.pipeline);
const bundle = await buildBundle({ sizeBudgetBytes: settings.bundle.sizeBudgetMB * 1024 * 1024 });
await pruneBundles(dirname(bundle.zipPath), bundle.zipPath);
pulumi.log.info(
  `bundle ${bundle.zipHash.slice(0, 12)}: ${(bundle.zipBytes / 1024 / 1024).toFixed(1)} MB zip, ` +
    `${(bundle.entryBytes / 1024).toFixed(0)} KB of JavaScript, pipeline "${pipeline.name}" with ${pipeline.stages.length} stages`,
);

// A `mallard:` key that is neither a setting nor a secret the pipeline uses is most likely a typo.
const secretNames = new Set(collectNeeds(pipeline).secrets.map((ref) => secretConfigKey(ref.name)));
for (const key of Object.keys(pulumi.runtime.allConfig())) {
  const [namespace, name] = key.split(":");
  if (namespace === "mallard" && !SETTING_KEYS.includes(name) && !secretNames.has(name)) {
    pulumi.log.warn(`mallard:${name} is neither a setting (infra/config.ts) nor a secret of pipeline "${pipeline.name}"; it is ignored`);
  }
}

const client = authorization.getClientConfigOutput();
// OneDeploy authenticates with an Entra token for Resource Manager, of whoever runs `pulumi up`.
const token = authorization.getClientTokenOutput().token;
const config = new pulumi.Config("mallard");

const lakehouse = new Lakehouse("mallard", {
  pipeline,
  settings,
  names: { project: pulumi.getProject(), stack: pulumi.getStack() },
  client: { tenantId: client.tenantId, subscriptionId: client.subscriptionId },
  secretValue: (name) => config.requireSecret(secretConfigKey(name)),
  code: { zipPath: bundle.zipPath, zipHash: bundle.zipHash, token },
});

export const resourceGroup = lakehouse.resourceGroupName;
export const functionApp = lakehouse.functions.app.name;
export const functionUrl = pulumi.interpolate`https://${lakehouse.functions.defaultHostName}`;
/** Start a run (POST) or read one (GET /api/runs/<id>); needs a function key. */
export const runsEndpoint = pulumi.interpolate`https://${lakehouse.functions.defaultHostName}/api/runs`;
export const lakeAccount = lakehouse.lake.accountName;
export const lakeDfsEndpoint = lakehouse.lake.dfsEndpoint;
export const keyVaultUrl = lakehouse.vault.vaultUri;
export const appInsights = lakehouse.telemetry.appInsights.name;
export const taskQueue = lakehouse.queue.queueName;
export const bundleHash = bundle.zipHash;
export const deploymentId = lakehouse.functions.deployment?.deploymentId;
