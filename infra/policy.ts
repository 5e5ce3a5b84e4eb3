// Mallard's deployment policy as plain checks over a resource graph (type, name, resolved inputs): the same
// rules a Pulumi policy pack would enforce, runnable in tests and on any recorded graph without the CLI.

/** A resource as a policy sees it: its type token, logical name and resolved inputs. */
export interface PolicyResource {
  type: string;
  name: string;
  inputs: Readonly<Record<string, unknown>>;
}

export interface Violation {
  policy: string;
  resource: string;
  message: string;
}

/** Credential shapes that must never be a plain app setting value. */
const CREDENTIAL_PATTERNS: readonly [RegExp, string][] = [
  [/AccountKey=/i, "a storage account key"],
  [/SharedAccessSignature=|[?&]sig=/i, "a SAS token"],
  [/SharedAccessKey=/i, "a shared access key"],
  [/(password|pwd)=/i, "a password"],
  [/[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:[^/\s@]+@/i, "a URL with a password"],
];

/** App settings that Flex Consumption rejects or that would bypass the identity-based setup. */
const FORBIDDEN_SETTINGS: Readonly<Record<string, string>> = {
  AzureWebJobsStorage: "host storage must use the identity (AzureWebJobsStorage__accountName), not a connection string",
  WEBSITE_RUN_FROM_PACKAGE: "Flex Consumption deploys with OneDeploy; WEBSITE_RUN_FROM_PACKAGE is not supported",
  FUNCTIONS_WORKER_RUNTIME: "Flex Consumption sets the runtime in functionAppConfig; the app setting is rejected",
  FUNCTIONS_EXTENSION_VERSION: "Flex Consumption rejects FUNCTIONS_EXTENSION_VERSION",
  WEBSITE_CONTENTAZUREFILECONNECTIONSTRING: "an Azure Files connection string holds an account key",
  MALLARD_LAKE_CONNECTION_STRING: "only for Azurite and local runs; in Azure the lake is reached by identity",
};

/**
 * Every violation in `resources`. `secretValues` are the stack's secret values: none may appear in any
 * app setting, whole or in part.
 */
export function checkPolicies(resources: readonly PolicyResource[], secretValues: readonly string[] = []): Violation[] {
  const violations: Violation[] = [];
  const fail = (policy: string, resource: PolicyResource, message: string) =>
    violations.push({ policy, resource: `${resource.type} ${resource.name}`, message });

  for (const resource of resources) {
    const inputs = resource.inputs;
    switch (resource.type) {
      case "azure-native:storage:StorageAccount":
        if (inputs.allowBlobPublicAccess !== false) fail("storage-no-public-access", resource, "allowBlobPublicAccess must be false");
        if (inputs.allowSharedKeyAccess !== false) fail("storage-no-shared-key", resource, "allowSharedKeyAccess must be false (identities only)");
        if (inputs.minimumTlsVersion !== "TLS1_2") fail("storage-tls", resource, "minimumTlsVersion must be TLS1_2");
        if (inputs.enableHttpsTrafficOnly === false) fail("storage-tls", resource, "enableHttpsTrafficOnly must not be false");
        break;
      case "azure-native:storage:BlobContainer":
        if (inputs.publicAccess !== undefined && inputs.publicAccess !== "None") {
          fail("storage-no-public-access", resource, `container publicAccess is ${String(inputs.publicAccess)}`);
        }
        break;
      case "azure-native:keyvault:Vault": {
        const properties = (inputs.properties ?? {}) as Record<string, unknown>;
        if (properties.enableRbacAuthorization !== true) fail("vault-rbac", resource, "enableRbacAuthorization must be true");
        if (properties.enablePurgeProtection !== true) fail("vault-purge-protection", resource, "enablePurgeProtection must be true");
        if (properties.enableSoftDelete === false) fail("vault-soft-delete", resource, "enableSoftDelete must not be false");
        break;
      }
      case "azure-native:web:WebApp":
        for (const { name, value } of appSettings(inputs)) {
          if (name in FORBIDDEN_SETTINGS) fail("app-settings-no-credentials", resource, `${name}: ${FORBIDDEN_SETTINGS[name]}`);
          for (const secret of secretValues) {
            if (secret.length >= 8 && value.includes(secret)) fail("app-settings-no-secrets", resource, `${name} holds the value of a stack secret`);
          }
          for (const [pattern, what] of CREDENTIAL_PATTERNS) {
            if (pattern.test(value)) fail("app-settings-no-credentials", resource, `${name} looks like it holds ${what}`);
          }
        }
        if (inputs.httpsOnly !== true) fail("app-https-only", resource, "httpsOnly must be true");
        break;
    }
  }
  return violations;
}

function appSettings(inputs: Readonly<Record<string, unknown>>): { name: string; value: string }[] {
  const siteConfig = (inputs.siteConfig ?? {}) as { appSettings?: { name?: unknown; value?: unknown }[] };
  return (siteConfig.appSettings ?? []).map((s) => ({ name: String(s.name), value: typeof s.value === "string" ? s.value : JSON.stringify(s.value ?? "") }));
}
