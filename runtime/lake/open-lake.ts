// Pick the lake implementation from a `--lake` value: a folder, or Azure Storage
// (`abfss://container@account.dfs.core.windows.net/`, `https://account.blob.core.windows.net`, or a
// connection string such as Azurite's).

import { ConfigError, redact } from "../errors.ts";
import type { Lake } from "./lake.ts";
import { parseLakeSpec } from "./lake-spec.ts";
import { LocalLake } from "./local-lake.ts";

export async function openLake(spec: string): Promise<Lake> {
  const connection = parseLakeSpec(spec);
  if (!connection) return new LocalLake(spec);
  // Loaded on demand so a local run never pays for the Azure SDK's import.
  const { AzureLake } = await import("./azure-lake.ts");
  try {
    return new AzureLake({ connection });
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    // The SDK's message can quote the connection string; say what is wrong without it.
    throw new ConfigError([`--lake: not a usable Azure Storage address or connection string (${redact((e as Error).message).split("\n")[0].slice(0, 120)})`]);
  }
}
