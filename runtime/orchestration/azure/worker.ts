// A queue worker that does what the Functions host does for the queue triggers: receive a message, keep
// it invisible while the handler runs, delete it on success, make it visible again on failure, and move
// it to the poison queue after `maxDequeueCount` deliveries. `mallard run --queue --workers N` and the
// tests run executors this way, against Azurite or the in-process queue.

import { setTimeout as sleep } from "node:timers/promises";
import { describeError, LakeError, MallardError } from "../../errors.ts";
import type { RunRecord } from "../../state/run-records.ts";
import type { ReceivedMessage } from "../queue/task-queue.ts";
import { QueueRuntime, type QueueRuntimeOptions } from "./context.ts";
import { startRun } from "./driver.ts";
import { handleTaskMessage } from "./executor.ts";
import { handlePoisonMessage } from "./poison.ts";

export interface WorkerOptions {
  /** How long a received message stays invisible; renewed at half-time while its task runs. @default 600 */
  visibilitySeconds?: number;
  /** Delay before a message whose handler threw is seen again (host.json `visibilityTimeout`). @default 0 */
  retryDelaySeconds?: number;
  /** Deliveries before a message goes to the poison queue (host.json `maxDequeueCount`). @default 5 */
  maxDequeueCount?: number;
  /** Pause when the queue is empty. @default 250 */
  pollMs?: number;
  /** Stop when this resolves true (checked between messages). */
  until?: () => Promise<boolean>;
  signal?: AbortSignal;
}

/**
 * One worker: one message at a time, until `until` says stop or `signal` aborts. Resolves `"stopped"`
 * when it stopped claiming because it could not keep a message invisible (see `deliver`).
 */
export async function runWorker(rt: QueueRuntime, options: WorkerOptions = {}): Promise<"done" | "stopped"> {
  const visibilitySeconds = options.visibilitySeconds ?? 600;
  const maxDequeueCount = options.maxDequeueCount ?? 5;
  while (!options.signal?.aborted) {
    if (options.until && (await options.until())) return "done";
    const [message] = await rt.queue.receive({ max: 1, visibilityTimeoutSeconds: visibilitySeconds });
    if (message) {
      const held = await deliver(rt, message, { visibilitySeconds, maxDequeueCount, retryDelaySeconds: options.retryDelaySeconds ?? 0 });
      if (!held) return "stopped";
      continue;
    }
    const [poison] = await rt.queue.receivePoison({ max: 1, visibilityTimeoutSeconds: visibilitySeconds });
    if (poison) {
      await handlePoisonMessage(rt, poison.body, { messageId: poison.id, dequeueCount: poison.dequeueCount });
      await poison.complete();
      continue;
    }
    await sleep(options.pollMs ?? 250, undefined, { signal: options.signal }).catch(() => undefined);
  }
  return "done";
}

/**
 * Handle one message, keeping it invisible (renewed at half-time) while its task runs. Returns false when
 * a renewal failed: the message may already be another worker's, which then takes the task over (this
 * task's publish is refused by then), and a worker that cannot hold its messages should take no more.
 */
async function deliver(
  rt: QueueRuntime,
  message: ReceivedMessage,
  o: { visibilitySeconds: number; maxDequeueCount: number; retryDelaySeconds: number },
): Promise<boolean> {
  if (message.dequeueCount > o.maxDequeueCount) {
    // Delivered too often without success (its executors crashed): the host moves such a message.
    await rt.queue.sendPoison(message.body);
    await message.complete();
    return true;
  }
  let lost: unknown;
  const renew = setInterval(() => {
    message.abandon(o.visibilitySeconds).catch((error: unknown) => {
      if (lost !== undefined) return;
      lost = error;
      clearInterval(renew);
      rt.monitor.error(
        `worker: could not keep message ${message.id} invisible (${describeError(error)}); another worker may take its task over; this worker stops claiming messages`,
        { messageId: message.id },
      );
    });
  }, (o.visibilitySeconds * 1000) / 2);
  // Once the message is not ours any more, completing or releasing it may fail: that is expected then.
  const settle = (step: Promise<void>) => step.catch((error: unknown) => {
    if (lost === undefined) throw error;
  });
  try {
    await handleTaskMessage(rt, message.body, { messageId: message.id, dequeueCount: message.dequeueCount });
    clearInterval(renew);
    await settle(message.complete());
  } catch (error) {
    clearInterval(renew);
    rt.monitor.error(`worker: handler failed: ${describeError(error)}`, { messageId: message.id });
    if (message.dequeueCount >= o.maxDequeueCount) {
      await rt.queue.sendPoison(message.body);
      await settle(message.complete());
    } else {
      await settle(message.abandon(o.retryDelaySeconds));
    }
  }
  return lost === undefined;
}

/** The driver refused to start: another run of the pipeline is active. Exit code 1. */
export class RunNotStarted extends MallardError {
  readonly exitCode = 1;
  constructor(reason: string) {
    super(`run not started: ${reason}`);
    this.name = "RunNotStarted";
  }
}

export interface QueueRunOptions extends QueueRuntimeOptions, Omit<WorkerOptions, "until" | "signal"> {
  /** Executors working the queue at once in this process. @default 2 */
  workers?: number;
  select?: readonly string[];
  fullRefresh?: boolean;
  /** @default "cli" */
  trigger?: string;
}

/**
 * Run the pipeline through the task queue: the driver opens a run, N workers execute its tasks as the
 * Functions host would, and the final run record is returned. Throws RunNotStarted when a run is active.
 */
export async function runThroughQueue(options: QueueRunOptions): Promise<RunRecord> {
  const rt = new QueueRuntime(options);
  try {
    await rt.queue.ensure();
    const started = await startRun(rt, { trigger: options.trigger ?? "cli", select: options.select, fullRefresh: options.fullRefresh });
    if (!started.started) throw new RunNotStarted(started.reason);
    const dispatched = await rt.dispatch.read(rt.pipeline.name, started.runId);
    rt.emit({ type: "run-start", runId: started.runId, tasks: Object.values(dispatched?.state.tasks ?? {}).map((t) => t.task) });
    const until = async () => (await rt.dispatch.read(rt.pipeline.name, started.runId))?.state.status !== "running";
    const controller = new AbortController();
    const workers = Array.from({ length: options.workers ?? 2 }, () =>
      runWorker(rt, { ...options, until, signal: controller.signal }).catch((e: unknown) => {
        controller.abort();
        throw e;
      }),
    );
    const ended = await Promise.all(workers);
    if (ended.every((e) => e === "stopped") && !(await until())) {
      throw new LakeError(`run ${started.runId}: every worker stopped claiming (the queue refused to keep their messages invisible); the run is left to be taken over or abandoned`);
    }
    const record = await rt.records.get(rt.pipeline.name, started.runId);
    if (!record) throw new Error(`run ${started.runId} has no record`);
    rt.emit({ type: "run-end", record });
    return record;
  } finally {
    await rt.close();
  }
}
