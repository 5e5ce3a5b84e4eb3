// What a component asks the Log Analytics workspace to collect: the diagnostic logs of one of its
// resources. Components say what is worth keeping (`auditLogs()`, `storageLogs()`), as they say which
// roles mean "use me"; the telemetry component turns each into a diagnostic setting.

import type * as pulumi from "@pulumi/pulumi";

export interface DiagnosticTarget {
  /** Short name, unique within the stack; part of the setting's resource name. @example "vault-audit" */
  name: string;
  /** Resource whose logs are sent. @example vault.id, or `${account.id}/blobServices/default` */
  resourceId: pulumi.Input<string>;
  /** Log categories (or category groups) to send. @example [{ category: "AuditEvent" }] */
  logs: readonly ({ category: string } | { categoryGroup: string })[];
}
