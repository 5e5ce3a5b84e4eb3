// Key Vault in the secret chain, enabled by a vault URL (MALLARD_KEY_VAULT_URL) and reached through the
// managed identity. Each secret is fetched once per instance and kept in memory; values never appear in
// messages or logs, and errors name only the secret and the vault.

import type { TokenCredential } from "@azure/core-auth";
import { DefaultAzureCredential } from "@azure/identity";
import { SecretClient, type SecretClientOptions } from "@azure/keyvault-secrets";
import { APP_SETTINGS } from "../declare/deployment.ts";
import { ConfigError, describeError } from "../errors.ts";
import type { SecretProvider } from "./secrets.ts";

export interface KeyVaultOptions {
  /** @default new DefaultAzureCredential() (the Function App's managed identity in Azure) */
  credential?: TokenCredential;
  /** Passed to the SDK client (tests set TLS roots and relax the challenge's resource check). */
  clientOptions?: SecretClientOptions;
}

/** Key Vault names allow letters, digits and dashes: `shop_db_url` is looked up as `shop-db-url`. */
export function keyVaultSecretName(name: string): string {
  return name.replace(/[^A-Za-z0-9-]/g, "-");
}

export class KeyVaultSecretProvider implements SecretProvider {
  readonly description: string;
  private readonly client: SecretClient;
  private readonly cache = new Map<string, Promise<string | undefined>>();

  constructor(readonly vaultUrl: string, options: KeyVaultOptions = {}) {
    if (!/^https:\/\//.test(vaultUrl)) {
      throw new ConfigError([`${APP_SETTINGS.keyVaultUrl}: "${vaultUrl}" is not a vault URL (https://<name>.vault.azure.net)`]);
    }
    this.description = `Key Vault ${vaultUrl}`;
    this.client = new SecretClient(vaultUrl, options.credential ?? new DefaultAzureCredential(), options.clientOptions);
  }

  get(name: string): Promise<string | undefined> {
    let pending = this.cache.get(name);
    if (!pending) {
      pending = this.fetch(name);
      this.cache.set(name, pending);
      // A transient failure is not remembered: the next lookup asks the vault again.
      pending.catch(() => this.cache.delete(name));
    }
    return pending;
  }

  private async fetch(name: string): Promise<string | undefined> {
    try {
      const secret = await this.client.getSecret(keyVaultSecretName(name));
      return secret.properties.enabled === false ? undefined : secret.value;
    } catch (e) {
      if ((e as { statusCode?: number }).statusCode === 404) return undefined;
      throw new ConfigError([`secret "${name}": ${this.description} could not be read (${describeError(e).split("\n")[0]})`]);
    }
  }
}
