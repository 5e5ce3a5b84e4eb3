// The poison handler: a task message the host gave up on (it crashed or timed out on every delivery) or
// that the executor moved there after the last attempt. The task is failed, its downstream skipped and,
// once nothing else is running, the run is marked failed. Repeating it changes nothing. A message that is
// not a task message is kept in the poison queue with the reason, where operators look.

import { decodeTaskMessage, encodeKeptMessage, InvalidTaskMessage, readKeptMessage } from "../queue/message.ts";
import type { QueueRuntime } from "./context.ts";
import { type DispatchState, fail, isTerminal } from "./dispatch-state.ts";
import type { Delivery } from "./executor.ts";
import { finishRun, projectTasks } from "./records.ts";

export async function handlePoisonMessage(rt: QueueRuntime, body: unknown, delivery: Delivery): Promise<"failed-task" | "already-final" | "kept" | "ignored"> {
  const kept = readKeptMessage(body);
  if (kept) {
    // Surfaced after its parking time: park it again, unchanged.
    await rt.queue.sendPoison(encodeKeptMessage(kept), { delaySeconds: rt.parkSeconds });
    return "kept";
  }
  let message;
  try {
    message = decodeTaskMessage(body);
  } catch (e) {
    if (!(e instanceof InvalidTaskMessage)) throw e;
    rt.monitor.error(`poison: ${e.message}; kept in the poison queue`, { messageId: delivery.messageId });
    await keepInvalid(rt, body, e.message);
    return "kept";
  }
  if (message.pipeline !== rt.pipeline.name) return "ignored";
  const log = rt.monitor.with({ runId: message.runId, task: message.task, attempt: message.attempt });
  let reason = "";
  const result = await rt.dispatch.update<{ changed: boolean; state: DispatchState }>(message.pipeline, message.runId, (state) => {
    const t = state.tasks[message.task];
    if (!t || isTerminal(t.status) || t.attempt > message.attempt || state.status !== "running") return { result: { changed: false, state } };
    // The poison message's own dequeue count is 1; the deliveries that failed are counted at each claim.
    reason = t.deliveries
      ? `task message poisoned after ${t.deliveries} deliveries (the executor crashed or timed out each time)`
      : "task message poisoned: every delivery failed before the task started";
    const next = fail(state, message.task, reason, rt.now());
    return { next, result: { changed: true, state: next } };
  });
  if (!result) return "ignored";
  if (result.changed) log.error(`poison: ${reason}`);
  await projectTasks(rt, result.state);
  await finishRun(rt, result.state);
  return result.changed ? "failed-task" : "already-final";
}

/**
 * Keep a message that is not a task message in the poison queue, wrapped with the reason. The poison
 * trigger would take it straight back, so it is parked (invisible for `parkSeconds`, a week by default,
 * the longest Azure allows) and parked again each time it surfaces: the queue's message count shows it,
 * and its text says what was wrong.
 */
export async function keepInvalid(rt: QueueRuntime, body: unknown, reason: string): Promise<void> {
  const text = typeof body === "string" ? body : Buffer.isBuffer(body) ? body.toString("utf8") : JSON.stringify(body);
  await rt.queue.sendPoison(encodeKeptMessage({ kept: "invalid task message", reason, body: text, at: rt.now().toISOString() }), { delaySeconds: rt.parkSeconds });
}
