// The secrets vault: Key Vault with RBAC authorization (no access policies), soft delete and purge
// protection, holding the secrets whose values the stack's encrypted config gives (the others are managed
// outside Pulumi). Values reach Azure through the control plane; the app reads every secret of its pipeline
// by name through its managed identity. A vault soft-deleted by an earlier `pulumi destroy` is recovered.

import * as pulumi from "@pulumi/pulumi";
import * as keyvault from "@pulumi/azure-native/keyvault/index.js";
import type { DiagnosticTarget } from "./diagnostics.ts";
import type { RoleGrant } from "./roles.ts";
import { applyTransform, type Transform } from "./transform.ts";

export interface VaultSecret {
  /** Secret name as the declaration references it: letters, digits and dashes. @example "shop-db-url" */
  name: string;
  /** The value, a Pulumi secret from `config.requireSecret`; never a literal in code. */
  value: pulumi.Input<string>;
}

export interface SecretsVaultArgs {
  resourceGroupName: pulumi.Input<string>;
  /** @example "westeurope" */
  location: pulumi.Input<string>;
  /** Globally unique vault name, 3–24 letters, digits and dashes. @example "mallard-dev-kv3f9a1c" */
  vaultName: pulumi.Input<string>;
  /** Entra tenant of the vault. @example clientConfig.tenantId */
  tenantId: pulumi.Input<string>;
  /** Secrets to store, one per source connection whose value the stack holds. @default [] */
  secrets?: readonly VaultSecret[];
  /**
   * A soft-deleted vault holds the name (see vault-recovery.ts): create with createMode "recover", which
   * brings it back with its secrets. @default false
   */
  recover?: boolean;
  /** Days a deleted secret stays recoverable (7–90); purge protection holds it for that long. @default 90 */
  softDeleteRetentionDays?: number;
  /** @default {} */
  tags?: Record<string, string>;
  /** Change what Mallard cannot foresee, per child. */
  transform?: { vault?: Transform<keyvault.VaultArgs>; secret?: Transform<keyvault.SecretArgs> };
}

export class SecretsVault extends pulumi.ComponentResource {
  readonly vault: keyvault.Vault;
  /** Secrets by name. */
  readonly secrets: Readonly<Record<string, keyvault.Secret>>;
  /** Vault URL (`https://<name>.vault.azure.net/`), the runtime's app setting. */
  readonly vaultUri: pulumi.Output<string>;

  constructor(name: string, args: SecretsVaultArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mallard:secrets:SecretsVault", name, {}, opts);
    this.vault = this.createVault(name, args);
    this.secrets = Object.fromEntries((args.secrets ?? []).map((s) => [s.name, this.createSecret(name, args, s)]));
    this.vaultUri = this.vault.properties.apply((p) => p.vaultUri ?? "");
    this.registerOutputs({ vaultUri: this.vaultUri, secretNames: Object.keys(this.secrets) });
  }

  /** Read secret values in this vault and nothing else: those the stack writes and those managed outside it. */
  readerAccess(): RoleGrant {
    return { name: "vault-secrets", role: "keyVaultSecretsUser", scope: this.vault.id };
  }

  /** Who read or changed which secret, and who was refused: the vault's audit events. */
  auditLogs(): DiagnosticTarget {
    return { name: "vault-audit", resourceId: this.vault.id, logs: [{ category: "AuditEvent" }] };
  }

  private createVault(name: string, args: SecretsVaultArgs): keyvault.Vault {
    const [vaultArgs, opts] = applyTransform<keyvault.VaultArgs>(args.transform?.vault, `${name}-vault`, {
      vaultName: args.vaultName,
      resourceGroupName: args.resourceGroupName,
      location: args.location,
      properties: {
        tenantId: args.tenantId,
        sku: { family: "A", name: "standard" },
        enableRbacAuthorization: true,
        enableSoftDelete: true,
        softDeleteRetentionInDays: args.softDeleteRetentionDays ?? 90,
        enablePurgeProtection: true,
        enabledForDeployment: false,
        enabledForDiskEncryption: false,
        enabledForTemplateDeployment: false,
        createMode: args.recover ? "recover" : "default",
      },
      tags: args.tags,
      // How the vault was created matters once; later runs must not see a change when it no longer applies.
    }, { parent: this, ignoreChanges: ["properties.createMode"] });
    return new keyvault.Vault(`${name}-vault`, vaultArgs, opts);
  }

  private createSecret(name: string, args: SecretsVaultArgs, secret: VaultSecret): keyvault.Secret {
    const [secretArgs, opts] = applyTransform<keyvault.SecretArgs>(args.transform?.secret, `${name}-secret-${secret.name}`, {
      vaultName: this.vault.name,
      resourceGroupName: args.resourceGroupName,
      secretName: secret.name,
      properties: { value: pulumi.secret(secret.value), contentType: "text/plain" },
      tags: args.tags,
      // Removing a secret from the stack (moving it to mallard:externalSecrets, or dropping its source)
      // leaves its value in the vault instead of deleting what the app may still read.
    }, { parent: this, retainOnDelete: true });
    return new keyvault.Secret(`${name}-secret-${secret.name}`, secretArgs, opts);
  }
}
