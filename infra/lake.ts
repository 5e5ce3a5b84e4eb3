// The lake: one ADLS Gen2 account (StorageV2 with hierarchical namespace) with a container per layer and
// one for Mallard's state, reached only through Entra identities (no shared keys, no public blobs), with
// blob and container soft delete so a mistaken delete can be undone within the retention.

import * as pulumi from "@pulumi/pulumi";
import * as storage from "@pulumi/azure-native/storage/index.js";
import { LAKE_CONTAINERS } from "../runtime/declare/deployment.ts";
import type { LakeSettings, StorageLogCategory } from "./config.ts";
import type { DiagnosticTarget } from "./diagnostics.ts";
import type { RoleGrant } from "./roles.ts";
import { applyTransform, type Transform } from "./transform.ts";

export interface LakeArgs {
  /** Resource group of the account. */
  resourceGroupName: pulumi.Input<string>;
  /** @example "westeurope" */
  location: pulumi.Input<string>;
  /** Globally unique account name: 3–24 lowercase letters and digits. @example "mallarddevlake3f9a1c" */
  accountName: pulumi.Input<string>;
  /** Redundancy. @default "Standard_LRS" */
  sku?: LakeSettings["sku"];
  /**
   * Lifecycle of old bronze batches; omit to keep them in the hot tier.
   * @example { coolAfterDays: 30, deleteAfterDays: 365 }
   */
  bronzeLifecycle?: LakeSettings["bronzeLifecycle"];
  /** Protect the account from deletion (its data cannot be recreated). @default false */
  protect?: boolean;
  /** Days a deleted blob or container can be restored, 1–365. @default 7 */
  softDeleteRetentionDays?: number;
  /** @default {} */
  tags?: Record<string, string>;
  /** Change what Mallard cannot foresee, per child. */
  transform?: {
    account?: Transform<storage.StorageAccountArgs>;
    container?: Transform<storage.BlobContainerArgs>;
    lifecycle?: Transform<storage.ManagementPolicyArgs>;
    blobService?: Transform<storage.BlobServicePropertiesArgs>;
  };
}

type ContainerKey = keyof typeof LAKE_CONTAINERS;

export class Lake extends pulumi.ComponentResource {
  readonly account: storage.StorageAccount;
  /** Containers by the first segment of a lake path (`bronze`, `silver`, `gold`, `_mallard`). */
  readonly containers: Readonly<Record<ContainerKey, storage.BlobContainer>>;
  readonly lifecycle: storage.ManagementPolicy | undefined;
  /** The blob service's settings: blob and container soft delete. */
  readonly blobService: storage.BlobServiceProperties;
  readonly accountName: pulumi.Output<string>;
  readonly blobEndpoint: pulumi.Output<string>;
  readonly queueEndpoint: pulumi.Output<string>;
  readonly dfsEndpoint: pulumi.Output<string>;

  constructor(name: string, args: LakeArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mallard:lake:Lake", name, {}, opts);
    this.account = this.createAccount(name, args);
    this.containers = Object.fromEntries(
      (Object.entries(LAKE_CONTAINERS) as [ContainerKey, string][]).map(([key, container]) => [
        key,
        this.createContainer(name, args, this.account, container),
      ]),
    ) as Record<ContainerKey, storage.BlobContainer>;
    this.lifecycle = args.bronzeLifecycle
      ? this.createBronzeLifecycle(name, args, this.account, this.containers.bronze, args.bronzeLifecycle)
      : undefined;
    this.blobService = this.createBlobService(name, args, this.account);
    const account = this.account;
    this.accountName = account.name;
    this.blobEndpoint = account.primaryEndpoints.blob;
    this.queueEndpoint = account.primaryEndpoints.queue;
    this.dfsEndpoint = account.primaryEndpoints.dfs;
    this.registerOutputs({ accountName: account.name, blobEndpoint: this.blobEndpoint, dfsEndpoint: this.dfsEndpoint });
  }

  /** The role the engine needs on the lake: read, write, delete blobs; nothing on keys or the account. */
  dataAccess(): RoleGrant {
    return { name: "lake-blob", role: "storageBlobDataContributor", scope: this.account.id };
  }

