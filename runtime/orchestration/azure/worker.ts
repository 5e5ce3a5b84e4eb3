// A queue worker that does what the Functions host does for the queue triggers: receive a message, keep
// it invisible while the handler runs, delete it on success, make it visible again on failure, and move
// it to the poison queue after `maxDequeueCount` deliveries. `mallard run --queue --workers N` and the
// tests run executors this way, against Azurite or the in-process queue.

import { describeError, LakeError, MallardError } from "../../errors.ts";
import type { RunRecord } from "../../state/run-records.ts";
import type { TaskMessage } from "../queue/message.ts";
import type { ReceivedMessage, SendOptions, TaskQueue } from "../queue/task-queue.ts";
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
  /** Stop when this resolves true (checked between messages, alongside the next receive). */
  until?: () => Promise<boolean>;
  signal?: AbortSignal;
  /** Ends the pause of an idle worker early: rung when this process queues a task (see runThroughQueue). */
  doorbell?: Doorbell;
}

/**
 * Wakes the idle workers of one process when it sends a task message: a dependent that one worker queued
 * is picked up by another at once rather than at its next poll. (Messages sent by other processes are
 * still found by polling.)
 */
export class Doorbell {
  private readonly sleepers = new Set<() => void>();

  ring(): void {
    for (const wake of this.sleepers) wake();
    this.sleepers.clear();
  }

  /** Resolves after `ms`, on a ring, or on abort, whichever comes first. */
  pause(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.sleepers.delete(done);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.sleepers.add(done);
      signal?.addEventListener("abort", done, { once: true });
    });
  }
}

/** The queue, ringing the doorbell after every task message it sends. */
class RingingQueue implements TaskQueue {
  constructor(private readonly inner: TaskQueue, private readonly doorbell: Doorbell) {}
  get name(): string {
    return this.inner.name;
  }
  get processBound(): boolean {
    return this.inner.processBound;
  }
  async send(message: TaskMessage, options?: SendOptions): Promise<void> {
    await this.inner.send(message, options);
    this.doorbell.ring();
  }
  sendPoison: TaskQueue["sendPoison"] = (body, options) => this.inner.sendPoison(body, options);
  receive: TaskQueue["receive"] = (options) => this.inner.receive(options);
  receivePoison: TaskQueue["receivePoison"] = (options) => this.inner.receivePoison(options);
  ensure: TaskQueue["ensure"] = () => this.inner.ensure();
  depth: TaskQueue["depth"] = () => this.inner.depth();
}

/**
 * One worker: one message at a time, until `until` says stop or `signal` aborts. Resolves `"stopped"`
 * when it stopped claiming because it could not keep a message invisible (see `deliver`).
 */
export async function runWorker(rt: QueueRuntime, options: WorkerOptions = {}): Promise<"done" | "stopped"> {
  const visibilitySeconds = options.visibilitySeconds ?? 600;
  const maxDequeueCount = options.maxDequeueCount ?? 5;
  const doorbell = options.doorbell ?? new Doorbell();
  // The last message's removal from the queue, in flight while the next message is received.
  let completing: Promise<void> | undefined;
  const completed = () => {
    const pending = completing ?? Promise.resolve();
    completing = undefined;
    return pending;
  };
  try {
    while (!options.signal?.aborted) {
      // Whether to stop, the next message and the last one's removal, at once: none waits for another.
      const [stop, received, removal] = await Promise.allSettled([
        options.until?.() ?? false,
        rt.queue.receive({ max: 1, visibilityTimeoutSeconds: visibilitySeconds }),
        completed(),
      ]);
      const ending = stop.status === "rejected" || stop.value || removal.status === "rejected";
      if (ending) {
        // Not handled here: visible again at once for whoever works the queue next.
        if (received.status === "fulfilled") for (const m of received.value) await m.abandon(0).catch(() => undefined);
        if (removal.status === "rejected") throw removal.reason;
        if (stop.status === "rejected") throw stop.reason;
        return "done";
      }
      if (received.status === "rejected") throw received.reason;
      const [message] = received.value;
      if (message) {
        const delivered = await deliver(rt, message, { visibilitySeconds, maxDequeueCount, retryDelaySeconds: options.retryDelaySeconds ?? 0 });
        completing = delivered.completing;
        if (!delivered.held) return "stopped";
        continue;
      }
      const [poison] = await rt.queue.receivePoison({ max: 1, visibilityTimeoutSeconds: visibilitySeconds });
      if (poison) {
        await handlePoisonMessage(rt, poison.body, { messageId: poison.id, dequeueCount: poison.dequeueCount });
        await poison.complete();
        continue;
      }
      await doorbell.pause(options.pollMs ?? 250, options.signal);
    }
    return "done";
  } catch (error) {
    await completed().catch(() => undefined); // the first failure is the one reported
    throw error;
  } finally {
    // The last message's removal failing is this worker's failure.
    await completed();
  }
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
): Promise<{ held: boolean; completing?: Promise<void> }> {
  if (message.dequeueCount > o.maxDequeueCount) {
    // Delivered too often without success (its executors crashed): the host moves such a message.
    await rt.queue.sendPoison(message.body);
    await message.complete();
    return { held: true };
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
    // Handled: the worker receives its next message while this one is removed (it awaits the removal
    // before it handles the next). Its task is done, so a redelivery meanwhile would change nothing.
    const completing = settle(message.complete());
    completing.catch(() => undefined); // awaited by the worker; not an unhandled rejection meanwhile
    return { held: lost === undefined, completing };
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
  return { held: lost === undefined };
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
  const doorbell = new Doorbell();
  const rt = new QueueRuntime({ ...options, queue: new RingingQueue(options.queue, doorbell) });
  try {
    await rt.queue.ensure();
    const started = await startRun(rt, { trigger: options.trigger ?? "cli", select: options.select, fullRefresh: options.fullRefresh });
    if (!started.started) throw new RunNotStarted(started.reason);
    const dispatched = await rt.dispatch.read(rt.pipeline.name, started.runId);
    rt.emit({ type: "run-start", runId: started.runId, tasks: Object.values(dispatched?.state.tasks ?? {}).map((t) => t.task) });
    // Whether the run ended: this process writes the run's state, and while it last saw it running the
    // lake is asked only once a second (another process may end it: a driver abandoning it); one read
    // answers every worker that asks while it is in flight.
    let asking: Promise<boolean> | undefined;
    let askedAt = 0;
    const until = () => {
      if (rt.dispatch.seenRunning(rt.pipeline.name, started.runId) && Date.now() - askedAt < 1_000) return Promise.resolve(false);
      asking ??= rt.dispatch.read(rt.pipeline.name, started.runId)
        .then((found) => found?.state.status !== "running")
        .finally(() => {
          askedAt = Date.now();
          asking = undefined;
        });
      return asking;
    };
    const controller = new AbortController();
    const workers = Array.from({ length: options.workers ?? 2 }, () =>
      runWorker(rt, { ...options, until, doorbell, signal: controller.signal }).catch((e: unknown) => {
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
