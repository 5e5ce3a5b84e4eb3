// Every stack setting, typed, with its default, read in one place. Stacks set them in Pulumi.<stack>.yaml
// under the `mallard:` namespace; secrets (source connections) are not settings: see secretConfigKey.

import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { DEFAULT_CONFIG, DEFAULT_TASK_QUEUE } from "../runtime/declare/deployment.ts";
import { ConfigError } from "../runtime/errors.ts";

/** Settings of the stack, as `index.ts` and the components read them. */
export interface MallardSettings {
  /**
   * Azure region for every resource. Must offer Flex Consumption.
   * @default the `azure-native:location` setting, else "swedencentral"
   * @example "westeurope"
   */
  location: string;
  /**
   * An existing resource group to deploy into. Omit to create one named `<prefix>-<stack>`.
   * @example "rg-data-prod"
   */
  resourceGroupName?: string;
  /**
   * First part of every Azure name; globally unique names add a stable hash of org/project/stack.
   * Lowercase letters and digits, at most 10 characters. @default "mallard"
   */
  namePrefix: string;
  /** The pipeline declaration this stack deploys (TypeScript, default export a `Pipeline`, or YAML), relative to the project root. @default "configs/pipeline.ts" */
  pipeline: string;
  /** Tags on every resource that takes tags. @default { app: "mallard" } plus `stack: <stack>` */
  tags: Record<string, string>;
  /**
   * Secrets whose values are managed outside Pulumi (set in the vault with `az keyvault secret set`, or by
   * another team): the stack grants the app access to them and never writes them. `true` for every
   * secret of the pipeline, or a list of names. Any other secret's value comes from the stack's encrypted
   * config (`pulumi config set --secret <name> …`) and is written to Key Vault. See docs/deploy.md.
   * @default false
   * @example ["shop-db-url"]
   */
  externalSecrets: boolean | string[];
  lake: LakeSettings;
  functions: FunctionsSettings;
  vault: VaultSettings;
  telemetry: TelemetrySettings;
  alerts: AlertSettings;
  bundle: BundleSettings;
  deploy: DeploySettings;
}

export interface LakeSettings {
  /** Redundancy of the lake account. @default "Standard_LRS" @example "Standard_ZRS" */
  sku: "Standard_LRS" | "Standard_ZRS" | "Standard_GRS" | "Standard_RAGRS" | "Standard_GZRS" | "Standard_RAGZRS";
  /**
   * Lifecycle of old bronze batches (blobs under `bronze/`). Omit to keep them hot forever.
   * Deleting bronze loses the history silver models rebuild from; prefer `coolAfterDays`.
   * @example { coolAfterDays: 30 }
   */
  bronzeLifecycle?: { coolAfterDays?: number; coldAfterDays?: number; deleteAfterDays?: number };
  /** Refuse to delete the lake account (`pulumi destroy` stops at it). @default false; true in the prod example */
  protect: boolean;
  /** Days a deleted blob or container can be restored (blob and container soft delete), 1–365. @default 7 */
  softDeleteRetentionDays: number;
}

export interface FunctionsSettings {
  /** Memory of one Flex Consumption instance; DuckDB's memory limit is set below it. @default 2048 */
  instanceMemoryMB: 2048 | 4096;
  /**
   * Most instances the app scales out to, 40–1000: 40 is the Flex Consumption minimum most regions
   * enforce. A few regions accept lower values as a preview; a value below 40 needs
   * `lowInstanceCountRegion` naming the stack's region. Raised automatically to the largest `partitions`
   * count of a bronze table, so declared parallelism is never capped below itself. @default 40
   */
  maximumInstanceCount: number;
  /**
   * The stack's region, named to confirm that it accepts a `maximumInstanceCount` below 40 (a preview in
   * a few regions; check `az functionapp list-flexconsumption-locations` and the Flex Consumption docs).
   * @example "eastasia"
   */
  lowInstanceCountRegion?: string;
  /** Instances kept warm (billed while idle). 0 keeps the idle cost at zero. @default 0 */
  alwaysReady: number;
  /** Engine memory per instance (Node and DuckDB; DuckDB itself gets less, runtime/engine/memory.ts). @default the pipeline's `engine.memoryLimit`, else 75% of `instanceMemoryMB` ("1536MB") */
  engineMemoryLimit?: string;
  /** Name of the task queue; the poison queue is `<name>-poison`. @default "mallard-tasks" */
  taskQueue: string;
}

