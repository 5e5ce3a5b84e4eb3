// The cost arithmetic: what a task or a run used, priced. Pure functions over counts, so the numbers in a
// run record can be checked by hand (docs/cost.md walks through one).

import type { Pipeline } from "../declare/pipeline.ts";
import { isSecretRef } from "../declare/secret.ts";
import type { CostAmount, CostEstimate, CostUsage, RunRecord } from "../state/run-records.ts";
import type { StorageUsage } from "./metered-lake.ts";
import { type AzurePrices, resolveCostSettings, type ResolvedCostSettings } from "./prices.ts";

/** What one queue task costs besides its own work: its message put, got and deleted, and its two run-record updates (read + write each). */
export const TASK_OVERHEAD = { queueOperations: 3, storageReads: 2, storageWrites: 2, executions: 1 } as const;
/** What a run costs besides its tasks: the driver's execution, the record created and closed, the report written. */
export const RUN_OVERHEAD = { executions: 1, storageWrites: 3, storageReads: 1 } as const;

const GIB = 1024 ** 3;

/** Price a usage. */
export function priced(usage: CostUsage, prices: AzurePrices): CostEstimate {
  const parts = {
    compute: usage.gbSeconds * prices.flexGbSecond,
    executions: (usage.executions / 1e6) * prices.flexMillionExecutions,
    storageOperations: (usage.storageWrites * prices.storageWrites10k + usage.storageReads * prices.storageReads10k + usage.storageLists * prices.storageLists10k) / 1e4,
    storageCapacity: (usage.bytesWritten / GIB) * prices.storageGbMonth,
    queue: (usage.queueOperations / 1e4) * prices.queue10k,
    keyVault: (usage.keyVaultOperations / 1e4) * prices.keyVault10k,
  };
  const total = Object.values(parts).reduce((a, b) => a + b, 0);
  return { ...usage, amount: { ...parts, total }, currency: prices.currency, pricesAsOf: prices.asOf };
}

/** A task's estimate from its duration and the lake operations it made. */
export function taskCost(durationMs: number, storage: StorageUsage, settings: ResolvedCostSettings): CostEstimate {
  return priced({
    gbSeconds: (settings.instanceMemoryMB / 1024) * (durationMs / 1000),
    executions: TASK_OVERHEAD.executions,
    storageWrites: storage.writes + TASK_OVERHEAD.storageWrites,
    storageReads: storage.reads + TASK_OVERHEAD.storageReads,
    storageLists: storage.lists,
    bytesWritten: storage.bytesWritten,
    queueOperations: TASK_OVERHEAD.queueOperations,
    keyVaultOperations: 0,
  }, settings.prices);
}

/** The secrets a run of these stages looks up: Key Vault is asked once per secret per instance (its provider caches). */
export function secretsOf(pipeline: Pipeline, stages: ReadonlySet<string>): Set<string> {
  const names = new Set<string>();
  const visit = (value: unknown, depth: number): void => {
    if (depth > 6 || value === null || typeof value !== "object") return;
    if (isSecretRef(value)) return void names.add(value.name);
    for (const v of Object.values(value)) visit(v, depth + 1);
  };
  for (const stage of pipeline.stages) if (stage.kind === "bronze.table" && stages.has(stage.name)) visit(stage.source, 0);
  visit(pipeline.notify, 0);
  return names;
}

/** The run's estimate: its tasks' estimates added up, with the run's own overhead and its Key Vault lookups. */
export function runCost(pipeline: Pipeline, run: RunRecord, settings: ResolvedCostSettings = resolveCostSettings(pipeline.cost)): CostEstimate {
  const tasks = Object.values(run.tasks);
  const sum = (f: (c: CostEstimate) => number) => tasks.reduce((n, t) => n + (t.cost ? f(t.cost) : 0), 0);
  return priced({
    gbSeconds: sum((c) => c.gbSeconds),
    executions: sum((c) => c.executions) + RUN_OVERHEAD.executions,
    storageWrites: sum((c) => c.storageWrites) + RUN_OVERHEAD.storageWrites,
    storageReads: sum((c) => c.storageReads) + RUN_OVERHEAD.storageReads,
    storageLists: sum((c) => c.storageLists),
    bytesWritten: sum((c) => c.bytesWritten),
    queueOperations: sum((c) => c.queueOperations),
    keyVaultOperations: secretsOf(pipeline, new Set(tasks.map((t) => t.stage))).size,
  }, settings.prices);
}

/** Add estimates up (a day's runs), keeping the first one's currency and price date. */
export function addCosts(costs: readonly CostEstimate[]): CostEstimate | undefined {
  if (!costs.length) return undefined;
  const keys = ["gbSeconds", "executions", "storageWrites", "storageReads", "storageLists", "bytesWritten", "queueOperations", "keyVaultOperations"] as const;
  const usage = Object.fromEntries(keys.map((k) => [k, costs.reduce((n, c) => n + c[k], 0)])) as unknown as CostUsage;
  const amountKeys = Object.keys(costs[0].amount) as (keyof CostAmount)[];
  const amount = Object.fromEntries(amountKeys.map((k) => [k, costs.reduce((n, c) => n + c.amount[k], 0)])) as unknown as CostAmount;
  return { ...usage, amount, currency: costs[0].currency, pricesAsOf: costs[0].pricesAsOf };
}
