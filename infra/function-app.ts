// The one Function App that runs every stage: Flex Consumption (FC1), Node 22, a system-assigned identity
// holding exactly the roles it is granted, its own small host storage (which also keeps the deployment
// package), identity-based connections only, and the code deployed by OneDeploy.

import * as pulumi from "@pulumi/pulumi";
import * as storage from "@pulumi/azure-native/storage/index.js";
import * as web from "@pulumi/azure-native/web/index.js";
import * as authorization from "@pulumi/azure-native/authorization/index.js";
import { CodeDeployment } from "./deploy/code-deployment.ts";
import { roleDefinitionId, type RoleGrant } from "./roles.ts";
import { applyTransform, type Transform } from "./transform.ts";

/** The bundle to deploy, as the bundle step produced it. */
export interface CodePackage {
  /** Absolute path of the zip. */
  zipPath: string;
  /** SHA-256 of the zip, hex. */
  zipHash: string;
}

export interface FunctionAppArgs {
  resourceGroupName: pulumi.Input<string>;
  /** A region that offers Flex Consumption. @example "westeurope" */
  location: pulumi.Input<string>;
  /** Subscription of the role definitions. @example clientConfig.subscriptionId */
  subscriptionId: pulumi.Input<string>;
  /** Globally unique app name (also `<name>.azurewebsites.net`). @example "mallard-dev-3f9a1c" */
  appName: pulumi.Input<string>;
  /** Name of the host storage account: 3–24 lowercase letters and digits. @example "mallarddevhost3f9a1c" */
  hostStorageAccountName: pulumi.Input<string>;
  /** Memory per instance in MB. @default 2048 */
  instanceMemoryMB?: 2048 | 4096;
  /** Most instances; 40 is the Flex Consumption minimum in most regions (see FunctionsSettings). @default 40 */
  maximumInstanceCount?: number;
  /** Warm instances of the executor, billed while idle. @default 0 */
  alwaysReady?: number;
  /** Node.js major version. @default "22" */
  nodeVersion?: string;
  /**
   * What the runtime needs to know, as app settings (never secrets: those stay in Key Vault).
   * @example { MALLARD_TASK_QUEUE: "mallard-tasks" }
   */
  appSettings: Readonly<Record<string, pulumi.Input<string>>>;
  /** Roles on other components' resources, from their `…Access()` methods. */
  grants: readonly RoleGrant[];
  /** The code; omit to create the app empty. */
  code?: CodePackage & {
    /** Entra token for Azure Resource Manager, of whoever runs `pulumi up`. */
    token: pulumi.Input<string>;
    /** @default 600 */
    retryForSeconds?: number;
  };
  /** @default {} */
  tags?: Record<string, string>;
  /** Change what Mallard cannot foresee, per child. */
  transform?: {
    hostStorage?: Transform<storage.StorageAccountArgs>;
    deploymentContainer?: Transform<storage.BlobContainerArgs>;
    plan?: Transform<web.AppServicePlanArgs>;
    app?: Transform<web.WebAppArgs>;
    roleAssignment?: Transform<authorization.RoleAssignmentArgs>;
  };
}

/** Container of the host storage account that Flex Consumption deploys the package from. */
export const DEPLOYMENT_CONTAINER = "app-package";

export class FunctionApp extends pulumi.ComponentResource {
  readonly hostStorage: storage.StorageAccount;
  readonly deploymentContainer: storage.BlobContainer;
  readonly plan: web.AppServicePlan;
  readonly app: web.WebApp;
  /** Basic-auth publishing turned off for SCM and FTP: deployments authenticate with Entra only. */
  readonly basicAuth: { scm: web.WebAppScmAllowed; ftp: web.WebAppFtpAllowed };
  /** Role assignments by grant name. */
  readonly roleAssignments: Readonly<Record<string, authorization.RoleAssignment>>;
  readonly deployment: CodeDeployment | undefined;
  /** Object id of the app's managed identity. */
  readonly principalId: pulumi.Output<string>;
  readonly defaultHostName: pulumi.Output<string>;
  /** SCM (Kudu) site, where OneDeploy publishes. */
  readonly scmUrl: pulumi.Output<string>;

