// Whether this stack's vault name is held by a soft-deleted vault. After `pulumi destroy`, purge
// protection keeps a deleted vault (and its name) for `softDeleteRetentionDays`, so creating it again fails
// with "vault name already in use". When one is found, the vault is created with createMode "recover",
// which brings it back with its secrets. Asked of Resource Manager directly: azure-native has no function
// for deleted vaults, and the deployer's token (Reader is enough) can read them.

/** A soft-deleted vault, as Resource Manager describes it. */
export interface DeletedVault {
  name: string;
  /** @example "2025-01-31T10:00:00Z" */
  deletionDate?: string;
  /** When the vault and its name are freed for good. */
  scheduledPurgeDate?: string;
}

export type DeletedVaultLookup =
  | { state: "deleted"; vault: DeletedVault }
  | { state: "none" }
  /** Could not tell (no permission, no network): the reason, for a warning. */
  | { state: "unknown"; reason: string };

export interface DeletedVaultQuery {
  subscriptionId: string;
  location: string;
  vaultName: string;
  /** Entra token for Resource Manager. */
  token: string;
  /** @default "https://management.azure.com" */
  resourceManager?: string;
  /** @default 15000 */
  timeoutMs?: number;
}

const API_VERSION = "2023-07-01";

export async function findDeletedVault(query: DeletedVaultQuery): Promise<DeletedVaultLookup> {
  const base = (query.resourceManager ?? "https://management.azure.com").replace(/\/$/, "");
  const url = `${base}/subscriptions/${encodeURIComponent(query.subscriptionId)}/providers/Microsoft.KeyVault/locations/` +
    `${encodeURIComponent(query.location)}/deletedVaults/${encodeURIComponent(query.vaultName)}?api-version=${API_VERSION}`;
  let response: Response;
  try {
    response = await fetch(url, { headers: { authorization: `Bearer ${query.token}` }, signal: AbortSignal.timeout(query.timeoutMs ?? 15_000) });
  } catch (e) {
    return { state: "unknown", reason: (e as Error).message };
  }
  if (response.status === 404) return { state: "none" };
  if (!response.ok) {
    const body = (await response.text().catch(() => "")).slice(0, 300);
    return { state: "unknown", reason: `Resource Manager answered ${response.status}${body ? `: ${body}` : ""}` };
  }
  const found = (await response.json()) as { name?: string; properties?: { deletionDate?: string; scheduledPurgeDate?: string } };
  return {
    state: "deleted",
    vault: { name: found.name ?? query.vaultName, deletionDate: found.properties?.deletionDate, scheduledPurgeDate: found.properties?.scheduledPurgeDate },
  };
}
