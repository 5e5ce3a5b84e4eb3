// The whole deployment of one pipeline: asks the pipeline and each stage what they need, then makes the
// lake, the task queue, the vault with the source connections' secrets, telemetry (with the vault's audit
// events and the lake's storage logs), alert rules and the action group they fire, a workbook of the
// pipeline's runs, and the function app with exactly the roles it needs, and deploys the code.

import * as pulumi from "@pulumi/pulumi";
import * as resources from "@pulumi/azure-native/resources/index.js";
import type { Pipeline } from "../runtime/declare/index.ts";
import { Alerts, type AlertsArgs, type AlertWebhook } from "./alerts.ts";
import { runtimeAppSettings } from "./app-settings.ts";
import { engineMemoryLimit, type MallardSettings } from "./config.ts";
import { FunctionApp, type CodePackage, type FunctionAppArgs } from "./function-app.ts";
import { Lake, type LakeArgs } from "./lake.ts";
import { appName, storageAccountName, vaultName, type NameContext } from "./naming.ts";
import { SecretsVault, type SecretsVaultArgs } from "./secrets-vault.ts";
import { collectNeeds, type PipelineNeeds } from "./stages/index.ts";
import { RunsWorkbook, type RunsWorkbookArgs } from "./runs-workbook.ts";
import { TaskQueue, type TaskQueueArgs } from "./task-queue.ts";
import { Telemetry, type TelemetryArgs } from "./telemetry.ts";

export interface LakehouseArgs {
  /** The declaration, as the one loader (runtime/config/load-pipeline.ts) read and checked it. */
  pipeline: Pipeline;
  /** Stack settings, from `readSettings()`. */
  settings: MallardSettings;
  /** Project and stack, for globally unique names (with the subscription). */
  names: { project: string; stack: string };
  /** Tenant and subscription of the deployment. @example authorization.getClientConfigOutput() */
  client: { tenantId: pulumi.Input<string>; subscriptionId: pulumi.Input<string> };
  /**
   * The value of a secret, from the stack's encrypted config: a source's (undefined when this stack does not
   * write it: managed outside Pulumi, or not set yet; the app may read every secret of its pipeline), or an
   * alert webhook's URL (`mallard:alerts.webhooks`).
   */
  secretValue: (name: string) => pulumi.Input<string> | undefined;
  /** A soft-deleted vault holds the vault's name: recover it (see infra/vault-recovery.ts). @default false */
  recoverVault?: boolean;
  /** The bundle and a token to deploy it; omit to create the infrastructure without code. */
  code?: CodePackage & { token: pulumi.Input<string> };
  /** Change what Mallard cannot foresee, per component and child. */
  transform?: {
    lake?: LakeArgs["transform"];
    queue?: TaskQueueArgs["transform"];
    vault?: SecretsVaultArgs["transform"];
    telemetry?: TelemetryArgs["transform"];
    alerts?: AlertsArgs["transform"];
    workbook?: RunsWorkbookArgs["transform"];
    functions?: FunctionAppArgs["transform"];
  };
}

export class Lakehouse extends pulumi.ComponentResource {
  readonly needs: PipelineNeeds;
  readonly resourceGroupName: pulumi.Output<string>;
  readonly lake: Lake;
  readonly queue: TaskQueue;
  readonly vault: SecretsVault;
  readonly telemetry: Telemetry;
  readonly alerts: Alerts;
  readonly workbook: RunsWorkbook;
  readonly functions: FunctionApp;

