// The task graph of a run: one task per selected stage, each depending on the selected tasks of its
// inputs. The local runner and the Azure driver both start from this plan.

import { inputsOf, type Pipeline } from "../declare/pipeline.ts";
import { partitionTasks, type Stage } from "../declare/stages.ts";
import { ConfigError } from "../errors.ts";

export interface Task {
  /** Unique in the run; the stage name (partitioned tasks add `#<n>`). */
  readonly id: string;
  readonly stage: string;
  readonly dependsOn: readonly string[];
  /** One of the parallel extraction tasks of a partitioned bronze table; its stage's own task commits them. */
  readonly partition?: { readonly index: number; readonly count: number };
}

export interface PlanOptions {
  /**
   * Stage selectors, dbt style: `orders` (just it), `+orders` (it and everything upstream),
   * `orders+` (it and everything downstream). Default: every stage.
   */
  readonly select?: readonly string[];
}

export function planTasks(pipeline: Pipeline, options: PlanOptions = {}): Task[] {
  const selected = selectStages(pipeline, options.select);
  return pipeline.stages
    .filter((s) => selected.has(s.name))
    .flatMap((stage) => {
      const dependsOn = Object.values(inputsOf(stage)).map((i) => i.name).filter((n) => selected.has(n));
      if (stage.kind !== "bronze.table" || !stage.partitions) return [{ id: stage.name, stage: stage.name, dependsOn }];
      // A partitioned table: parallel extraction tasks, then the stage's own task, which commits them all.
      const count = partitionTasks(stage.partitions);
      const parts = Array.from({ length: count }, (_, index) => ({ id: `${stage.name}#${index}`, stage: stage.name, dependsOn, partition: { index, count } }));
      return [...parts, { id: stage.name, stage: stage.name, dependsOn: parts.map((p) => p.id) }];
    });
}

export function stageByName(pipeline: Pipeline, name: string): Stage {
  const stage = pipeline.stages.find((s) => s.name === name);
  if (!stage) throw new ConfigError([`pipeline "${pipeline.name}": no stage named "${name}" (stages: ${pipeline.stages.map((s) => s.name).join(", ")})`]);
  return stage;
}

function selectStages(pipeline: Pipeline, selectors: readonly string[] | undefined): Set<string> {
  if (!selectors || selectors.length === 0) return new Set(pipeline.stages.map((s) => s.name));
  const upstream = (name: string) => Object.values(inputsOf(stageByName(pipeline, name))).map((i) => i.name);
  const downstream = (name: string) =>
    pipeline.stages.filter((s) => Object.values(inputsOf(s)).some((i) => i.name === name)).map((s) => s.name);
  const result = new Set<string>();
  const closure = (name: string, next: (n: string) => string[]) => {
    for (const n of next(name)) {
      if (!result.has(n)) {
        result.add(n);
        closure(n, next);
      }
    }
  };
  for (const selector of selectors) {
    const name = selector.replace(/^\+|\+$/g, "");
    result.add(stageByName(pipeline, name).name);
    if (selector.startsWith("+")) closure(name, upstream);
    if (selector.endsWith("+")) closure(name, downstream);
  }
  return result;
}
