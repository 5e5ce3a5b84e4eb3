// Status colours and a stage's status in a run (the worst of its tasks: a partitioned table has several).

import type { RunRecord, TaskRecord, TaskStatus } from "../state/run-records.ts";

/** `not run`: the stage was not selected for this run. */
export type StageStatus = TaskStatus | "not run";

export const STATUS_COLOURS: Readonly<Record<StageStatus, string>> = {
  succeeded: "#2e9d5b",
  failed: "#d64545",
  abandoned: "#e08a1e",
  running: "#3b7dd8",
  pending: "#9aa5b1",
  skipped: "#b8bfc7",
  "not run": "#eef1f4",
};

const WORST_FIRST: readonly TaskStatus[] = ["failed", "abandoned", "running", "pending", "skipped", "succeeded"];

// A report asks for the tasks of each stage many times (DAG, lineage, tables): indexed once per record.
const byStage = new WeakMap<RunRecord, Map<string, TaskRecord[]>>();

export function tasksOfStage(run: RunRecord, stage: string): TaskRecord[] {
  let index = byStage.get(run);
  if (!index) {
    index = new Map();
    for (const t of Object.values(run.tasks)) (index.get(t.stage) ?? index.set(t.stage, []).get(t.stage)!).push(t);
    byStage.set(run, index);
  }
  return [...(index.get(stage) ?? [])];
}

export function stageStatus(run: RunRecord, stage: string): StageStatus {
  const statuses = new Set(tasksOfStage(run, stage).map((t) => t.status));
  return WORST_FIRST.find((s) => statuses.has(s)) ?? "not run";
}
