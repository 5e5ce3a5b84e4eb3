// Runs the Pulumi program (or one component) under `pulumi.runtime.setMocks` — Pulumi's own test mode, the
// only mock these tests use: no engine, no Azure. Every resource the program registers is recorded with
// its resolved inputs, so tests assert on the graph the way `pulumi preview` would show it.

import { readFileSync } from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import type { Pipeline } from "../../runtime/declare/index.ts";
import { parseSettings, type MallardSettings, type RawSettings } from "../../infra/config.ts";
import { Lakehouse, type LakehouseArgs } from "../../infra/lakehouse.ts";
import { mallardProgram } from "../../infra/program.ts";
import { type DeletedVaultAnswer, type ResourceManagerCall, withResourceManager } from "./resource-manager.ts";

export interface RecordedResource {
  /** Pulumi type token, e.g. `azure-native:storage:StorageAccount`. */
  type: string;
  /** Logical (Pulumi) name. */
  name: string;
  /** Inputs as the provider would receive them (secrets unwrapped). */
  inputs: Record<string, any>;
  /** Top-level inputs that hold a Pulumi secret somewhere inside (encrypted in the state, hidden in diffs). */
  secretInputs: string[];
  custom: boolean;
}

export const CLIENT = { tenantId: "00000000-0000-0000-0000-00000000aaaa", subscriptionId: "00000000-0000-0000-0000-00000000bbbb" };

/** Outputs Azure would compute, so dependents see realistic values. */
function computedOutputs(type: string, name: string, inputs: Record<string, any>): Record<string, unknown> {
  const azureName = inputs.accountName ?? inputs.name ?? inputs.vaultName ?? name;
  switch (type) {
    case "azure-native:storage:StorageAccount":
      return {
        name: azureName,
        primaryEndpoints: {
          blob: `https://${azureName}.blob.core.windows.net/`,
          queue: `https://${azureName}.queue.core.windows.net/`,
          dfs: `https://${azureName}.dfs.core.windows.net/`,
          table: `https://${azureName}.table.core.windows.net/`,
        },
      };
    case "azure-native:web:WebApp":
      return {
        name: azureName,
        defaultHostName: `${azureName}.azurewebsites.net`,
        identity: { type: "SystemAssigned", principalId: "11111111-2222-3333-4444-555555555555", tenantId: CLIENT.tenantId },
      };
    case "azure-native:keyvault:Vault":
      return { name: inputs.vaultName, properties: { ...inputs.properties, vaultUri: `https://${inputs.vaultName}.vault.azure.net/` } };
    case "azure-native:applicationinsights:Component":
      return { connectionString: "InstrumentationKey=00000000-0000-0000-0000-00000000cccc;IngestionEndpoint=https://westeurope-5.in.applicationinsights.azure.com/" };
    case "azure-native:resources:ResourceGroup":
      return { name: inputs.resourceGroupName };
    default:
      return { name: azureName };
  }
}

/** Answers to provider functions (invokes) by token; an answer may throw, as Azure would answer 404. */
export type MockCalls = Record<string, (inputs: Record<string, any>) => Record<string, unknown>>;

/**
 * Runs `program` under mocks and returns every resource it registered. Each call sets fresh mocks, so
 * several programs can run in one test file.
 */
export async function recordResources(
  program: () => void | Promise<unknown>,
  stack = "dev",
  options: { preview?: boolean; calls?: MockCalls } = {},
): Promise<RecordedResource[]> {
  const recorded: RecordedResource[] = [];
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const outputs = { ...args.inputs, ...computedOutputs(args.type, args.name, args.inputs) };
        const secretInputs = Object.keys(args.inputs).filter((key) => holdsSecret(args.inputs[key])).sort();
        recorded.push({ type: args.type, name: args.name, inputs: unwrapSecrets(args.inputs) as Record<string, any>, secretInputs, custom: args.custom ?? true });
        const id = args.type.startsWith("pulumi-nodejs:dynamic") ? `${args.name}-id` : `/subscriptions/${CLIENT.subscriptionId}/mock/${args.type.split(":").pop()}/${args.name}`;
        return { id, state: outputs };
      },
      call(args) {
        const answer = options.calls?.[args.token];
        if (answer) return answer(args.inputs);
        if (args.token === "azure-native:authorization:getClientConfig") return { ...CLIENT, clientId: "deployer", objectId: "deployer" };
        if (args.token === "azure-native:authorization:getClientToken") return { token: "mock-arm-token" };
        return {};
      },
    },
    "mallard",
    stack,
    options.preview ?? false,
  );
  await program();
  await pulumi.runtime.disconnect();
  return recorded;
}

/** The default test settings: the dev stack's defaults. */
export function testSettings(raw: RawSettings = {}, stack = "dev"): MallardSettings {
  return parseSettings(raw, { stack, azureLocation: "westeurope" });
}

/** Fake secret values, as `pulumi config set --secret` would hold them. */
export const SECRET_VALUES: Record<string, string> = {
  "shop-db-url": "postgres://shop_reader:S3cr3t-shop-pw@db.example.com:5432/shop",
  "crm-db-url": "postgres://crm:An0ther-crm-pw@crm.example.com:5432/crm",
  "alerts-oncall-url": "https://prod-01.westeurope.logic.azure.com/workflows/0a1b/triggers/manual/paths/invoke?sig=OnCallSig-4242",
};

