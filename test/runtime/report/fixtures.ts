// Report inputs for tests and the benchmark: a pipeline graph and a run record built in memory, with
// values a hostile source could send (markup in names, notes and rows).
import type { PipelineGraph, RunReportData, StageNode } from "../../../runtime/report/data.ts";
import type { CostEstimate, RunRecord, TaskRecord } from "../../../runtime/state/run-records.ts";

export const HOSTILE = `<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">`;

export function smallGraph(): PipelineGraph {
  return {
    name: "shop",
    schedule: "0 */15 * * * *",
    stages: [
      node("orders", "bronze.table", "bronze", [], "shop:public.orders"),
      node("customers", "bronze.table", "bronze", [], "shop:public.customers"),
      node("people", "silver.dedup", "silver", ["customers"], "dedup"),
      node("orders_clean", "silver.model", "silver", ["orders"], "sql", { o: "orders" }),
      node("revenue", "gold.model", "gold", ["orders_clean", "people"], "sql"),
      node("unselected", "gold.model", "gold", ["orders_clean"], "sql"),
    ],
  };
}

function node(name: string, kind: string, layer: StageNode["layer"], inputs: string[], description: string, views?: Record<string, string>): StageNode {
  return { name, kind, layer, inputs, description, views: views ?? Object.fromEntries(inputs.map((i) => [i, i])) };
}

/** A cost estimate with these GB-seconds, storage writes and total. */
export function cost(gbSeconds: number, storageWrites: number, total: number): CostEstimate {
  return {
    gbSeconds, executions: 1, storageWrites, storageReads: 20, storageLists: 2, bytesWritten: 2048, queueOperations: 3, keyVaultOperations: 0,
    amount: { compute: total / 2, executions: 0, storageOperations: total / 2, storageCapacity: 0, queue: 0, keyVault: 0, total }, currency: "USD", pricesAsOf: "2026-12-02",
  };
}

export function smallRun(): RunRecord {
  const at = (s: number) => new Date(Date.parse("2026-11-24T10:00:00Z") + s * 1000).toISOString();
  const task = (t: Partial<TaskRecord> & Pick<TaskRecord, "task" | "stage" | "kind" | "status">, from?: number, to?: number): TaskRecord => ({
    ...(from !== undefined ? { startedAt: at(from) } : {}), ...(to !== undefined ? { endedAt: at(to), durationMs: (to - (from ?? 0)) * 1000 } : {}), ...t,
  });
  return {
    runId: "20261124T100000Z-abc123", pipeline: "shop", status: "failed", trigger: "cli", startedAt: at(0), endedAt: at(30),
    error: { stage: "revenue", message: `check failed: ${HOSTILE}` },
    cost: cost(60, 40, 0.00125),
    tasks: {
      "orders": task({ task: "orders", stage: "orders", kind: "bronze.table", status: "succeeded", attempt: 1, rowsIn: 100, rowsOut: 100, bytes: 2048,
        checkpointBefore: null, checkpointAfter: { columns: ["updated_at", "id"], values: ["2026-11-24 09:00:00+00", "42"] },
        reconciliation: {
          status: "drift", at: at(8), durationMs: 120, columns: ["id", "updated_at"], method: "pushdown",
          upTo: { columns: ["updated_at", "id"], values: ["2026-11-24 09:00:00+00", "42"] },
          source: { rows: 98, checksum: "1234" }, lake: { rows: 100, checksum: "5678" }, missing: 1, changed: 1, deleted: 3, pending: 0,
          sample: [{ id: "7", problem: "deleted" }, { id: HOSTILE, problem: "missing" }],
        },
        cost: cost(16, 12, 0.000512) }, 0, 8),
      "orders#0": task({ task: "orders#0", stage: "orders", kind: "bronze.table", status: "succeeded", attempt: 2, rowsIn: 60, rowsOut: 60, bytes: 1024 }, 0, 5),
      "orders#1": task({ task: "orders#1", stage: "orders", kind: "bronze.table", status: "succeeded", attempt: 1, rowsIn: 40, rowsOut: 40, bytes: 1024 }, 0, 4),
      "customers": task({ task: "customers", stage: "customers", kind: "bronze.table", status: "succeeded", attempt: 1, rowsIn: 10, rowsOut: 10, bytes: 512, note: HOSTILE,
        reconciliation: { status: "inSync", at: at(3), durationMs: 15, columns: ["id"], method: "pushdown", source: { rows: 10, checksum: "9" }, lake: { rows: 10, checksum: "9" } } }, 1, 3),
      "people": task({ task: "people", stage: "people", kind: "silver.dedup", status: "succeeded", attempt: 1, rowsIn: 10, rowsOut: 8, bytes: 300,
        dedup: {
          records: 10, candidatePairs: 20, links: 3, entities: 8, threshold: 0.9, keptAbove: 0.9,
          probabilityHistogram: [10, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 5], clusterSizes: [[1, 7], [3, 1]],
          largest: [{ entityId: "e1", size: 3, contributions: { first_name: 5.5, email: -1.25 }, members: [{ id: "1", first_name: HOSTILE, email: null }] }],
        } }, 3, 9),
      "orders_clean": task({ task: "orders_clean", stage: "orders_clean", kind: "silver.model", status: "succeeded", attempt: 1, rowsIn: 100, rowsOut: 95, quarantined: 5, bytes: 4096,
        lineage: { order_id: ["o.id"], amount: ["o.price", "o.quantity"], [HOSTILE]: ["o.id"], n: [] },
        checks: [
          { name: "not_null(id)", kind: "not_null", severity: "fail", passed: true, failingRows: 0 },
          { name: "accepted_values(status)", kind: "accepted_values", severity: "warn", passed: false, failingRows: 2, detail: "2 failing rows", sample: [{ id: "7", status: HOSTILE }] },
          { name: "positive", kind: "sql_row", severity: "drop", passed: false, failingRows: 5, detail: "5 failing rows", sample: [{ id: "9", qty: "-1" }] },
        ] }, 9, 20),
      "revenue": task({ task: "revenue", stage: "revenue", kind: "gold.model", status: "failed", attempt: 1, error: `stage "revenue": ${HOSTILE}`, retryable: false,
        checks: [{ name: "row_count(1..)", kind: "row_count", severity: "fail", passed: false, failingRows: 1, detail: "0 rows (expected 1..any)" }] }, 20, 30),
    },
  };
}

export function smallReport(): RunReportData {
  return {
    graph: smallGraph(),
    run: smallRun(),
    schemaChanges: [{ stage: "orders", at: "2026-11-24T10:00:05Z", runId: "20261124T100000Z-abc123",
      added: [{ name: HOSTILE, sourceType: "text", duckType: "VARCHAR", nullable: true }], widened: [{ column: "total", from: "DECIMAL(10,2)", to: "DECIMAL(12,2)" }] }],
    generatedAt: "2026-11-24T10:01:00Z",
  };
}
