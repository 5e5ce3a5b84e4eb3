// One QueueRuntime per Functions instance, built from the app settings on first use and kept for the
// instance's life (the DuckDB engine, the lake cache and cached secrets outlive single invocations).

import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Pipeline } from "../declare/pipeline.ts";
import { APP_SETTINGS } from "../declare/deployment.ts";
import { ConfigError } from "../errors.ts";
import { AzureLake } from "../lake/azure-lake.ts";
import { lakeConnectionFromSettings } from "../lake/azure-connection.ts";
import { QueueRuntime, type QueueRuntimeOptions } from "../orchestration/azure/context.ts";
import { taskQueueFromSettings } from "../orchestration/queue/azure-queue.ts";
import { defaultSecretChain } from "../secrets/default-chain.ts";
import { monitorFromSettings } from "../telemetry/app-insights.ts";

/**
 * Where the SQL files are: beside the bundled entry in Azure (the zip's root), the repository root when
 * run from source. MALLARD_PROJECT_ROOT overrides both.
 */
export function projectRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.MALLARD_PROJECT_ROOT) return resolve(env.MALLARD_PROJECT_ROOT);
  const here = dirname(fileURLToPath(import.meta.url));
  return /[\\/]runtime[\\/]functions$/.test(here) ? resolve(here, "..", "..") : here;
}

/** MALLARD_LAKE_CACHE_MB: the lake cache's budget on the instance's temp disk (see docs/azure.md). */
function cacheOptions(env: NodeJS.ProcessEnv): { maxBytes?: number } {
  const mb = Number(env.MALLARD_LAKE_CACHE_MB);
  return Number.isFinite(mb) && mb > 0 ? { maxBytes: mb * 1024 * 1024 } : {};
}

/** The runtime the handlers use, from app settings; `overrides` are for tests. */
export async function runtimeFromSettings(
  pipeline: Pipeline,
  env: NodeJS.ProcessEnv = process.env,
  overrides: Partial<QueueRuntimeOptions> = {},
): Promise<QueueRuntime> {
  const connection = lakeConnectionFromSettings(env);
  const queue = taskQueueFromSettings(env);
  const missing = [
    !connection && `${APP_SETTINGS.lakeAccount} (or ${APP_SETTINGS.lakeConnectionString})`,
    !queue && `${APP_SETTINGS.queueConnection}__queueServiceUri (or ${APP_SETTINGS.queueConnection})`,
  ].filter(Boolean);
  if (missing.length && !(overrides.lake && overrides.queue)) {
    throw new ConfigError([`app settings missing: ${missing.join(", ")}`]);
  }
  const root = projectRoot(env);
  const memoryLimit = env[APP_SETTINGS.engineMemoryLimit];
  return new QueueRuntime({
    pipeline: memoryLimit ? { ...pipeline, engine: { ...pipeline.engine, memoryLimit } } : pipeline,
    lake: overrides.lake ?? new AzureLake({ connection: connection!, cache: cacheOptions(env) }),
    queue: overrides.queue ?? queue!,
    secrets: overrides.secrets ?? (await defaultSecretChain({ projectRoot: root, env })),
    projectRoot: root,
    monitor: overrides.monitor ?? (await monitorFromSettings(env)),
    ...overrides,
  });
}
