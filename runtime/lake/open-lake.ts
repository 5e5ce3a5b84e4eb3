// Pick the lake implementation from a `--lake` value: a folder, or Azure Storage
// (`abfss://container@account.dfs.core.windows.net/`, `https://account.blob.core.windows.net`, or a
// connection string such as Azurite's).

import { ConfigError, redact } from "../errors.ts";
import type { Lake } from "./lake.ts";
import { LocalLake } from "./local-lake.ts";

export function isAzureLakeSpec(spec: string): boolean {
  return /^(abfss?|az|https?):\/\//i.test(spec) || /(^|;)\s*(DefaultEndpointsProtocol|BlobEndpoint|AccountName|UseDevelopmentStorage)=/i.test(spec);
}

export async function openLake(spec: string): Promise<Lake> {
  if (!isAzureLakeSpec(spec)) return new LocalLake(spec);
  // Loaded on demand so a local run never pays for the Azure SDK's import.
  const [{ AzureLake }, { parseLakeSpec }] = await Promise.all([import("./azure-lake.ts"), import("./azure-connection.ts")]);
  try {
    return new AzureLake({ connection: parseLakeSpec(spec)! });
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    // The SDK's message can quote the connection string; say what is wrong without it.
    throw new ConfigError([`--lake: not a usable Azure Storage address or connection string (${redact((e as Error).message).split("\n")[0].slice(0, 120)})`]);
  }
}
