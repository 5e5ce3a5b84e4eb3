// `mallard status`: the last runs of the pipeline and every bronze table's checkpoint (each kind says its
// own line). A run still marked running whose process is gone, or that made no progress for its lease
// time, shows as abandoned.

import { RunRecords, type RunRecord } from "../../state/run-records.ts";
import type { CommonOptions } from "../main.ts";
import { loadPipeline } from "../../config/load-pipeline.ts";
import type { Lake } from "../../lake/lake.ts";
import { openLake } from "../../lake/open-lake.ts";
import { redact } from "../../errors.ts";
import { DispatchStore } from "../../orchestration/azure/dispatch-store.ts";
import { abandonedRecord, ownerGone } from "../../orchestration/run-owner.ts";
import { kindOf } from "../../stages/index.ts";

/** Every task is counted: ok, failed and skipped always, the other states when a task is in them. */
const ALWAYS = [["succeeded", "ok"], ["failed", "failed"], ["skipped", "skipped"]] as const;
const WHEN_ANY = ["abandoned", "running", "pending"] as const;

export async function statusCommand(options: CommonOptions & { limit: number }): Promise<number> {
  const pipeline = await loadPipeline(options.config, options.projectDir);
  const lake = await openLake(options.lake);
  const out = process.stdout;
  const runs = await new RunRecords(lake).latest(pipeline.name, options.limit);
  out.write(`pipeline ${pipeline.name}, lake ${redact(lake.location)}\n\nlast runs:\n`);
  if (!runs.length) out.write("  (none yet)\n");
  for (const stored of runs) {
    const run = await asSeenNow(lake, stored);
    const tasks = Object.values(run.tasks);
    const count = (s: string) => tasks.filter((t) => t.status === s).length;
    const counts = [...ALWAYS.map(([s, label]) => `${count(s)} ${label}`), ...WHEN_ANY.filter((s) => count(s) > 0).map((s) => `${count(s)} ${s}`)];
    const took = run.endedAt ? `${((Date.parse(run.endedAt) - Date.parse(run.startedAt)) / 1000).toFixed(1)}s` : "";
    out.write(`  ${run.runId}  ${run.status.padEnd(9)} ${run.startedAt}  ${took.padStart(7)}  ${counts.join(", ")}`);
    out.write(run.error ? `  — ${run.error.stage}: ${redact(run.error.message)}\n` : "\n");
  }
  out.write("\ncheckpoints:\n");
  for (const stage of pipeline.stages) {
    const line = await kindOf(stage).status(stage, lake, pipeline.name);
    if (line !== undefined) out.write(`  ${stage.name.padEnd(24)} ${line}\n`);
  }
  return 0;
}

/**
 * A run as it stands now: one recorded as running whose process is gone, or (run through the queue)
 * that made no progress for its lease time, is abandoned, though no run has marked it so yet.
 */
async function asSeenNow(lake: Lake, run: RunRecord): Promise<RunRecord> {
  if (run.status !== "running") return run;
  const now = new Date();
  const gone = ownerGone(run.owner);
  if (gone) return abandonedRecord(run, gone, now);
  const dispatch = run.owner ? undefined : (await new DispatchStore(lake).read(run.pipeline, run.runId))?.state;
  if (!dispatch || dispatch.status !== "running") return run;
  const idleSeconds = (now.getTime() - Date.parse(dispatch.updatedAt)) / 1000;
  const leaseSeconds = dispatch.leaseSeconds ?? 3600;
  return idleSeconds < leaseSeconds ? run
    : abandonedRecord(run, `no progress for ${Math.round(idleSeconds)} s (lease ${leaseSeconds} s); the next driver tick marks it so`, now);
}
