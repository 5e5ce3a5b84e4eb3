// The secret chain every entry point uses: environment, then the local secrets file, then Key Vault
// when a vault URL is configured (Azure, or a laptop pointed at a vault).

import { resolve } from "node:path";
import { APP_SETTINGS } from "../declare/deployment.ts";
import type { KeyVaultOptions } from "./key-vault.ts";
import { EnvSecretProvider, FileSecretProvider, SecretChain, type SecretProvider } from "./secrets.ts";

/** The local secrets file, ignored by git: `{ "shop-db-url": "postgres://…" }`. */
export const DEFAULT_SECRETS_FILE = "mallard.secrets.json";

export async function defaultSecretChain(options: {
  projectRoot: string;
  secretsFile?: string;
  env?: NodeJS.ProcessEnv;
  /** Credential and client options for Key Vault (tests); @default the managed identity */
  keyVault?: KeyVaultOptions;
}): Promise<SecretChain> {
  const env = options.env ?? process.env;
  const providers: SecretProvider[] = [
    new EnvSecretProvider(env),
    new FileSecretProvider(resolve(options.projectRoot, options.secretsFile ?? DEFAULT_SECRETS_FILE)),
  ];
  const vaultUrl = env[APP_SETTINGS.keyVaultUrl];
  if (vaultUrl) {
    // Loaded only when a vault is configured: a laptop run never pays for the Azure SDK.
    const { KeyVaultSecretProvider } = await import("./key-vault.ts");
    providers.push(new KeyVaultSecretProvider(vaultUrl, options.keyVault));
  }
  return new SecretChain(providers);
}
