// The poison handler: a task message the host gave up on (it crashed or timed out on every delivery) or
// that the executor moved there after the last attempt. The task is failed, its downstream skipped and,
// once nothing else is running, the run is marked failed. Repeating it changes nothing.

import { decodeTaskMessage, InvalidTaskMessage } from "../queue/message.ts";
import type { QueueRuntime } from "./context.ts";
import { type DispatchState, fail, isTerminal } from "./dispatch-state.ts";
import type { Delivery } from "./executor.ts";
import { finishRun, projectTerminalTasks } from "./records.ts";

export async function handlePoisonMessage(rt: QueueRuntime, body: unknown, delivery: Delivery): Promise<"failed-task" | "already-final" | "ignored"> {
  let message;
  try {
    message = decodeTaskMessage(body);
  } catch (e) {
    if (!(e instanceof InvalidTaskMessage)) throw e;
    rt.monitor.error(`poison: ${e.message}`, { messageId: delivery.messageId });
    return "ignored";
  }
  if (message.pipeline !== rt.pipeline.name) return "ignored";
  const log = rt.monitor.with({ runId: message.runId, task: message.task, attempt: message.attempt });
  const reason = `task message poisoned after ${delivery.dequeueCount} deliveries (the executor crashed or timed out each time)`;
  const result = await rt.dispatch.update<{ changed: boolean; state: DispatchState }>(message.pipeline, message.runId, (state) => {
    const t = state.tasks[message.task];
    if (!t || isTerminal(t.status) || t.attempt > message.attempt || state.status !== "running") return { result: { changed: false, state } };
    const next = fail(state, message.task, reason, rt.now());
    return { next, result: { changed: true, state: next } };
  });
  if (!result) return "ignored";
  if (result.changed) {
    await rt.records.update(message.pipeline, message.runId, (r) => {
      const current = r.tasks[message.task];
      return { ...r, tasks: { ...r.tasks, [message.task]: { ...current, status: "failed", error: current?.error ?? reason } } };
    });
    log.error(`poison: ${reason}`);
  }
  await projectTerminalTasks(rt, result.state);
  await finishRun(rt, result.state);
  return result.changed ? "failed-task" : "already-final";
}
