// The app settings the runtime reads, in one typed object built from the components: names from
// runtime/declare/deployment.ts (the contract), values from what Pulumi made. No secret is ever a value
// here: storage and queues are reached by identity, secrets are read from Key Vault by name.

import * as pulumi from "@pulumi/pulumi";
import { APP_SETTINGS } from "../runtime/declare/deployment.ts";

export interface RuntimeSettingsArgs {
  lakeAccountName: pulumi.Input<string>;
  lakeBlobEndpoint: pulumi.Input<string>;
  /** Queue endpoint of the account holding the task queue. @example "https://mallarddevlake3f9a1c.queue.core.windows.net/" */
  queueServiceUri: pulumi.Input<string>;
  taskQueue: string;
  keyVaultUrl: pulumi.Input<string>;
  appInsightsConnectionString: pulumi.Input<string>;
  /** Telemetry authenticates with the managed identity. */
  entraIngestion: boolean;
  /** @example "1536MB" */
  engineMemoryLimit: string;
  /** Settings the pipeline and its stages need (schedules). */
  needs: Readonly<Record<string, string>>;
}

export function runtimeAppSettings(args: RuntimeSettingsArgs): Record<string, pulumi.Input<string>> {
  const settings: Record<string, pulumi.Input<string>> = {
    [APP_SETTINGS.lakeAccount]: args.lakeAccountName,
    [APP_SETTINGS.lakeBlobEndpoint]: args.lakeBlobEndpoint,
    [APP_SETTINGS.taskQueue]: args.taskQueue,
    // Identity-based connection of the queue trigger: `<prefix>__queueServiceUri`, no key.
    [`${APP_SETTINGS.queueConnection}__queueServiceUri`]: args.queueServiceUri,
    [`${APP_SETTINGS.queueConnection}__credential`]: "managedidentity",
    [APP_SETTINGS.keyVaultUrl]: args.keyVaultUrl,
    [APP_SETTINGS.engineMemoryLimit]: args.engineMemoryLimit,
    [APP_SETTINGS.appInsights]: args.appInsightsConnectionString,
    ...args.needs,
  };
  if (args.entraIngestion) settings.APPLICATIONINSIGHTS_AUTHENTICATION_STRING = "Authorization=AAD";
  return settings;
}
