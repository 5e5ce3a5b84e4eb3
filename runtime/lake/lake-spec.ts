// What a `--lake` value is: a folder, or an Azure storage account (by address or connection string).
// Pure parsing, no Azure SDK: a local run decides it needs no Azure code without loading any.

import { ConfigError } from "../errors.ts";
import type { StorageConnection } from "./azure-connection.ts";

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
