// The task graph of a run: the tasks of each selected stage (one, unless its kind splits it), each
// depending on the selected tasks of its inputs. The local runner and the Azure driver both start here.

import { inputsOf, type Pipeline } from "../declare/pipeline.ts";
import type { Stage } from "../declare/stages.ts";
import { ConfigError } from "../errors.ts";
import { kindOf } from "../stages/index.ts";

export interface Task {
  /** Unique in the run; the stage name (partitioned tasks add `#<n>`). */
  readonly id: string;
  readonly stage: string;
  readonly dependsOn: readonly string[];
  /** One of the parallel tasks of a stage (a partitioned bronze table's extraction); its stage's own task commits them. */
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
    .flatMap((stage) => kindOf(stage).tasks(stage, Object.values(inputsOf(stage)).map((i) => i.name).filter((n) => selected.has(n))));
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