  constructor(name: string, args: FunctionAppArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mallard:functions:FunctionApp", name, {}, opts);
    this.hostStorage = this.createHostStorage(name, args);
    this.deploymentContainer = this.createDeploymentContainer(name, args);
    this.plan = this.createPlan(name, args);
    this.app = this.createApp(name, args);
    this.basicAuth = this.createBasicAuthPolicies(name, args);
    this.principalId = this.app.identity.apply((identity) => identity?.principalId ?? "");
    this.defaultHostName = this.app.defaultHostName;
    this.scmUrl = pulumi
      .all([this.app.hostNameSslStates, this.app.defaultHostName, this.app.name])
      .apply(([states, host, appName]) => scmUrlOf(states ?? [], host, appName));
    this.roleAssignments = Object.fromEntries(
      [...this.hostGrants(), ...args.grants].map((grant) => [grant.name, this.createRoleAssignment(name, args, grant)]),
    );
    this.deployment = args.code ? this.createCodeDeployment(name, args.code) : undefined;
    this.registerOutputs({
      appName: this.app.name,
      defaultHostName: this.defaultHostName,
      principalId: this.principalId,
      deploymentId: this.deployment?.deploymentId,
    });
  }

  /** What the host itself needs on its own storage: blobs (leases, keys, the package) and tables (diagnostics). */
  private hostGrants(): RoleGrant[] {
    return [
      { name: "host-blob", role: "storageBlobDataOwner", scope: this.hostStorage.id },
      { name: "host-table", role: "storageTableDataContributor", scope: this.hostStorage.id },
    ];
  }

  private createHostStorage(name: string, args: FunctionAppArgs): storage.StorageAccount {
    const [accountArgs, opts] = applyTransform<storage.StorageAccountArgs>(args.transform?.hostStorage, `${name}-host`, {
      accountName: args.hostStorageAccountName,
      resourceGroupName: args.resourceGroupName,
      location: args.location,
      kind: "StorageV2",
      sku: { name: "Standard_LRS" },
      // The host's storage is not a data lake; HNS is not supported for AzureWebJobsStorage.
      isHnsEnabled: false,
      minimumTlsVersion: "TLS1_2",
      enableHttpsTrafficOnly: true,
      allowBlobPublicAccess: false,
      allowSharedKeyAccess: false,
      defaultToOAuthAuthentication: true,
      allowCrossTenantReplication: false,
      tags: args.tags,
    }, { parent: this });
    return new storage.StorageAccount(`${name}-host`, accountArgs, opts);
  }

  private createDeploymentContainer(name: string, args: FunctionAppArgs): storage.BlobContainer {
    const [containerArgs, opts] = applyTransform<storage.BlobContainerArgs>(args.transform?.deploymentContainer, `${name}-package`, {
      accountName: this.hostStorage.name,
      resourceGroupName: args.resourceGroupName,
      containerName: DEPLOYMENT_CONTAINER,
      publicAccess: "None",
    }, { parent: this });
    return new storage.BlobContainer(`${name}-package`, containerArgs, opts);
  }

  private createPlan(name: string, args: FunctionAppArgs): web.AppServicePlan {
    const [planArgs, opts] = applyTransform<web.AppServicePlanArgs>(args.transform?.plan, `${name}-plan`, {
      resourceGroupName: args.resourceGroupName,
      location: args.location,
      kind: "functionapp",
      sku: { name: "FC1", tier: "FlexConsumption" },
      reserved: true,
      tags: args.tags,
    }, { parent: this });
    return new web.AppServicePlan(`${name}-plan`, planArgs, opts);
  }

