// The Pulumi program as one function, which index.ts runs and tests run under pulumi.runtime.setMocks:
// reads the stack's settings, loads and checks the pipeline through the one loader, bundles the code for
// that declaration and registers the lakehouse. An expected failure (a refused declaration, a bad setting,
// a bundle that cannot be built) ends the program with the message `mallard plan` prints, no stack trace.

import { dirname } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import * as authorization from "@pulumi/azure-native/authorization/index.js";
// The one loader checks model SQL with DuckDB's parser, so the engine is imported here, against the
// usual arrow (infra/ never imports the engine). It is worth it: the program runs on a laptop or in CI,
// where DuckDB is installed anyway, and `pulumi preview` refuses exactly what `mallard plan` refuses.
import { loadPipeline } from "../runtime/config/load-pipeline.ts";
import { ConfigError, describeError, MallardError } from "../runtime/errors.ts";
import { buildBundle, pruneBundles } from "./bundle/bundle.ts";
import { BundleError } from "./bundle/errors.ts";
import { warmCodeDeployment } from "./deploy/code-deployment.ts";
import { readSettings, secretConfigKey, SETTING_KEYS } from "./config.ts";
import { Lakehouse } from "./lakehouse.ts";
import { vaultName } from "./naming.ts";
import { stackSecrets } from "./stack-secrets.ts";
import { findDeletedVault } from "./vault-recovery.ts";
import { collectNeeds } from "./stages/index.ts";

export interface ProgramOptions {
  /** Where the project is (pipeline, SQL files, host.json, node_modules). @default process.cwd() */
  projectRoot?: string;
  /** Resource Manager, asked whether a soft-deleted vault holds the vault's name. @default "https://management.azure.com" */
  resourceManager?: string;
}

/** What Pulumi.dev.yaml holds until a deployer pins their own subscription. */
export const PLACEHOLDER_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000";

/** The stack outputs index.ts exports. */
export interface ProgramOutputs {
  resourceGroup: pulumi.Output<string>;
  functionApp: pulumi.Output<string>;
  functionUrl: pulumi.Output<string>;
  runsEndpoint: pulumi.Output<string>;
  lakeAccount: pulumi.Output<string>;
  lakeDfsEndpoint: pulumi.Output<string>;
  keyVaultUrl: pulumi.Output<string>;
  keyVaultName: pulumi.Output<string>;
  appInsights: pulumi.Output<string>;
  taskQueue: string;
  bundleHash: string;
  deploymentId: pulumi.Output<string> | undefined;
}

export async function mallardProgram(options: ProgramOptions = {}): Promise<ProgramOutputs> {
  try {
    return await program(options.projectRoot ?? process.cwd(), options);
  } catch (error) {
    throw expected(error);
  }
}

async function program(projectRoot: string, options: ProgramOptions): Promise<ProgramOutputs> {
  warmCodeDeployment();
  const settings = readSettings();
  const client = await pinnedClient();
  const pipeline = await loadPipeline(settings.pipeline, projectRoot);
  const bundle = await buildBundle({
    projectRoot,
    pipeline: { file: settings.pipeline, pipeline },
    sizeBudgetBytes: settings.bundle.sizeBudgetMB * 1024 * 1024,
  });
  await pruneBundles(dirname(bundle.zipPath), bundle.zipPath);
  pulumi.log.info(
    `bundle ${bundle.zipHash.slice(0, 12)}${bundle.cached ? " (cached: no input changed)" : ""}: ${(bundle.zipBytes / 1024 / 1024).toFixed(1)} MB zip, ` +
      `${(bundle.entryBytes / 1024).toFixed(0)} KB of JavaScript, pipeline "${pipeline.name}" with ${pipeline.stages.length} stages`,
  );

  // A `mallard:` key that is neither a setting nor a secret the pipeline uses is most likely a typo.
  const needed = collectNeeds(pipeline).secrets;
  const alertSecrets = settings.alerts.webhooks.map((hook) => secretConfigKey(hook.secret));
  const secretNames = new Set([...needed.map((ref) => secretConfigKey(ref.name)), ...alertSecrets]);
  for (const key of Object.keys(pulumi.runtime.allConfig())) {
    const [namespace, name] = key.split(":");
    if (namespace === "mallard" && !SETTING_KEYS.includes(name) && !secretNames.has(name)) {
      pulumi.log.warn(`mallard:${name} is neither a setting (infra/config.ts) nor a secret of pipeline "${pipeline.name}"; it is ignored`);
    }
  }
  const config = new pulumi.Config("mallard");
  const secrets = stackSecrets(needed, settings.externalSecrets, (key) => config.getSecret(key), pulumi.getStack());
  for (const warning of secrets.warnings) pulumi.log.warn(warning);

  // OneDeploy authenticates with an Entra token for Resource Manager, of whoever runs `pulumi up`.
  const token = (await authorization.getClientToken()).token;
  const names = { prefix: settings.namePrefix, subscription: client.subscriptionId, project: pulumi.getProject(), stack: pulumi.getStack() };
  const recoverVault = await softDeletedVault(vaultName(names), settings.location, client.subscriptionId, token, options.resourceManager);

  const lakehouse = new Lakehouse("mallard", {
    pipeline,
    settings,
    names: { project: names.project, stack: names.stack },
    client,
    // The action group's webhook URLs are ARM properties, so their values come from config, never from Key Vault.
    secretValue: (name) => secrets.stored.find((s) => s.name === name)?.value ?? (alertSecrets.includes(name) ? config.getSecret(name) : undefined),
    recoverVault,
    code: { zipPath: bundle.zipPath, zipHash: bundle.zipHash, token },
  });

  const host = lakehouse.functions.defaultHostName;
  return {
    resourceGroup: lakehouse.resourceGroupName,
    functionApp: lakehouse.functions.app.name,
    functionUrl: pulumi.interpolate`https://${host}`,
    runsEndpoint: pulumi.interpolate`https://${host}/api/runs`,
    lakeAccount: lakehouse.lake.accountName,
    lakeDfsEndpoint: lakehouse.lake.dfsEndpoint,
    keyVaultUrl: lakehouse.vault.vaultUri,
    keyVaultName: lakehouse.vault.vault.name,
    appInsights: lakehouse.telemetry.appInsights.name,
    taskQueue: lakehouse.queue.queueName,
    bundleHash: bundle.zipHash,
    deploymentId: lakehouse.functions.deployment?.deploymentId,
  };
}

