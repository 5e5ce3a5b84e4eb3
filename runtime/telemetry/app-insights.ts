// Application Insights as a telemetry sink, only when APPLICATIONINSIGHTS_CONNECTION_STRING is set. The
// SDK (applicationinsights 3, on Azure Monitor OpenTelemetry) is imported on first use, so an instance
// without it configured does not pay its start-up cost.

import type { TelemetryClient } from "applicationinsights";
import { APP_SETTINGS } from "../declare/deployment.ts";
import { jsonLines, type LogSink, Monitor, type MonitorOptions, type TelemetrySink } from "./monitor.ts";

export class AppInsightsSink implements TelemetrySink {
  private constructor(private readonly client: TelemetryClient) {}

  /**
   * A client with its own OpenTelemetry providers (`useGlobalProviders: false`): Mallard's events and
   * metrics, without patching the process's HTTP or console (the Functions host reports invocations).
   */
  static async create(connectionString: string, env: NodeJS.ProcessEnv = process.env): Promise<AppInsightsSink> {
    // A CommonJS package: Node puts its exports on `default`, some loaders also name them.
    const mod: { TelemetryClient?: typeof TelemetryClient; default?: { TelemetryClient: typeof TelemetryClient } } = await import("applicationinsights");
    const Client = mod.TelemetryClient ?? mod.default!.TelemetryClient;
    const client = new Client(connectionString, { useGlobalProviders: false });
    // Entra ID ingestion (local authentication off on the resource): the same setting the Functions host
    // reads, `Authorization=AAD[;ClientId=<user-assigned identity>]`, and the app's managed identity.
    const auth = parseAuthenticationString(env.APPLICATIONINSIGHTS_AUTHENTICATION_STRING);
    if (auth.authorization === "AAD") {
      const { ManagedIdentityCredential } = await import("@azure/identity");
      client.config.aadTokenCredential = auth.clientid ? new ManagedIdentityCredential(auth.clientid) : new ManagedIdentityCredential();
    }
    client.initialize();
    return new AppInsightsSink(client);
  }

  event(name: string, properties: Record<string, string>, measurements?: Record<string, number>): void {
    this.client.trackEvent({ name, properties, measurements });
  }

  metric(name: string, value: number, properties: Record<string, string>): void {
    this.client.trackMetric({ name, value, properties });
  }

  exception(error: Error, properties: Record<string, string>): void {
    this.client.trackException({ exception: error, properties });
  }

  async flush(): Promise<void> {
    await this.client.flush();
  }

  async shutdown(): Promise<void> {
    await this.client.shutdown();
  }
}

function parseAuthenticationString(text: string | undefined): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const pair of (text ?? "").split(";")) {
    const at = pair.indexOf("=");
    if (at > 0) fields[pair.slice(0, at).trim().toLowerCase()] = pair.slice(at + 1).trim();
  }
  return fields;
}

const clients = new Map<string, Promise<AppInsightsSink>>();

/** A monitor with Application Insights when its connection string is set (one client per process). */
export async function monitorFromSettings(
  env: NodeJS.ProcessEnv = process.env,
  options: Omit<MonitorOptions, "telemetry"> & { sink?: LogSink } = {},
): Promise<Monitor> {
  const connectionString = env[APP_SETTINGS.appInsights];
  let telemetry: TelemetrySink | undefined;
  if (connectionString) {
    if (!clients.has(connectionString)) clients.set(connectionString, AppInsightsSink.create(connectionString, env));
    telemetry = await clients.get(connectionString);
  }
  return new Monitor({ sink: options.sink ?? jsonLines, ...options, telemetry });
}
