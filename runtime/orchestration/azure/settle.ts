// After a task ran: record its result and move the run on (queue its dependents, retry it, or fail it and
// skip its downstream), all in dispatch writes that land only while this executor still holds the task.

import { describeError } from "../../errors.ts";
import { crashPoint } from "../../faults.ts";
import type { TaskRecord } from "../../state/run-records.ts";
import { encodeTaskMessage, type TaskMessage } from "../queue/message.ts";
import type { QueueRuntime } from "./context.ts";
import { fail, holdsClaim, requeue, succeed } from "./dispatch-state.ts";
import type { TaskOutcome } from "./executor.ts";
import { finishRun, projectTasks } from "./records.ts";

/**
 * Record a finished task and move the run on, in one conditional dispatch write that holds only while
 * this claim still holds the task; an executor that lost it (its run was abandoned, or a redelivery took
 * the task over) records only what it did, and only when nobody else owns the record.
 */
export async function settleTask(rt: QueueRuntime, m: TaskMessage, record: TaskRecord, token: string): Promise<TaskOutcome> {
  const log = rt.monitor.with({ runId: m.runId, task: m.task, attempt: m.attempt });
  const attempt = m.attempt;
  const lost = async (): Promise<TaskOutcome> => {
    await recordLostTask(rt, m, record);
    return { action: "ran", record, queued: [] };
  };
  if (record.status === "abandoned") return lost();

  if (record.status === "succeeded") {
    const outcome = await rt.dispatch.update(m.pipeline, m.runId, (s) => {
      if (!holdsClaim(s, m.task, token)) return { result: undefined };
      const { next, queued } = succeed(s, m.task, rt.now(), record);
      return { next, result: { queued, state: next } };
    });
    if (!outcome) return lost();
    crashPoint("executor:{task}:after-result", { task: m.task });
    await rt.records.setTask(m.pipeline, m.runId, record);
    crashPoint("executor:{task}:before-dispatch", { task: m.task });
    await Promise.all(outcome.queued.map((id) => rt.queue.send({ v: 1, runId: m.runId, pipeline: m.pipeline, task: id, attempt: 1 })));
    if (outcome.queued.length) log.info(`executor: queued ${outcome.queued.join(", ")}`);
    await finishRun(rt, outcome.state);
    return { action: "ran", record, queued: outcome.queued };
  }

  const error = record.error ?? "failed";
  const checkFailed = record.checks?.some((c) => !c.passed && c.severity === "fail") ?? false;
  if (!checkFailed && record.retryable !== false && attempt < rt.retry.maxAttempts) {
    const delay = rt.backoffSeconds(attempt + 1);
    const requeued = await rt.dispatch.update(m.pipeline, m.runId, (s) =>
      holdsClaim(s, m.task, token) ? { next: requeue(s, m.task, error, rt.now()), result: true } : { result: false });
    if (!requeued) return lost();
    await rt.records.setTask(m.pipeline, m.runId, {
      ...record, status: "pending", note: `attempt ${attempt} failed: ${error}; attempt ${attempt + 1} of ${rt.retry.maxAttempts} in ${delay} s`,
    });
    await rt.queue.send({ ...m, attempt: attempt + 1 }, { delaySeconds: delay });
    log.warn(`executor: attempt ${attempt} failed, retrying in ${delay} s: ${error}`);
    return { action: "ran", record, queued: [], retryIn: delay };
  }

  // Out of attempts (or a quality check failed, which a retry cannot fix): the task fails, its downstream
  // is skipped, and the message goes to the poison queue where operators look.
  const failed = await rt.dispatch.update(m.pipeline, m.runId, (s) => {
    if (!holdsClaim(s, m.task, token)) return { result: undefined };
    const next = fail(s, m.task, error, rt.now(), record);
    return { next, result: next };
  });
  if (!failed) return lost();
  await rt.records.setTask(m.pipeline, m.runId, record);
  await projectTasks(rt, failed);
  await rt.queue.sendPoison(encodeTaskMessage(m));
  log.error(`executor: task ${m.task} failed ${checkFailed ? "a quality check" : record.retryable === false ? "(not retryable)" : `after ${attempt} attempts`}: ${describeError(error)}`);
  await finishRun(rt, failed);
  return { action: "ran", record, queued: [] };
}

/**
 * A task whose claim no longer held when it ended. If its run was abandoned, its record says what it did:
 * `succeeded` if it published before that, else `abandoned`. Otherwise another executor took the task
 * over and owns its record, and this one only logs.
 */
async function recordLostTask(rt: QueueRuntime, m: TaskMessage, record: TaskRecord): Promise<void> {
  const log = rt.monitor.with({ runId: m.runId, task: m.task, attempt: m.attempt });
  const state = (await rt.dispatch.read(m.pipeline, m.runId))?.state;
  if (state?.status !== "abandoned") {
    log.warn(`executor: task ${m.task} was taken over by another executor while it ran; its result (${record.status}) is not recorded`);
    return;
  }
  const why = `its run was abandoned while it ran (${state.abandonedBecause ?? "no longer active"})`;
  const outcome: TaskRecord = record.status === "succeeded"
    ? { ...record, note: `${why}; it had already published` }
    : { ...record, status: "abandoned", note: `${why}; it published nothing${record.status === "abandoned" ? "" : ` (it ended ${record.status}: ${record.error ?? ""})`}` };
  await rt.records.update(m.pipeline, m.runId, (r) => r.tasks[m.task]?.status === "succeeded" ? r : { ...r, tasks: { ...r.tasks, [m.task]: outcome } });
  log.warn(`executor: task ${m.task} finished after ${why}; recorded ${outcome.status}`);
}

