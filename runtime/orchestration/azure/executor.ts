// The executor: runs the one task a queue message names, records the result, and queues every dependent
// whose inputs are now all done. Delivery is at least once, so the message is checked against the
// dispatch state first: a finished task, a stale attempt or a duplicate of a running task does nothing.

import { throttledProgress } from "../../telemetry/progress.ts";
import { randomUUID } from "node:crypto";
import { crashPoint } from "../../faults.ts";
import { AzureLake } from "../../lake/azure-lake.ts";
import type { StageContext } from "../../stages/context.ts";
import type { SourceConnector } from "../../sources/source.ts";
import type { TaskRecord } from "../../state/run-records.ts";
import { stageByName } from "../plan.ts";
import { decodeTaskMessage, InvalidTaskMessage, type TaskMessage } from "../queue/message.ts";
import type { QueueRuntime } from "./context.ts";
import { claim, type DispatchState, dependentsOf, holdsClaim } from "./dispatch-state.ts";
import { keepInvalid } from "./poison.ts";
import { finishRun, projectTasks } from "./records.ts";
import { settleTask } from "./settle.ts";

/** At most one progress event per task this often (Application Insights ingestion is billed per GB). */
export const PROGRESS_TELEMETRY_MS = 10_000;

/** What the queue told us about this delivery (the Functions host's trigger metadata). */
export interface Delivery {
  /** Stays the same when the queue redelivers the message. */
  readonly messageId: string;
  /** 1 on first delivery. */
  readonly dequeueCount: number;
}

export type TaskOutcome =
  | { readonly action: "ran"; readonly record: TaskRecord; readonly queued: readonly string[]; readonly retryIn?: number }
  | { readonly action: "ignored"; readonly reason: string };

type Decision =
  /** `state`: the claim as it was written, which the task runs from (no need to read it back). */
  | { run: true; attempt: number; takeover: boolean; token: string; state: DispatchState }
  | { run: false; reason: string; resend: TaskMessage[]; state?: DispatchState };

export async function handleTaskMessage(rt: QueueRuntime, body: unknown, delivery: Delivery): Promise<TaskOutcome> {
  let message: TaskMessage;
  try {
    message = decodeTaskMessage(body);
  } catch (e) {
    if (!(e instanceof InvalidTaskMessage)) throw e;
    // Retrying cannot fix it: into the poison queue with the reason, where an operator sees it.
    rt.monitor.error(`executor: ${e.message}; kept in the poison queue`, { messageId: delivery.messageId });
    await keepInvalid(rt, body, e.message);
    return { action: "ignored", reason: e.message };
  }
  const log = rt.monitor.with({ runId: message.runId, task: message.task, attempt: message.attempt });
  if (message.pipeline !== rt.pipeline.name) {
    log.warn(`executor: message for pipeline ${message.pipeline}, this app runs ${rt.pipeline.name}; ignored`);
    return { action: "ignored", reason: "other pipeline" };
  }

  // This claim's own token: a takeover by a redelivery of the same message gets another one.
  const token = randomUUID();
  const decision = await rt.dispatch.update<Decision>(message.pipeline, message.runId, (state) => decide(rt, state, message, delivery, token));
  if (!decision) {
    log.warn("executor: no such run; ignored");
    return { action: "ignored", reason: "unknown run" };
  }
  if (!decision.run) {
    // A redelivery may follow a crash between recording a result and sending what it queued.
    for (const m of decision.resend) await rt.queue.send(m);
    // ...or between the dispatch write and the run-record write: the record is repaired from the dispatch state.
    if (decision.state && delivery.dequeueCount > 1) await projectTasks(rt, decision.state);
    if (decision.state && decision.state.status !== "running") await finishRun(rt, decision.state);
    log.info(`executor: ${decision.reason}; nothing to do`, { dequeueCount: delivery.dequeueCount, resent: decision.resend.length });
    return { action: "ignored", reason: decision.reason };
  }
  crashPoint("executor:{task}:after-claim", { task: message.task });
  return runClaimed(rt, message, delivery, decision);
}