export interface LakehouseRun {
  resources: RecordedResource[];
  lakehouse: Lakehouse;
}

/** The whole deployment of `pipeline` under mocks, with a fixed bundle so only the declaration varies. */
export async function recordLakehouse(
  pipeline: Pipeline,
  options: { settings?: MallardSettings; stack?: string; code?: boolean; transform?: LakehouseArgs["transform"]; recoverVault?: boolean } = {},
): Promise<LakehouseRun> {
  let lakehouse: Lakehouse | undefined;
  const stack = options.stack ?? "dev";
  const resources = await recordResources(() => {
    lakehouse = new Lakehouse("mallard", {
      pipeline,
      settings: options.settings ?? testSettings({}, stack),
      names: { project: "mallard", stack },
      client: CLIENT,
      secretValue: (name) => {
        const value = SECRET_VALUES[name];
        if (value === undefined) throw new Error(`test has no value for secret ${name}`);
        return pulumi.secret(value);
      },
      transform: options.transform,
      recoverVault: options.recoverVault,
      code: options.code === false ? undefined : { zipPath: "/tmp/mallard-test-bundle.zip", zipHash: "ab".repeat(32), token: "mock-arm-token" },
    });
  }, stack);
  return { resources, lakehouse: lakehouse! };
}

export const ofType = (resources: readonly RecordedResource[], type: string) => resources.filter((r) => r.type === type);

export function one(resources: readonly RecordedResource[], type: string, name?: string): RecordedResource {
  const found = resources.filter((r) => r.type === type && (name === undefined || r.name === name));
  if (found.length !== 1) throw new Error(`expected one ${type}${name ? ` named ${name}` : ""}, found ${found.length}: ${found.map((r) => r.name).join(", ")}`);
  return found[0];
}

/** A value with Pulumi's secret wrappers removed, as the provider would see it. */
export function unwrapSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(unwrapSecrets);
  if (value && typeof value === "object") {
    const record = value as Record<string, unknown>;
    if (SECRET_SIG in record) return unwrapSecrets(record.value);
    return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, unwrapSecrets(v)]));
  }
  return value;
}

function holdsSecret(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(holdsSecret);
  if (value && typeof value === "object") return SECRET_SIG in value || Object.values(value).some(holdsSecret);
  return false;
}

/** The signature key Pulumi marks serialized secrets with. */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";

/** App settings of a WebApp as a record. */
export function appSettingsOf(app: RecordedResource): Record<string, string> {
  return Object.fromEntries((app.inputs.siteConfig?.appSettings ?? []).map((s: { name: string; value: string }) => [s.name, s.value]));
}

export interface ProgramRun {
  resources: RecordedResource[];
  /** What the program logged with pulumi.log.warn (under mocks it goes to console.warn). */
  warnings: string[];
  /** What it asked Resource Manager itself (the stand-in in resource-manager.ts). */
  resourceManagerCalls: ResourceManagerCall[];
}

/**
 * The Pulumi program (infra/program.ts, what index.ts runs) under mocks, with the dev stack's settings
 * from Pulumi.dev.yaml, then `config` on top (`mallard:` keys without the namespace, values JSON or text),
 * and `secrets` as `pulumi config set --secret` would hold them.
 */
export async function recordProgram(
  options: {
    config?: Record<string, unknown>;
    secrets?: Record<string, string>;
    preview?: boolean;
    calls?: MockCalls;
    projectRoot?: string;
    /** What Resource Manager says about a soft-deleted vault with the vault's name. @default "none" */
    deletedVault?: DeletedVaultAnswer;
  } = {},
): Promise<ProgramRun> {
  const stackFile = parse(readFileSync("Pulumi.dev.yaml", "utf8")) as { config: Record<string, unknown> };
  const text = (value: unknown) => (typeof value === "string" ? value : JSON.stringify(value));
  const config: Record<string, string> = {};
  for (const [key, value] of Object.entries(stackFile.config)) config[key] = text(value);
  config["azure-native:subscriptionId"] = CLIENT.subscriptionId;
  for (const [key, value] of Object.entries(options.config ?? {})) config[key.includes(":") ? key : `mallard:${key}`] = text(value);
  for (const [name, value] of Object.entries(options.secrets ?? {})) config[`mallard:${name}`] = value;
  pulumi.runtime.setAllConfig(config, Object.keys(options.secrets ?? {}).map((name) => `mallard:${name}`));

  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (...args: unknown[]) => void warnings.push(args.join(" ").replace(/^warning: \[runtime\] /, ""));
  try {
    return await withResourceManager(options.deletedVault ?? "none", async (resourceManager, resourceManagerCalls) => {
      const program = () => mallardProgram({ projectRoot: options.projectRoot, resourceManager });
      const resources = await recordResources(program, "dev", { preview: options.preview, calls: options.calls });
      return { resources, warnings, resourceManagerCalls };
    });
  } finally {
    console.warn = warn;
  }
}
