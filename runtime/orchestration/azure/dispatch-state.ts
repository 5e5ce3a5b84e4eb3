// The queue protocol's state for one run, in the lake beside the run record: which tasks are waiting,
// queued, running (claimed by which queue message), done. Every change is one ETag-conditional write, so
// of two executors racing (two inputs of one task finishing at once) exactly one makes each transition,
// and only the one that queues a dependent sends its message. The store that reads and writes it:
// dispatch-store.ts.

import { lakePath } from "../../lake/lake.ts";
import type { RunOwner, TaskRecord } from "../../state/run-records.ts";
import type { Task } from "../plan.ts";

/** `abandoned`: the run stopped being active (lease expired, process died) before the task finished. */
export type DispatchStatus = "waiting" | "queued" | "running" | "succeeded" | "failed" | "skipped" | "abandoned";

export interface DispatchTask {
  readonly task: Task;
  readonly status: DispatchStatus;
  /** The attempt a message must carry to run this task (1, then 2… after a retry). */
  readonly attempt: number;
  /**
   * Who runs it: the queue message (a redelivery of it may take over, any other message is a duplicate)
   * and a token of this very claim, so an executor that was taken over knows it no longer holds the task.
   */
  readonly claim?: { readonly messageId: string; readonly token: string; readonly at: string };
  /** How often the queue delivered this attempt's message, as of its last claim (the host's dequeueCount). */
  readonly deliveries?: number;
  /** The task's record once it ended, so the run record can always be brought in step from here. */
  readonly result?: TaskRecord;
  readonly error?: string;
}

export interface DispatchState {
  readonly v: 1;
  readonly runId: string;
  readonly pipeline: string;
  readonly status: "running" | "succeeded" | "failed" | "abandoned";
  readonly createdAt: string;
  /** Every transition moves it: the pipeline's lease is held while it is recent (see driver.ts). */
  readonly updatedAt: string;
  readonly options: { readonly fullRefresh: boolean };
  readonly tasks: Readonly<Record<string, DispatchTask>>;
  readonly failedTask?: string;
  /** After this long without a transition the run is abandoned (the driver's lease time). */
  readonly leaseSeconds?: number;
  /** The process the run lives in, when its queue is in that process: the run dies with it. */
  readonly owner?: RunOwner;
  /** Why the run was abandoned. */
  readonly abandonedBecause?: string;
}

export function dispatchPath(pipeline: string, runId: string): string {
  return lakePath("_mallard", "dispatch", pipeline, `${runId}.json`);
}

const TERMINAL: ReadonlySet<DispatchStatus> = new Set(["succeeded", "failed", "skipped", "abandoned"]);
export const isTerminal = (status: DispatchStatus): boolean => TERMINAL.has(status);

/** A new run: tasks without inputs are queued, the rest wait. */
export function newDispatch(
  runId: string,
  pipeline: string,
  tasks: readonly Task[],
  options: { fullRefresh: boolean },
  now: Date,
  life: { leaseSeconds?: number; owner?: RunOwner } = {},
): DispatchState {
  const at = now.toISOString();
  return {
    v: 1, runId, pipeline, status: "running", createdAt: at, updatedAt: at, options, ...life,
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
export function succeed(state: DispatchState, id: string, now: Date, result?: TaskRecord): { next: DispatchState; queued: string[] } {
  const changes: Record<string, DispatchTask> = { [id]: { ...state.tasks[id], status: "succeeded", claim: undefined, result } };
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
export function fail(state: DispatchState, id: string, error: string, now: Date, result?: TaskRecord): DispatchState {
  const changes: Record<string, DispatchTask> = { [id]: { ...state.tasks[id], status: "failed", claim: undefined, error, result } };
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
  return withTasks(state, { [id]: { ...t, status: "queued", attempt: t.attempt + 1, claim: undefined, deliveries: undefined, error } }, now);
}

/** The message runs the task: claimed for this message id, under a token only this claim knows. */
export function claim(state: DispatchState, id: string, delivery: { messageId: string; dequeueCount: number }, token: string, now: Date): DispatchState {
  const claimed: DispatchTask = {
    ...state.tasks[id], status: "running", claim: { messageId: delivery.messageId, token, at: now.toISOString() }, deliveries: delivery.dequeueCount,
  };
  return withTasks(state, { [id]: claimed }, now);
}

/**
 * The run stopped being active (its lease expired, its process died): every task not yet finished is
 * abandoned, and so is the run. A task still working finds out before it publishes (`holdsTask`).
 */
export function abandon(state: DispatchState, reason: string, now: Date): DispatchState {
  const changes: Record<string, DispatchTask> = {};
  for (const t of Object.values(state.tasks)) {
    if (!isTerminal(t.status)) changes[t.task.id] = { ...t, status: "abandoned", claim: undefined, error: reason };
  }
  return { ...state, tasks: { ...state.tasks, ...changes }, updatedAt: now.toISOString(), status: "abandoned", abandonedBecause: reason };
}

/** Whether this claim still holds its task: the run is active and nobody took the task over. */
export function holdsClaim(state: DispatchState | undefined, task: string, token: string): boolean {
  const t = state?.tasks[task];
  return state?.status === "running" && t?.status === "running" && t.claim?.token === token;
}
