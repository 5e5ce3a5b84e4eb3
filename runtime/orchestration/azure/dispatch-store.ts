// Reads and writes a run's dispatch state (dispatch-state.ts) in the lake, as a JsonDocuments document:
// every transition is one ETag-conditional write, batched with the other transitions of this instance
// and started from the version it last saw (see lake/json-documents.ts for why that keeps each
// transition exactly once).

import { JsonDocuments } from "../../lake/json-documents.ts";
import type { Lake } from "../../lake/lake.ts";
import { type DispatchState, dispatchPath } from "./dispatch-state.ts";

/** What a change returns: the next state to write (none: write nothing) and its caller's result. */
export type DispatchChange<R> = (state: DispatchState) => { next: DispatchState; result: R } | { next?: undefined; result: R };

export class DispatchStore {
  private readonly documents: JsonDocuments<DispatchState>;

  constructor(readonly lake: Lake) {
    // A finished run changes no more: only active runs are remembered.
    this.documents = new JsonDocuments<DispatchState>(lake, { remember: (state) => state.status === "running" });
  }

  /** The state as the lake holds it now (always a read). */
  async read(pipeline: string, runId: string): Promise<{ state: DispatchState; etag: string } | undefined> {
    const found = await this.documents.read(dispatchPath(pipeline, runId));
    return found && { state: found.value, etag: found.etag };
  }

  /**
   * Whether this instance last saw the run running (from its own reads and writes, without asking the
   * lake): another instance may have ended it since. A run seen ending is forgotten, so false is sure
   * only in that it says nothing.
   */
  seenRunning(pipeline: string, runId: string): boolean {
    return this.documents.remembered(dispatchPath(pipeline, runId))?.status === "running";
  }

  async create(state: DispatchState): Promise<void> {
    await this.documents.create(dispatchPath(state.pipeline, state.runId), state);
  }

  /**
   * Apply `change` to the current state and write the result, conditional on that state's ETag, until it
   * lands. `change` must be a pure function of the state it is given (it may run more than once); what
   * it returns from the call whose state held is what happened. Undefined when the run has no state.
   */
  async update<R>(pipeline: string, runId: string, change: DispatchChange<R>): Promise<R | undefined> {
    const { result } = await this.documents.update<R | undefined>(dispatchPath(pipeline, runId), (state) => (state ? change(state) : { result: undefined }));
    return result;
  }
}
