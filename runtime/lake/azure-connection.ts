// How Mallard reaches an Azure storage account: a managed identity (DefaultAzureCredential) and an account
// name or endpoint in Azure, or a connection string for Azurite and laptops. Never an account key in
// configuration: a connection string is accepted only from the environment or the command line.

import type { TokenCredential } from "@azure/core-auth";
import { DefaultAzureCredential } from "@azure/identity";
import { APP_SETTINGS } from "../declare/deployment.ts";
import { ConfigError } from "../errors.ts";

export type StorageConnection =
  | {
      kind: "identity";
      /** Storage account name. @example "mallardlakedev" */
      account: string;
      /** Blob endpoint. @default `https://<account>.blob.core.windows.net` */
      blobEndpoint?: string;
      /** @default new DefaultAzureCredential() (the Function App's managed identity in Azure) */
      credential?: TokenCredential;
    }
  | {
      kind: "connectionString";
      /** @example "UseDevelopmentStorage=true" */
      connectionString: string;
    };

/** Blob endpoint of an identity connection. */
export function blobEndpointOf(connection: Extract<StorageConnection, { kind: "identity" }>): string {
  return (connection.blobEndpoint ?? `https://${connection.account}.blob.core.windows.net`).replace(/\/+$/, "");
}

/** The DFS (ADLS Gen2) endpoint serving the same data as a blob endpoint. */
export function dfsEndpointOf(blobEndpoint: string): string {
  return blobEndpoint.replace(/\.blob\./, ".dfs.");
}

export function credentialOf(connection: Extract<StorageConnection, { kind: "identity" }>): TokenCredential {
  return connection.credential ?? new DefaultAzureCredential();
}

/** True for a connection string (`UseDevelopmentStorage=true`, `DefaultEndpointsProtocol=…;…`). */
export function isConnectionString(text: string): boolean {
  return /^UseDevelopmentStorage=true/i.test(text) || /(^|;)\s*(DefaultEndpointsProtocol|BlobEndpoint|AccountName)=/i.test(text);
}

/**
 * Parse what a user passes as `--lake` for Azure: `abfss://<any>@<account>.dfs.core.windows.net[/…]`,
 * `https://<account>.blob.core.windows.net`, `az://<account>` or a connection string. Undefined for
 * anything else (a local folder).
 */
export function parseLakeSpec(spec: string): StorageConnection | undefined {
  if (isConnectionString(spec)) return { kind: "connectionString", connectionString: spec };
  const abfss = /^abfss?:\/\/(?:[^@/]*@)?([a-z0-9]{3,24})\.dfs\.core\.windows\.net\/?$/i.exec(spec);
  if (abfss) return { kind: "identity", account: abfss[1] };
  const https = /^https:\/\/([a-z0-9]{3,24})\.(?:blob|dfs)\.core\.windows\.net\/?$/i.exec(spec);
  if (https) return { kind: "identity", account: https[1] };
  const az = /^az:\/\/([a-z0-9]{3,24})\/?$/i.exec(spec);
  if (az) return { kind: "identity", account: az[1] };
  if (/^(abfss?|az|https?):\/\//i.test(spec)) {
    throw new ConfigError([
      `--lake: "${spec}" is not an Azure lake address (expected abfss://<container>@<account>.dfs.core.windows.net, ` +
        `https://<account>.blob.core.windows.net, az://<account> or a connection string)`,
    ]);
  }
  return undefined;
}

/** The lake connection from the Function App's settings (see APP_SETTINGS); undefined when none is set. */
export function lakeConnectionFromSettings(env: NodeJS.ProcessEnv = process.env): StorageConnection | undefined {
  const connectionString = env[APP_SETTINGS.lakeConnectionString];
  if (connectionString) return { kind: "connectionString", connectionString };
  const account = env[APP_SETTINGS.lakeAccount];
  if (account) return { kind: "identity", account, blobEndpoint: env[APP_SETTINGS.lakeBlobEndpoint] || undefined };
  return undefined;
}
