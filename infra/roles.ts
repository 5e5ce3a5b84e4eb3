// Built-in Azure roles Mallard grants, by the ids Azure gives them everywhere, and the shape of a grant:
// a component says which role on which of its resources means "use me"; the function app turns grants
// into role assignments for its managed identity.

import type * as pulumi from "@pulumi/pulumi";

/** Built-in role definition ids (the same in every tenant). */
export const ROLES = {
  /** Read, write, delete blobs and set their ACLs; the Functions host needs it on its own storage. */
  storageBlobDataOwner: "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",
  /** Read, write, delete blobs: what the engine needs on the lake. */
  storageBlobDataContributor: "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
  /** Read, add, process, delete messages and read queue metadata (the scale controller reads the length). */
  storageQueueDataContributor: "974c5e8b-45b9-4653-ba55-5f855dd0fb88",
  /** Tables of the host's own storage (diagnostic events). */
  storageTableDataContributor: "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3",
  /** Read secret values, nothing else. */
  keyVaultSecretsUser: "4633458b-17de-408a-b874-0445c86b69e6",
  /** Send telemetry to Application Insights with an Entra token. */
  monitoringMetricsPublisher: "3913510d-42f4-4e42-8a64-420c390055eb",
} as const;

export type RoleName = keyof typeof ROLES;

/** One role on one resource, for the function app's identity. */
export interface RoleGrant {
  /** Short name, unique within the app; becomes part of the role assignment's resource name. @example "lake-blob" */
  name: string;
  role: RoleName;
  /** Resource id the role is scoped to; the narrowest that works. */
  scope: pulumi.Input<string>;
}

/** Full role definition id in a subscription, as role assignments take it. */
export function roleDefinitionId(subscriptionId: string, role: RoleName): string {
  return `/subscriptions/${subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${ROLES[role]}`;
}