export interface VaultSettings {
  /** Days a deleted secret or vault can be recovered (7–90). @default 90 */
  softDeleteRetentionDays: number;
}

export interface TelemetrySettings {
  /** Days Log Analytics keeps logs and Application Insights data. @default 30 */
  retentionDays: number;
  /**
   * Storage log categories of the lake (blob and queue services) sent to the workspace. Reads are left out
   * by default: every query reads many ranges, and the logs would cost more than the lake.
   * Key Vault audit events are always sent. @default ["StorageWrite", "StorageDelete"]
   */
  storageLogs: StorageLogCategory[];
  /** Daily ingestion cap of the workspace in GB; omit for none. @example 1 */
  dailyCapGb?: number;
  /**
   * Accept telemetry only with an Entra token (Application Insights `disableLocalAuth`). The Functions
   * host supports it; the runtime's own SDK must then authenticate with the managed identity. @default false
   */
  entraOnlyIngestion: boolean;
}

export type StorageLogCategory = "StorageRead" | "StorageWrite" | "StorageDelete";

export interface AlertSettings {
  /** Email addresses notified when an alert fires; omit for alerts without notification. @example ["data-team@example.com"] */
  emails: string[];
  /**
   * Webhooks the action group calls when an alert fires (common alert schema): each names the stack secret
   * holding its URL, set like a source's: `pulumi config set --secret alerts-oncall-url '<url>'`.
   * @default []
   * @example [{ name: "oncall", secret: "alerts-oncall-url" }]
   */
  webhooks: AlertWebhookSetting[];
  /** Severity of Mallard's alert rules, 0 (critical) to 4 (verbose). @default 1 */
  severity: 0 | 1 | 2 | 3 | 4;
  /** How often alert queries run, ISO 8601. @default "PT5M" */
  evaluationFrequency: string;
}

export interface AlertWebhookSetting {
  /** Receiver name in the action group. */
  name: string;
  /** Stack secret (`mallard:<secret>`) holding the URL. */
  secret: string;
}

export interface BundleSettings {
  /** The deployment fails when the zip exceeds this many MB. @default 120 */
  sizeBudgetMB: number;
}

export interface DeploySettings {
  /** How long code deployment retries while new role assignments propagate, in seconds. @default 600 */
  retryForSeconds: number;
}

const positiveInt = z.number().int().positive();

const schema = z.strictObject({
  location: z.string().min(1).optional(),
  resourceGroupName: z.string().min(1).optional(),
  namePrefix: z.string().regex(/^[a-z][a-z0-9]{0,9}$/, "lowercase letters and digits, at most 10, starting with a letter").default("mallard"),
  pipeline: z.string().min(1).default(DEFAULT_CONFIG),
  tags: z.record(z.string(), z.string()).default({}),
  externalSecrets: z.union([z.boolean(), z.array(z.string().regex(/^[A-Za-z0-9-]+$/, "a secret name: letters, digits and dashes"))]).default(false),
  lake: z.strictObject({
    sku: z.enum(["Standard_LRS", "Standard_ZRS", "Standard_GRS", "Standard_RAGRS", "Standard_GZRS", "Standard_RAGZRS"]).default("Standard_LRS"),
    bronzeLifecycle: z.strictObject({
      coolAfterDays: positiveInt.optional(),
      coldAfterDays: positiveInt.optional(),
      deleteAfterDays: positiveInt.optional(),
    }).optional(),
    protect: z.boolean().default(false),
    softDeleteRetentionDays: z.number().int().min(1).max(365).default(7),
  }).prefault({}),
  functions: z.strictObject({
    instanceMemoryMB: z.union([z.literal(2048), z.literal(4096)]).default(2048),
    maximumInstanceCount: z.number().int().min(1).max(1000).default(40),
    lowInstanceCountRegion: z.string().min(1).optional(),
    alwaysReady: z.number().int().min(0).default(0),
    engineMemoryLimit: z.string().regex(/^\d+(MB|GB)$/, 'a size such as "1536MB" or "3GB"').optional(),
    taskQueue: z.string().regex(/^[a-z0-9](?!.*--)[a-z0-9-]{1,55}[a-z0-9]$/, "3–57 lowercase letters, digits and single dashes").default(DEFAULT_TASK_QUEUE),
  }).prefault({}),
  vault: z.strictObject({
    softDeleteRetentionDays: z.number().int().min(7).max(90).default(90),
  }).prefault({}),
  telemetry: z.strictObject({
    retentionDays: z.number().int().min(30).max(730).default(30),
    storageLogs: z.array(z.enum(["StorageRead", "StorageWrite", "StorageDelete"])).default(["StorageWrite", "StorageDelete"]),
    dailyCapGb: z.number().positive().optional(),
    entraOnlyIngestion: z.boolean().default(false),
  }).prefault({}),
  alerts: z.strictObject({
    emails: z.array(z.email()).default([]),
    webhooks: z.array(z.strictObject({
      name: z.string().regex(/^[A-Za-z0-9 _-]{1,64}$/, "letters, digits, spaces, _ and -, at most 64"),
      secret: z.string().regex(/^[A-Za-z0-9-]+$/, "a secret name: letters, digits and dashes"),
    })).default([]),
    severity: z.union([z.literal(0), z.literal(1), z.literal(2), z.literal(3), z.literal(4)]).default(1),
    evaluationFrequency: z.string().regex(/^PT\d+[MH]$/, 'an ISO 8601 duration such as "PT5M"').default("PT5M"),
  }).prefault({}),
  bundle: z.strictObject({ sizeBudgetMB: z.number().positive().default(120) }).prefault({}),
  deploy: z.strictObject({ retryForSeconds: z.number().int().min(0).default(600) }).prefault({}),
});

