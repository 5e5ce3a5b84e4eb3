// The queue protocol's state for one run, in the lake beside the run record: which tasks are waiting,
// queued, running (claimed by which queue message), done. Every change is one ETag-conditional write, so
// of two executors racing (two inputs of one task finishing at once) exactly one makes each transition,
// and only the one that queues a dependent sends its message.

import type { Lake } from "../../lake/lake.ts";
import { lakePath, PreconditionFailed } from "../../lake/lake.ts";
import type { Task } from "../plan.ts";

export type DispatchStatus = "waiting" | "queued" | "running" | "succeeded" | "failed" | "skipped";

export interface DispatchTask {
  readonly task: Task;
  readonly status: DispatchStatus;
  /** The attempt a message must carry to run this task (1, then 2… after a retry). */
  readonly attempt: number;
  /** The queue message running it; a redelivery of that message may take over, any other is a duplicate. */
  readonly claim?: { readonly messageId: string; readonly at: string };
  readonly error?: string;
}

export interface DispatchState {
  readonly v: 1;
  readonly runId: string;
  readonly pipeline: string;
  readonly status: "running" | "succeeded" | "failed";
  readonly createdAt: string;
  /** Every transition moves it: the pipeline's lease is held while it is recent (see driver.ts). */
  readonly updatedAt: string;
  readonly options: { readonly fullRefresh: boolean };
  readonly tasks: Readonly<Record<string, DispatchTask>>;
  readonly failedTask?: string;
}

export function dispatchPath(pipeline: string, runId: string): string {
  return lakePath("_mallard", "dispatch", pipeline, `${runId}.json`);
}

const TERMINAL: ReadonlySet<DispatchStatus> = new Set(["succeeded", "failed", "skipped"]);
export const isTerminal = (status: DispatchStatus): boolean => TERMINAL.has(status);

/** A new run: tasks without inputs are queued, the rest wait. */
export function newDispatch(runId: string, pipeline: string, tasks: readonly Task[], options: { fullRefresh: boolean }, now: Date): DispatchState {
  const at = now.toISOString();
  return {
    v: 1, runId, pipeline, status: "running", createdAt: at, updatedAt: at, options,
    tasks: Object.fromEntries(tasks.map((task) => [task.id, { task, status: task.dependsOn.length ? "waiting" : "queued", attempt: 1 }])),
  };
}

export function dependentsOf(state: DispatchState, id: string): string[] {
  return Object.values(state.tasks).filter((t) => t.task.dependsOn.includes(id)).map((t) => t.task.id);
}

function withTasks(state: DispatchState, changes: Record<string, DispatchTask>, now: Date): DispatchState {
  const tasks = { ...state.tasks, ...changes };
  const all = Object.values(tasks);
  const done = all.every((t) => isTerminal(t.status));
  const failed = all.some((t) => t.status === "failed");
  return {
    ...state, tasks, updatedAt: now.toISOString(),
    status: done ? (failed ? "failed" : "succeeded") : state.status,
  };
}

/** Task succeeded: every waiting dependent whose inputs have now all succeeded is queued. */
export function succeed(state: DispatchState, id: string, now: Date): { next: DispatchState; queued: string[] } {
  const changes: Record<string, DispatchTask> = { [id]: { ...state.tasks[id], status: "succeeded", claim: undefined } };
  const view = { ...state.tasks, ...changes };
  const queued: string[] = [];
  for (const dep of dependentsOf(state, id)) {
    const t = view[dep];
    if (t.status === "waiting" && t.task.dependsOn.every((d) => view[d]?.status === "succeeded")) {
      changes[dep] = { ...t, status: "queued", attempt: 1 };
      queued.push(dep);
    }
  }
  return { next: withTasks(state, changes, now), queued };
}

/** Task failed for good: it is failed, everything downstream of it is skipped. */
export function fail(state: DispatchState, id: string, error: string, now: Date): DispatchState {
  const changes: Record<string, DispatchTask> = { [id]: { ...state.tasks[id], status: "failed", claim: undefined, error } };
  const stack = dependentsOf(state, id);
  while (stack.length) {
    const dep = stack.pop()!;
    const t = state.tasks[dep];
    if (changes[dep] || isTerminal(t.status)) continue;
    changes[dep] = { ...t, status: "skipped", claim: undefined, error: `input ${id} failed` };
    stack.push(...dependentsOf(state, dep));
  }
  return { ...withTasks(state, changes, now), failedTask: state.failedTask ?? id };
}

/** Task failed but may retry: queued again for the next attempt. */
export function requeue(state: DispatchState, id: string, error: string, now: Date): DispatchState {
  const t = state.tasks[id];
  return withTasks(state, { [id]: { ...t, status: "queued", attempt: t.attempt + 1, claim: undefined, error } }, now);
}

/** The message runs the task: claimed for this message id. */
export function claim(state: DispatchState, id: string, messageId: string, now: Date): DispatchState {
  return withTasks(state, { [id]: { ...state.tasks[id], status: "running", claim: { messageId, at: now.toISOString() } } }, now);
}

export class DispatchStore {
  constructor(readonly lake: Lake) {}

  async read(pipeline: string, runId: string): Promise<{ state: DispatchState; etag: string } | undefined> {
    const found = await this.lake.readJson<DispatchState>(dispatchPath(pipeline, runId));
    return found && { state: found.value, etag: found.etag };
  }

  async create(state: DispatchState): Promise<void> {
    await this.lake.writeJson(dispatchPath(state.pipeline, state.runId), state, { ifMatch: null });
  }

  /**
   * Read-modify-write until it lands. `change` sees the current state and returns the next one and a
   * result, or undefined to write nothing; what it returns from the call that landed is what happened.
   */
  async update<R>(
    pipeline: string,
    runId: string,
    change: (state: DispatchState) => { next: DispatchState; result: R } | { next?: undefined; result: R },
  ): Promise<R | undefined> {
    for (;;) {
      const current = await this.read(pipeline, runId);
      if (!current) return undefined;
      const { next, result } = change(current.state);
      if (!next) return result;
      try {
        await this.lake.writeJson(dispatchPath(pipeline, runId), next, { ifMatch: current.etag });
        return result;
      } catch (e) {
        if (!(e instanceof PreconditionFailed)) throw e;
      }
    }
  }
}