  /**
   * The lake's storage logs (who wrote or deleted which blob or queue message) for the given categories:
   * one target for the blob service, one for the queue service that holds the task queue.
   */
  storageLogs(categories: readonly StorageLogCategory[]): DiagnosticTarget[] {
    if (categories.length === 0) return [];
    const logs = categories.map((category) => ({ category }));
    return [
      { name: "lake-blob", resourceId: pulumi.interpolate`${this.account.id}/blobServices/default`, logs },
      { name: "lake-queue", resourceId: pulumi.interpolate`${this.account.id}/queueServices/default`, logs },
    ];
  }

  private createAccount(name: string, args: LakeArgs): storage.StorageAccount {
    const [accountArgs, opts] = applyTransform<storage.StorageAccountArgs>(args.transform?.account, `${name}-account`, {
      accountName: args.accountName,
      resourceGroupName: args.resourceGroupName,
      location: args.location,
      kind: "StorageV2",
      sku: { name: args.sku ?? "Standard_LRS" },
      isHnsEnabled: true,
      minimumTlsVersion: "TLS1_2",
      enableHttpsTrafficOnly: true,
      allowBlobPublicAccess: false,
      // The runtime authenticates with its managed identity; no key or SAS can reach the data.
      allowSharedKeyAccess: false,
      defaultToOAuthAuthentication: true,
      allowCrossTenantReplication: false,
      accessTier: "Hot",
      tags: args.tags,
    }, { parent: this, protect: args.protect ?? false });
    return new storage.StorageAccount(`${name}-account`, accountArgs, opts);
  }

  private createContainer(name: string, args: LakeArgs, account: storage.StorageAccount, container: string): storage.BlobContainer {
    const [containerArgs, opts] = applyTransform<storage.BlobContainerArgs>(args.transform?.container, `${name}-${container}`, {
      accountName: account.name,
      resourceGroupName: args.resourceGroupName,
      containerName: container,
      publicAccess: "None",
    }, { parent: this });
    return new storage.BlobContainer(`${name}-${container}`, containerArgs, opts);
  }

  private createBlobService(name: string, args: LakeArgs, account: storage.StorageAccount): storage.BlobServiceProperties {
    const retention = { enabled: true, days: args.softDeleteRetentionDays ?? 7 };
    const [serviceArgs, opts] = applyTransform<storage.BlobServicePropertiesArgs>(args.transform?.blobService, `${name}-blob-service`, {
      accountName: account.name,
      resourceGroupName: args.resourceGroupName,
      blobServicesName: "default",
      deleteRetentionPolicy: retention,
      containerDeleteRetentionPolicy: retention,
    }, { parent: this });
    return new storage.BlobServiceProperties(`${name}-blob-service`, serviceArgs, opts);
  }

  private createBronzeLifecycle(
    name: string,
    args: LakeArgs,
    account: storage.StorageAccount,
    bronze: storage.BlobContainer,
    lifecycle: NonNullable<LakeSettings["bronzeLifecycle"]>,
  ): storage.ManagementPolicy | undefined {
    const baseBlob: Record<string, { daysAfterModificationGreaterThan: number }> = {};
    if (lifecycle.coolAfterDays) baseBlob.tierToCool = { daysAfterModificationGreaterThan: lifecycle.coolAfterDays };
    if (lifecycle.coldAfterDays) baseBlob.tierToCold = { daysAfterModificationGreaterThan: lifecycle.coldAfterDays };
    if (lifecycle.deleteAfterDays) baseBlob.delete = { daysAfterModificationGreaterThan: lifecycle.deleteAfterDays };
    if (Object.keys(baseBlob).length === 0) return undefined;
    const [policyArgs, opts] = applyTransform<storage.ManagementPolicyArgs>(args.transform?.lifecycle, `${name}-lifecycle`, {
      accountName: account.name,
      resourceGroupName: args.resourceGroupName,
      managementPolicyName: "default",
      policy: {
        rules: [{
          name: "old-bronze-batches",
          enabled: true,
          type: "Lifecycle",
          definition: {
            filters: { blobTypes: ["blockBlob"], prefixMatch: [`${LAKE_CONTAINERS.bronze}/`] },
            actions: { baseBlob },
          },
        }],
      },
    }, { parent: this, dependsOn: [bronze] });
    return new storage.ManagementPolicy(`${name}-lifecycle`, policyArgs, opts);
  }
}