/** The raw values of the `mallard:` namespace, as Pulumi config (or a test) provides them. */
export type RawSettings = Record<string, unknown>;

/** Top-level keys of the `mallard:` namespace that are settings; any other key is a source secret. */
export const SETTING_KEYS: readonly string[] = Object.keys(schema.shape);

/**
 * Settings from raw values, defaults filled in. Throws one ConfigError listing every bad key, each named
 * `mallard:<path>` as a user would type it in `pulumi config set`.
 */
export function parseSettings(raw: RawSettings, context: { stack: string; azureLocation?: string }): MallardSettings {
  const result = schema.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `mallard:${issue.path.map(String).join(".") || "(root)"}: ${issue.message}`);
    throw new ConfigError(problems);
  }
  const s = result.data;
  const location = s.location ?? context.azureLocation ?? "swedencentral";
  const { maximumInstanceCount, lowInstanceCountRegion } = s.functions;
  if (maximumInstanceCount < MIN_FLEX_INSTANCES && lowInstanceCountRegion !== location) {
    throw new ConfigError([
      `mallard:functions.maximumInstanceCount: ${maximumInstanceCount} is below ${MIN_FLEX_INSTANCES}, the Flex Consumption minimum most regions enforce; ` +
        `use ${MIN_FLEX_INSTANCES} or more, or, if region "${location}" accepts lower values (a preview in a few regions), confirm it with ` +
        `mallard:functions.lowInstanceCountRegion: ${location}` + (lowInstanceCountRegion ? ` (it names "${lowInstanceCountRegion}")` : ""),
    ]);
  }
  return { ...s, location, tags: { app: "mallard", stack: context.stack, ...s.tags } };
}

/** The smallest `maximumInstanceCount` Flex Consumption accepts in most regions. */
export const MIN_FLEX_INSTANCES = 40;

/** Settings of the current stack, from its Pulumi config. */
export function readSettings(): MallardSettings {
  const config = new pulumi.Config("mallard");
  const raw: RawSettings = {};
  for (const key of SETTING_KEYS) {
    const text = config.get(key);
    if (text === undefined) continue;
    raw[key] = parseValue(text);
  }
  return parseSettings(raw, { stack: pulumi.getStack(), azureLocation: new pulumi.Config("azure-native").get("location") });
}

function parseValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * DuckDB's memory limit in Azure: the stack's setting, else what the declaration asks for, else three
 * quarters of the instance (the rest is Node's and the host's).
 */
export function engineMemoryLimit(functions: FunctionsSettings, declared?: string): string {
  return functions.engineMemoryLimit ?? declared ?? `${Math.floor((functions.instanceMemoryMB * 3) / 4)}MB`;
}

/**
 * Config key holding a secret's value: the secret's own name in the `mallard:` namespace, so
 * `secret("shop-db-url")` is set with `pulumi config set --secret shop-db-url '<value>'`.
 */
export function secretConfigKey(secretName: string): string {
  if (SETTING_KEYS.includes(secretName)) {
    throw new Error(`secret "${secretName}": the name is also a stack setting (mallard:${secretName}); rename the secret`);
  }
  return secretName;
}