  private createApp(name: string, args: FunctionAppArgs): web.WebApp {
    const alwaysReady = args.alwaysReady ?? 0;
    const settings: Record<string, pulumi.Input<string>> = {
      // Identity-based host storage: the account name and the managed identity, no connection string.
      AzureWebJobsStorage__accountName: this.hostStorage.name,
      AzureWebJobsStorage__credential: "managedidentity",
      ...args.appSettings,
    };
    const appSettings = Object.keys(settings).sort().map((key) => ({ name: key, value: settings[key] }));
    const [appArgs, opts] = applyTransform<web.WebAppArgs>(args.transform?.app, `${name}-app`, {
      name: args.appName,
      resourceGroupName: args.resourceGroupName,
      location: args.location,
      kind: "functionapp,linux",
      serverFarmId: this.plan.id,
      httpsOnly: true,
      identity: { type: "SystemAssigned" },
      siteConfig: {
        appSettings,
        minTlsVersion: "1.2",
        scmMinTlsVersion: "1.2",
        ftpsState: "Disabled",
        http20Enabled: true,
      },
      functionAppConfig: {
        deployment: {
          storage: {
            type: "blobContainer",
            value: pulumi.interpolate`${this.hostStorage.primaryEndpoints.blob}${DEPLOYMENT_CONTAINER}`,
            authentication: { type: "SystemAssignedIdentity" },
          },
        },
        runtime: { name: "node", version: args.nodeVersion ?? "22" },
        scaleAndConcurrency: {
          instanceMemoryMB: args.instanceMemoryMB ?? 2048,
          maximumInstanceCount: args.maximumInstanceCount ?? 40,
          alwaysReady: alwaysReady > 0 ? [{ name: "function:executor", instanceCount: alwaysReady }] : undefined,
        },
      },
      tags: args.tags,
    }, { parent: this, dependsOn: [this.deploymentContainer] });
    return new web.WebApp(`${name}-app`, appArgs, opts);
  }

  private createBasicAuthPolicies(name: string, args: FunctionAppArgs): { scm: web.WebAppScmAllowed; ftp: web.WebAppFtpAllowed } {
    const target = { name: this.app.name, resourceGroupName: args.resourceGroupName, allow: false };
    return {
      scm: new web.WebAppScmAllowed(`${name}-scm-basic-auth`, target, { parent: this }),
      ftp: new web.WebAppFtpAllowed(`${name}-ftp-basic-auth`, target, { parent: this }),
    };
  }

  private createRoleAssignment(name: string, args: FunctionAppArgs, grant: RoleGrant): authorization.RoleAssignment {
    const [assignmentArgs, opts] = applyTransform<authorization.RoleAssignmentArgs>(args.transform?.roleAssignment, `${name}-role-${grant.name}`, {
      principalId: this.principalId,
      // Says the identity is a service principal, so Azure does not look it up before it has replicated.
      principalType: "ServicePrincipal",
      roleDefinitionId: pulumi.output(args.subscriptionId).apply((subscription) => roleDefinitionId(subscription, grant.role)),
      scope: grant.scope,
      description: `mallard: ${grant.role} for ${grant.name}`,
    }, { parent: this });
    return new authorization.RoleAssignment(`${name}-role-${grant.name}`, assignmentArgs, opts);
  }

  private createCodeDeployment(name: string, code: NonNullable<FunctionAppArgs["code"]>): CodeDeployment {
    return new CodeDeployment(`${name}-code`, {
      scmUrl: this.scmUrl,
      zipPath: code.zipPath,
      zipHash: code.zipHash,
      token: code.token,
      retryForSeconds: code.retryForSeconds,
    }, { parent: this, dependsOn: [this.app, ...Object.values(this.roleAssignments)] });
  }
}

/** The SCM site from the app's host names: the `Repository` one, else `.scm` after the first label. */
export function scmUrlOf(states: readonly { name?: string; hostType?: string }[], defaultHostName: string | undefined, appName: string): string {
  const repository = states.find((s) => s.hostType === "Repository" && s.name)?.name;
  if (repository) return `https://${repository}`;
  const host = defaultHostName || `${appName}.azurewebsites.net`;
  const [first, ...rest] = host.split(".");
  return `https://${first}.scm.${rest.join(".")}`;
}