function decide(rt: QueueRuntime, state: DispatchState, m: TaskMessage, d: Delivery, token: string): { next?: DispatchState; result: Decision } {
  const ignore = (reason: string) => ({ result: { run: false as const, reason, resend: d.dequeueCount > 1 ? owed(state, m) : [], state } });
  if (state.status !== "running") return ignore(`run already ${state.status}`);
  const t = state.tasks[m.task];
  if (!t) return ignore(`task ${m.task} is not in this run`);
  const run = (takeover: boolean) => {
    const next = claim(state, m.task, d, token, rt.now());
    return { next, result: { run: true as const, attempt: t.attempt, takeover, token, state: next } };
  };
  if (t.status === "queued" && t.attempt === m.attempt) return run(false);
  // The queue redelivered the very message that claimed it: its executor died or timed out. Take over.
  if (t.status === "running" && t.claim?.messageId === d.messageId && t.attempt === m.attempt) return run(true);
  if (t.status === "running") return ignore(`task ${m.task} is already running for another message (duplicate)`);
  if (t.status === "queued") return ignore(`stale attempt ${m.attempt} (task is at attempt ${t.attempt})`);
  return ignore(`task ${m.task} already ${t.status}`);
}

/** Messages this task's earlier handling should have sent: its own retry, and dependents it queued. */
function owed(state: DispatchState, m: TaskMessage): TaskMessage[] {
  if (state.status !== "running") return [];
  const msg = (task: string, attempt: number): TaskMessage => ({ v: 1, runId: m.runId, pipeline: m.pipeline, task, attempt });
  const self = state.tasks[m.task];
  if (!self) return [];
  if (self.status === "queued" && self.attempt > m.attempt) return [msg(m.task, self.attempt)];
  if (self.status !== "succeeded") return [];
  return dependentsOf(state, m.task)
    .map((id) => state.tasks[id])
    .filter((t) => t.status === "queued" && !t.claim)
    .map((t) => msg(t.task.id, t.attempt));
}

async function runClaimed(
  rt: QueueRuntime,
  m: TaskMessage,
  delivery: Delivery,
  claimed: { attempt: number; takeover: boolean; token: string; state: DispatchState },
): Promise<TaskOutcome> {
  const { attempt, token, state } = claimed;
  const task = state.tasks[m.task].task;
  const stage = stageByName(rt.pipeline, task.stage);
  const log = rt.monitor.with({ runId: m.runId, task: task.id, attempt });
  log.info(`executor: ${claimed.takeover ? "taking over" : "running"} task ${task.id}`, { dequeueCount: delivery.dequeueCount });
  // The stage need not wait for its "running" entry (a lake round trip); it lands before the outcome's.
  const running = rt.records.setTask(m.pipeline, m.runId, {
    task: task.id, stage: stage.name, kind: stage.kind, status: "running", attempt, startedAt: rt.now().toISOString(),
  });
  running.catch(() => undefined);

  rt.emit({ type: "task-start", task });
  const connectors = new Map<string, Promise<SourceConnector>>();
  // On Azure, files this task staged for DuckDB are unpinned from the instance's cache when it ends.
  const scoped = rt.lake instanceof AzureLake ? rt.lake.scope() : undefined;
  const lake = scoped ?? rt.lake;
  let record: TaskRecord;
  try {
    const ctx: StageContext = {
      pipeline: rt.pipeline, stage, runId: m.runId, lake, engine: await rt.getEngine(), secrets: rt.secrets,
      projectRoot: rt.projectRoot, fullRefresh: state.options.fullRefresh,
      connector: (source) => {
        if (!connectors.has(source.name)) connectors.set(source.name, rt.connect(source, rt.secrets, rt.lake));
        return connectors.get(source.name)!;
      },
      log: (text) => {
        log.info(text);
        rt.emit({ type: "task-log", task, message: text });
      },
      // Bounded: one line and one telemetry event per PROGRESS_TELEMETRY_MS per task, none for a shorter task.
      progress: throttledProgress(PROGRESS_TELEMETRY_MS, (snapshot) => log.taskProgress(task.id, stage.name, snapshot)),
      holdsTask: async () => holdsClaim((await rt.dispatch.read(m.pipeline, m.runId))?.state, task.id, token),
    };
    record = await rt.runTask(task, ctx, attempt);
  } finally {
    for (const pending of connectors.values()) await pending.then((c) => c.close(), () => undefined);
    await scoped?.close();
    await running;
  }
  crashPoint("executor:{task}:after-task", { task: task.id });
  log.taskFinished(record);
  rt.emit({ type: "task-end", task, record });
  return settleTask(rt, m, record, token);
}
