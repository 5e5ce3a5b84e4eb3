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
import { describeError, MallardError } from "../runtime/errors.ts";
import { buildBundle, pruneBundles } from "./bundle/bundle.ts";
import { BundleError } from "./bundle/errors.ts";
import { readSettings, secretConfigKey, SETTING_KEYS } from "./config.ts";
import { Lakehouse } from "./lakehouse.ts";
import { collectNeeds } from "./stages/index.ts";

export interface ProgramOptions {
  /** Where the project is (pipeline, SQL files, host.json, node_modules). @default process.cwd() */
  projectRoot?: string;
}

/** The stack outputs index.ts exports. */
export interface ProgramOutputs {
  resourceGroup: pulumi.Output<string>;
  functionApp: pulumi.Output<string>;
  functionUrl: pulumi.Output<string>;
  runsEndpoint: pulumi.Output<string>;
  lakeAccount: pulumi.Output<string>;
  lakeDfsEndpoint: pulumi.Output<string>;
  keyVaultUrl: pulumi.Output<string>;
  appInsights: pulumi.Output<string>;
  taskQueue: string;
  bundleHash: string;
  deploymentId: pulumi.Output<string> | undefined;
}

export async function mallardProgram(options: ProgramOptions = {}): Promise<ProgramOutputs> {
  try {
    return await program(options.projectRoot ?? process.cwd());
  } catch (error) {
    throw expected(error);
  }
}

async function program(projectRoot: string): Promise<ProgramOutputs> {
  const settings = readSettings();
  const pipeline = await loadPipeline(settings.pipeline, projectRoot);
  const bundle = await buildBundle({
    projectRoot,
    pipeline: { file: settings.pipeline, pipeline },
    sizeBudgetBytes: settings.bundle.sizeBudgetMB * 1024 * 1024,
  });
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

  const host = lakehouse.functions.defaultHostName;
  return {
    resourceGroup: lakehouse.resourceGroupName,
    functionApp: lakehouse.functions.app.name,
    functionUrl: pulumi.interpolate`https://${host}`,
    runsEndpoint: pulumi.interpolate`https://${host}/api/runs`,
    lakeAccount: lakehouse.lake.accountName,
    lakeDfsEndpoint: lakehouse.lake.dfsEndpoint,
    keyVaultUrl: lakehouse.vault.vaultUri,
    appInsights: lakehouse.telemetry.appInsights.name,
    taskQueue: lakehouse.queue.queueName,
    bundleHash: bundle.zipHash,
    deploymentId: lakehouse.functions.deployment?.deploymentId,
  };
}

/**
 * A user-caused failure as a RunError, which Pulumi prints as its message alone; the message is the one
 * the CLI prints after `error: `. Anything else is a bug and keeps its stack.
 */
function expected(error: unknown): unknown {
  if (error instanceof MallardError || error instanceof BundleError) return new pulumi.RunError(describeError(error));
  return error;
}
