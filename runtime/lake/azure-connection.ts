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

export { isConnectionString, parseLakeSpec } from "./lake-spec.ts";

/** The lake connection from the Function App's settings (see APP_SETTINGS); undefined when none is set. */
export function lakeConnectionFromSettings(env: NodeJS.ProcessEnv = process.env): StorageConnection | undefined {
  const connectionString = env[APP_SETTINGS.lakeConnectionString];
  if (connectionString) return { kind: "connectionString", connectionString };
  const account = env[APP_SETTINGS.lakeAccount];
  if (account) return { kind: "identity", account, blobEndpoint: env[APP_SETTINGS.lakeBlobEndpoint] || undefined };
  return undefined;
}
