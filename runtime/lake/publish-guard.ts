// May this publish go ahead? The one decision every publish of a table makes right before it becomes
// visible (the pointer write today; a Delta commit later, with the lineage in its commitInfo). Versions
// are ordered by the data they were computed from, not by the clock: a publish whose inputs are older
// than those of the current version steps aside, and a task whose run is no longer active publishes
// nothing at all.

import { MallardError } from "../errors.ts";

/**
 * The version of each input a table was computed from, by the input's lake root (`bronze/shop/orders`,
 * `silver/orders_clean`). Versions of one input only grow: a published table's pointer sequence, a
 * bronze table's count of committed batches.
 */
export type InputVersions = Readonly<Record<string, number>>;

/** What a version was computed from: recorded with it, compared by the next publish. */
export interface Lineage {
  readonly runId: string;
  readonly inputs: InputVersions;
}

export type PublishVerdict =
  | { readonly go: true }
  | { readonly go: false; readonly outcome: "abandoned" | "stale"; readonly reason: string };

/**
 * `next` may replace `current` when its task still holds its run (`active`) and none of its inputs is
 * older than the current version's. Equal inputs are the same data: the later run wins, so a model
 * changed by a deploy is not undone by an older run finishing last. Inputs only one side has (a model
 * whose inputs changed) do not order anything.
 */
export function mayPublish(current: Lineage | undefined, next: Lineage & { readonly active: boolean }): PublishVerdict {
  if (!next.active) return { go: false, outcome: "abandoned", reason: `run ${next.runId} is no longer active (abandoned, or its task was taken over)` };
  if (!current) return { go: true };
  let newer = false;
  for (const [input, version] of Object.entries(next.inputs)) {
    const theirs = current.inputs[input];
    if (theirs === undefined) continue;
    if (version < theirs) {
      return { go: false, outcome: "stale", reason: `read ${input} at version ${version}; the current version (run ${current.runId}) was computed from version ${theirs}` };
    }
    if (version > theirs) newer = true;
  }
  if (!newer && next.runId < current.runId) {
    return { go: false, outcome: "stale", reason: `same inputs as the current version, which a later run (${current.runId}) published` };
  }
  return { go: true };
}

/**
 * A task found that its run is no longer active (its lease expired and the run was abandoned, or another
 * executor took the task over) and stopped before changing what readers see. Not retried.
 */
export class TaskAbandoned extends MallardError {
  readonly exitCode = 1;
  constructor(readonly detail: string) {
    super(`stopped without publishing: ${detail}`);
    this.name = "TaskAbandoned";
  }
}
