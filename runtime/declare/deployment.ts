// What the Function App needs to know about the resources Pulumi made: one typed object, passed as app
// settings. infra/ writes these names and runtime/functions reads them, so both import them from here.

/** App setting names, the contract between infra/ and runtime/functions/. */
export const APP_SETTINGS = {
  /** Storage account of the lake (ADLS Gen2), reached through the managed identity. */
  lakeAccount: "MALLARD_LAKE_ACCOUNT",
  /** Blob endpoint of the lake account; optional, derived from the account name when absent. */
  lakeBlobEndpoint: "MALLARD_LAKE_BLOB_ENDPOINT",
  /** Connection string, only for Azurite or local runs; never set in Azure. */
  lakeConnectionString: "MALLARD_LAKE_CONNECTION_STRING",
  /** Name of the task queue; the Functions host moves poison messages to `<name>-poison`. */
  taskQueue: "MALLARD_TASK_QUEUE",
  /**
   * Prefix of the identity-based connection the queue trigger uses
   * (`MALLARD_STORAGE__queueServiceUri`, `MALLARD_STORAGE__credential`).
   */
  queueConnection: "MALLARD_STORAGE",
  /** Key Vault URL; enables Key Vault in the secret chain. */
  keyVaultUrl: "MALLARD_KEY_VAULT_URL",
  /** DuckDB memory limit per instance. @example "3GB" */
  engineMemoryLimit: "MALLARD_ENGINE_MEMORY_LIMIT",
  /** Standard Application Insights setting. */
  appInsights: "APPLICATIONINSIGHTS_CONNECTION_STRING",
  /** Set by App Service on every Function App: its default host name, for links to the runs API. */
  siteHostname: "WEBSITE_HOSTNAME",
} as const;

/**
 * Containers of the lake account: the first segment of a lake path picks the container. `landing` is where
 * files are dropped for a files source (`source.files("drops", { landing: "shop" })`).
 */
export const LAKE_CONTAINERS = { bronze: "bronze", silver: "silver", gold: "gold", _mallard: "state", landing: "landing" } as const;

/** Default pipeline declaration, relative to the project root (the CLI's --config, the stack's mallard:pipeline). */
export const DEFAULT_CONFIG = "configs/pipeline.ts";

/** Default task queue name. */
export const DEFAULT_TASK_QUEUE = "mallard-tasks";

/** Names Mallard sends to Application Insights; the alert rules infra/ creates query these. */
export const TELEMETRY = {
  taskFinished: "MallardTaskFinished",
  /** customDimensions: pipeline, runId, task, stage, error. */
  taskFailed: "MallardTaskFailed",
  /** One per failed check of severity fail; customDimensions: pipeline, runId, stage, check. */
  checkFailed: "MallardCheckFailed",
  runFinished: "MallardRunFinished",
  /** customDimensions: pipeline, runId, stage, error. */
  runFailed: "MallardRunFailed",
  /**
   * One per reconciliation of a bronze table with its source. customDimensions: pipeline, runId, task,
   * stage, status (inSync | drift | error), error; customMeasurements: sourceRows, lakeRows, missing,
   * changed, deleted, pending, durationMs.
   */
  reconciled: "MallardReconciled",
  /** The same, only when status is drift (or error): what an alert rule or a webhook watches. */
  reconcileDrift: "MallardReconcileDrift",
  /**
   * A long task's progress, at most one per 10 s per task (none for a task shorter than that).
   * customDimensions: pipeline, runId, task, stage; customMeasurements: rows, total (the source's
   * estimate, when it has one), rowsPerSecond, etaSeconds, elapsedMs.
   */
  progress: "MallardProgress",
  metrics: { rowsIn: "mallard.task.rows_in", rowsOut: "mallard.task.rows_out", bytes: "mallard.task.bytes", durationMs: "mallard.task.duration_ms" },
} as const;

/**
 * App settings that carry schedules: the driver's timer reads `MALLARD_SCHEDULE`; a bronze table with its
 * own schedule gets a timer reading `MALLARD_SCHEDULE__<stage>`.
 */
export const SCHEDULE_SETTINGS = {
  pipeline: "MALLARD_SCHEDULE",
  stage: (stage: string) => `MALLARD_SCHEDULE__${stage}`,
} as const;
