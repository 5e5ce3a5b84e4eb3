// Telemetry: a Log Analytics workspace and a workspace-based Application Insights component, where the
// Functions host, the runtime's events (run failed, check failed) and Mallard's alert rules meet, and where
// the other components' diagnostic logs (Key Vault audit events, storage logs) are sent.

import * as pulumi from "@pulumi/pulumi";
import * as operationalinsights from "@pulumi/azure-native/operationalinsights/index.js";
import * as applicationinsights from "@pulumi/azure-native/applicationinsights/index.js";
import * as monitor from "@pulumi/azure-native/monitor/index.js";
import type { DiagnosticTarget } from "./diagnostics.ts";
import type { RoleGrant } from "./roles.ts";
import { applyTransform, type Transform } from "./transform.ts";

export interface TelemetryArgs {
  resourceGroupName: pulumi.Input<string>;
  /** @example "westeurope" */
  location: pulumi.Input<string>;
  /** Days logs are kept (30 is included in the ingestion price). @default 30 */
  retentionDays?: number;
  /** Daily ingestion cap in GB; omit for none. @example 1 */
  dailyCapGb?: number;
  /** Refuse telemetry sent without an Entra token. @default false */
  entraOnlyIngestion?: boolean;
  /** Diagnostic logs of other resources to send to the workspace, from their components. @default [] */
  diagnostics?: readonly DiagnosticTarget[];
  /** @default {} */
  tags?: Record<string, string>;
  /** Change what Mallard cannot foresee, per child. */
  transform?: {
    workspace?: Transform<operationalinsights.WorkspaceArgs>;
    appInsights?: Transform<applicationinsights.ComponentArgs>;
    diagnosticSetting?: Transform<monitor.DiagnosticSettingArgs>;
  };
}

export class Telemetry extends pulumi.ComponentResource {
  readonly workspace: operationalinsights.Workspace;
  readonly appInsights: applicationinsights.Component;
  /** Diagnostic settings by target name. */
  readonly diagnosticSettings: Readonly<Record<string, monitor.DiagnosticSetting>>;
  /** Resource id of Application Insights: the scope of Mallard's alert rules. */
  readonly appInsightsId: pulumi.Output<string>;
  /** Connection string (not a credential: it names where to send, the identity proves who sends). */
  readonly connectionString: pulumi.Output<string>;

  constructor(name: string, args: TelemetryArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mallard:telemetry:Telemetry", name, {}, opts);
    this.workspace = this.createWorkspace(name, args);
    this.appInsights = this.createAppInsights(name, args);
    this.diagnosticSettings = Object.fromEntries((args.diagnostics ?? []).map((target) => [target.name, this.createDiagnosticSetting(name, args, target)]));
    this.appInsightsId = this.appInsights.id;
    this.connectionString = this.appInsights.connectionString;
    this.registerOutputs({ appInsightsId: this.appInsightsId, workspaceId: this.workspace.id });
  }

  /** Send telemetry with the app's Entra identity. */
  publisherAccess(): RoleGrant {
    return { name: "appinsights-publish", role: "monitoringMetricsPublisher", scope: this.appInsights.id };
  }

  private createWorkspace(name: string, args: TelemetryArgs): operationalinsights.Workspace {
    const [workspaceArgs, opts] = applyTransform<operationalinsights.WorkspaceArgs>(args.transform?.workspace, `${name}-logs`, {
      resourceGroupName: args.resourceGroupName,
      location: args.location,
      sku: { name: "PerGB2018" },
      retentionInDays: args.retentionDays ?? 30,
      workspaceCapping: args.dailyCapGb === undefined ? undefined : { dailyQuotaGb: args.dailyCapGb },
      tags: args.tags,
    }, { parent: this });
    return new operationalinsights.Workspace(`${name}-logs`, workspaceArgs, opts);
  }

  private createAppInsights(name: string, args: TelemetryArgs): applicationinsights.Component {
    const [componentArgs, opts] = applyTransform<applicationinsights.ComponentArgs>(args.transform?.appInsights, `${name}-appinsights`, {
      resourceGroupName: args.resourceGroupName,
      location: args.location,
      kind: "web",
      applicationType: "web",
      workspaceResourceId: this.workspace.id,
      ingestionMode: "LogAnalytics",
      disableLocalAuth: args.entraOnlyIngestion ?? false,
      tags: args.tags,
    }, { parent: this });
    return new applicationinsights.Component(`${name}-appinsights`, componentArgs, opts);
  }

  private createDiagnosticSetting(name: string, args: TelemetryArgs, target: DiagnosticTarget): monitor.DiagnosticSetting {
    const [settingArgs, opts] = applyTransform<monitor.DiagnosticSettingArgs>(args.transform?.diagnosticSetting, `${name}-diag-${target.name}`, {
      name: "mallard-logs",
      resourceUri: target.resourceId,
      workspaceId: this.workspace.id,
      // Resource-specific tables (StorageBlobLogs, AZKVAuditLogs) rather than the shared AzureDiagnostics.
      logAnalyticsDestinationType: "Dedicated",
      logs: target.logs.map((log) => ({ ...log, enabled: true })),
    }, { parent: this });
    return new monitor.DiagnosticSetting(`${name}-diag-${target.name}`, settingArgs, opts);
  }
}