/**
 * The deploying identity's tenant and subscription, refused unless the stack pins the subscription
 * (`azure-native:subscriptionId`) and the credentials use that one: globally unique names hash the
 * subscription, so another default subscription would rename, and so replace, every resource.
 */
async function pinnedClient(): Promise<{ tenantId: string; subscriptionId: string }> {
  const pinned = new pulumi.Config("azure-native").get("subscriptionId");
  const pin = "pin it in the stack file: `pulumi config set azure-native:subscriptionId <id>` (your default: `az account show --query id -o tsv`)";
  if (!pinned) throw new ConfigError([`azure-native:subscriptionId is not set; ${pin}. Without it, another default subscription would rename every resource`]);
  if (pinned === PLACEHOLDER_SUBSCRIPTION) throw new ConfigError([`azure-native:subscriptionId is still the placeholder ${PLACEHOLDER_SUBSCRIPTION}; ${pin}`]);
  const client = await authorization.getClientConfig();
  if (client.subscriptionId !== pinned) {
    throw new ConfigError([
      `the Azure credentials use subscription ${client.subscriptionId}, but the stack is pinned to ${pinned} (azure-native:subscriptionId); ` +
        `log in to that subscription (\`az account set --subscription ${pinned}\`, or ARM_SUBSCRIPTION_ID in CI), or change the pin on purpose`,
    ]);
  }
  return { tenantId: client.tenantId, subscriptionId: client.subscriptionId };
}

/** Whether a soft-deleted vault holds the vault's name, said in the preview either way it matters. */
async function softDeletedVault(name: string, location: string, subscriptionId: string, token: string, resourceManager?: string): Promise<boolean> {
  const lookup = await findDeletedVault({ subscriptionId, location, vaultName: name, token, resourceManager });
  if (lookup.state === "deleted") {
    const { deletionDate, scheduledPurgeDate } = lookup.vault;
    pulumi.log.warn(
      `Key Vault "${name}" was deleted${deletionDate ? ` on ${deletionDate}` : ""} and is soft-deleted` +
        `${scheduledPurgeDate ? ` until ${scheduledPurgeDate}` : ""} (purge protection holds its name): it is recovered with its secrets (createMode "recover")`,
    );
  } else if (lookup.state === "unknown") {
    pulumi.log.warn(
      `could not check whether a soft-deleted Key Vault holds the name "${name}" (${lookup.reason}). If creating the vault fails because the name is in use, ` +
        `run again with credentials that may read deleted vaults (Reader on the subscription has Microsoft.KeyVault/locations/deletedVaults/read): the vault is then recovered`,
    );
  }
  return lookup.state === "deleted";
}

/**
 * A user-caused failure as a RunError, which Pulumi prints as its message alone; the message is the one
 * the CLI prints after `error: `. Anything else is a bug and keeps its stack.
 */
function expected(error: unknown): unknown {
  if (error instanceof MallardError || error instanceof BundleError) return new pulumi.RunError(describeError(error));
  return error;
}