  constructor(name: string, args: LakehouseArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mallard:index:Lakehouse", name, {}, opts);
    const { settings, pipeline } = args;
    // Globally unique names hash the subscription, known only once the provider has answered.
    const names = pulumi.output(args.client.subscriptionId).apply((subscription): NameContext => ({ prefix: settings.namePrefix, subscription, ...args.names }));
    const location = settings.location;
    const tags = settings.tags;
    this.needs = collectNeeds(pipeline);
    for (const warning of this.needs.warnings) pulumi.log.warn(warning, this);

    this.resourceGroupName = settings.resourceGroupName
      ? pulumi.output(settings.resourceGroupName)
      : this.createResourceGroup(name, `${settings.namePrefix}-${args.names.stack}`, location, tags).name;
    const resourceGroupName = this.resourceGroupName;

    this.lake = new Lake(`${name}-lake`, {
      resourceGroupName, location, tags,
      accountName: names.apply((n) => storageAccountName(n, "lake")),
      sku: settings.lake.sku,
      bronzeLifecycle: settings.lake.bronzeLifecycle,
      protect: settings.lake.protect,
      softDeleteRetentionDays: settings.lake.softDeleteRetentionDays,
      transform: args.transform?.lake,
    }, { parent: this });

    this.queue = new TaskQueue(`${name}-tasks`, {
      resourceGroupName,
      accountName: this.lake.accountName,
      queueName: settings.functions.taskQueue,
      transform: args.transform?.queue,
    }, { parent: this });

    this.vault = new SecretsVault(`${name}-secrets`, {
      resourceGroupName, location, tags,
      vaultName: names.apply(vaultName),
      tenantId: args.client.tenantId,
      softDeleteRetentionDays: settings.vault.softDeleteRetentionDays,
      secrets: this.needs.secrets.flatMap((ref) => {
        const value = args.secretValue(ref.name);
        return value ? [{ name: ref.name, value }] : [];
      }),
      recover: args.recoverVault,
      transform: args.transform?.vault,
    }, { parent: this });

    this.telemetry = new Telemetry(`${name}-telemetry`, {
      resourceGroupName, location, tags,
      retentionDays: settings.telemetry.retentionDays,
      dailyCapGb: settings.telemetry.dailyCapGb,
      entraOnlyIngestion: settings.telemetry.entraOnlyIngestion,
      diagnostics: [this.vault.auditLogs(), ...this.lake.storageLogs(settings.telemetry.storageLogs)],
      transform: args.transform?.telemetry,
    }, { parent: this });

    this.alerts = new Alerts(`${name}-alerts`, {
      resourceGroupName, location, tags,
      appInsightsId: this.telemetry.appInsightsId,
      rules: this.needs.alerts,
      namePrefix: `${settings.namePrefix}-${args.names.stack}`,
      emails: settings.alerts.emails,
      webhooks: alertWebhooks(settings, args.secretValue, this),
      severity: settings.alerts.severity,
      evaluationFrequency: settings.alerts.evaluationFrequency,
      transform: args.transform?.alerts,
    }, { parent: this });

    this.workbook = new RunsWorkbook(`${name}-runs`, {
      resourceGroupName, location, tags,
      appInsightsId: this.telemetry.appInsightsId,
      pipeline: pipeline.name,
      namePrefix: `${settings.namePrefix}-${args.names.stack}`,
      transform: args.transform?.workbook,
    }, { parent: this });

    this.functions = new FunctionApp(`${name}-functions`, {
      resourceGroupName, location, tags,
      subscriptionId: args.client.subscriptionId,
      appName: names.apply(appName),
      hostStorageAccountName: names.apply((n) => storageAccountName(n, "host")),
      instanceMemoryMB: settings.functions.instanceMemoryMB,
      // A ceiling, not a reservation: raising it to the declared parallelism costs nothing at idle.
      maximumInstanceCount: Math.max(settings.functions.maximumInstanceCount, this.needs.parallelism),
      alwaysReady: settings.functions.alwaysReady,
      appSettings: runtimeAppSettings({
        lakeAccountName: this.lake.accountName,
        lakeBlobEndpoint: this.lake.blobEndpoint,
        queueServiceUri: this.lake.queueEndpoint,
        taskQueue: this.queue.queueName,
        keyVaultUrl: this.vault.vaultUri,
        appInsightsConnectionString: this.telemetry.connectionString,
        entraIngestion: true,
        engineMemoryLimit: engineMemoryLimit(settings.functions, pipeline.engine.memoryLimit),
        needs: this.needs.appSettings,
      }),
      grants: [
        this.lake.dataAccess(),
        ...this.queue.consumerAccess(),
        this.vault.readerAccess(),
        this.telemetry.publisherAccess(),
      ],
      code: args.code && { ...args.code, retryForSeconds: settings.deploy.retryForSeconds },
      transform: args.transform?.functions,
    }, { parent: this });

    this.registerOutputs({
      resourceGroupName: this.resourceGroupName,
      appName: this.functions.app.name,
      lakeAccount: this.lake.accountName,
      vaultUri: this.vault.vaultUri,
    });
  }

  private createResourceGroup(name: string, groupName: string, location: string, tags: Record<string, string>): resources.ResourceGroup {
    return new resources.ResourceGroup(`${name}-rg`, { resourceGroupName: groupName, location, tags }, { parent: this });
  }
}

/** The action group's webhooks from the stack settings; one whose URL has no value is left out with a warning. */
function alertWebhooks(settings: MallardSettings, secretValue: LakehouseArgs["secretValue"], parent: pulumi.Resource): AlertWebhook[] {
  return settings.alerts.webhooks.flatMap((hook) => {
    const serviceUri = secretValue(hook.secret);
    if (serviceUri) return [{ name: hook.name, serviceUri }];
    pulumi.log.warn(`alert webhook "${hook.name}": secret "${hook.secret}" has no value; set it with \`pulumi config set --secret ${hook.secret} '<url>'\` (the receiver is left out until then)`, parent);
    return [];
  });
}
