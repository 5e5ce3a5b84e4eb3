// What every stage kind's run side provides: the tasks a run of it is made of, the code that runs a
// task, what a model that reads it sees, and its lines in `mallard plan` and `mallard status`. Each kind
// is one module, runtime/stages/<kind>.ts (or <kind>/index.ts), listed in ./index.ts; its declaration
// side is runtime/declare/kinds/<kind>.ts and its resources infra/stages/<kind>.ts.

import type { DuckDBConnection } from "@duckdb/node-api";
import type { Stage } from "../declare/stages.ts";
import type { Lake } from "../lake/lake.ts";
import type { AsOf } from "../lake/delta/replay.ts";
import type { InputVersions } from "../lake/publish-guard.ts";
import type { Task } from "../orchestration/plan.ts";
import type { StageContext, StageOutcome } from "./context.ts";

export interface StageKindModule<S extends Stage> {
  /** The tasks of one run of the stage; each depends on `dependsOn` (its selected inputs' tasks). */
  tasks(stage: S, dependsOn: readonly string[]): Task[];
  /**
   * Run one of those tasks. Import the run code inside (`await import("./run.ts")`): the Azure driver
   * and `mallard plan` read this registry, and must not load DuckDB to do it.
   */
  run(ctx: StageContext<S>, task: Task): Promise<StageOutcome>;
  /** What a model that reads this stage sees. */
  readonly views: InputViews<S>;
  /** What `mallard plan` says about the stage after its name and kind. */
  describe(stage: S): string;
  /** What `mallard status` says about it in `pipeline` (its checkpoint, say), or undefined when there is nothing to say. */
  status(stage: S, lake: Lake, pipeline: string): Promise<string | undefined>;
}

/** Who reads an input: the pipeline (a bronze table is the pipeline's own, see bronze-table/table-root.ts) and the reading stage (for messages). */
export interface InputReader {
  readonly pipeline: string;
  /** The model reading, or what reads (`query`, `key scan`). */
  readonly stage: string;
}

export interface InputViews<S extends Stage> {
  /** Views offered besides the main one, by suffix (`__history`); a model's SQL may read them as well. */
  readonly companions: readonly string[];
  /**
   * Create the view `view` (and its companions) over the stage's current data (or its data as of a
   * version or a time, for `mallard query --as-of`), for `reader`. Returns the version of each
   * table read (by lake root), which the reader's publish records. Like `run`, import inside whatever
   * loads DuckDB (the Delta reader does).
   */
  register(con: DuckDBConnection, lake: Lake, view: string, stage: S, reader: InputReader, asOf?: AsOf): Promise<InputVersions>;
}

/** Most kinds run as one task named after the stage. */
export function oneTask(stage: Stage, dependsOn: readonly string[]): Task[] {
  return [{ id: stage.name, stage: stage.name, dependsOn }];
}

/** For kinds with nothing to show in `mallard status`. */
export const noStatus = async (): Promise<undefined> => undefined;
