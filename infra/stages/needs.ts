// What a stage needs from Azure, as plain data: each stage kind's file in this folder computes it from the
// declaration, and the lakehouse turns the merged needs into resources. Adding a stage adds exactly what
// its needs name (a secret, an alert rule, a setting) and changes nothing else.

import type { SecretRef } from "../../runtime/declare/index.ts";

/** An alert rule on Application Insights, as a log query that returns rows when something is wrong. */
export interface AlertSpec {
  /** Unique among the pipeline's alerts; part of the resource name. @example "check-orders_clean" */
  key: string;
  /** @example "orders_clean: a fail check failed" */
  displayName: string;
  description: string;
  /** KQL over Application Insights; the rule fires when it returns at least one row. */
  query: string;
}

export interface StageNeeds {
  /** Key Vault secrets the stage reads at run time. */
  secrets: readonly SecretRef[];
  /** Alert rules on the stage's telemetry. */
  alerts: readonly AlertSpec[];
  /** App settings the stage adds (its own schedule). */
  appSettings: Readonly<Record<string, string>>;
  /** Tasks of this stage that may run at once; the app's instance ceiling is raised to it. @default 1 */
  parallelism: number;
  /** Things a deployer should know (a connection string in plain text), printed by `pulumi preview`. */
  warnings: readonly string[];
}

export const noNeeds: StageNeeds = { secrets: [], alerts: [], appSettings: {}, parallelism: 1, warnings: [] };

/** A KQL string literal. */
export function kqlString(value: string): string {
  return `"${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}
