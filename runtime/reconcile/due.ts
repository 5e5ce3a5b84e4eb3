// When a bronze table reconciles: after every load, or (with a schedule) with the first load at or after
// each time the schedule names since the last reconciliation. The last result is kept in the lake
// (`_mallard/reconcile/<pipeline>/<stage>.json`) so a schedule survives instances and restarts.

import { CronExpressionParser } from "cron-parser";
import type { BronzeTable } from "../declare/stages.ts";
import { type Lake, lakePath } from "../lake/lake.ts";
import type { ResourceSchema, SourceConnector } from "../sources/source.ts";
import type { StageContext } from "../stages/context.ts";
import { readBronze } from "../stages/bronze-table/state.ts";
import type { Reconciliation } from "../state/run-records.ts";
import { reconcile } from "./reconcile.ts";

export function lastReconciliationPath(pipeline: string, stage: string): string {
  return lakePath("_mallard", "reconcile", pipeline, `${stage}.json`);
}

/** Whether a reconciliation is due now, given the last one's time. */
export function reconcileDue(schedule: string | undefined, lastAt: string | undefined, now = new Date()): boolean {
  if (schedule === undefined || lastAt === undefined) return true;
  const next = CronExpressionParser.parse(schedule.trim(), { currentDate: new Date(lastAt), tz: "UTC" }).next().toDate();
  return next.getTime() <= now.getTime();
}

export async function lastReconciliation(lake: Lake, pipeline: string, stage: string): Promise<Reconciliation | undefined> {
  return (await lake.readJson<Reconciliation>(lastReconciliationPath(pipeline, stage)))?.value;
}

/**
 * After a committed load: reconcile when the stage declares it and it is due; undefined otherwise. A
 * failed reconciliation is a result (status "error"), never a failed load: the load's data is committed.
 */
export async function reconcileIfDue(ctx: StageContext<BronzeTable>, connector: SourceConnector, schema: ResourceSchema): Promise<Reconciliation | undefined> {
  const { stage, lake, pipeline } = ctx;
  if (!stage.reconcile) return undefined;
  const last = stage.reconcile.schedule === undefined ? undefined : await lastReconciliation(lake, pipeline.name, stage.name);
  if (!reconcileDue(stage.reconcile.schedule, last?.at)) return undefined;
  const { state } = await readBronze(ctx);
  const result = await reconcile({ pipeline: pipeline.name, stage, lake, engine: ctx.engine, connector, schema, checkpoint: state?.checkpoint });
  await lake.writeJson(lastReconciliationPath(pipeline.name, stage.name), result);
  ctx.log(`${stage.name}: ${describeReconciliation(result)}`);
  return result;
}

/** One line: `in sync (1,204 rows)`, `drift: 2 missing, 1 changed, 3 deleted (source 1,200 rows, bronze 1,201)`. */
export function describeReconciliation(r: Reconciliation): string {
  const n = (v: number | undefined) => (v ?? 0).toLocaleString("en-US");
  if (r.status === "error") return `reconciliation failed: ${r.error}`;
  const pending = r.pending ? `; ${n(r.pending)} changed since the checkpoint (next load)` : "";
  if (r.status === "inSync") return `in sync with the source (${n(r.source?.rows)} rows${pending})`;
  const parts = [["missing", r.missing], ["changed", r.changed], ["deleted in the source", r.deleted]].filter(([, v]) => v).map(([k, v]) => `${n(v as number)} ${k}`);
  return `drift from the source: ${parts.join(", ")} (source ${n(r.source?.rows)} rows, bronze ${n(r.lake?.rows)}${pending})`;
}
