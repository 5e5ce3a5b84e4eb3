// What the driver, executor and poison handler share on one instance: the pipeline, the lake, the task
// queue, secrets, the monitor, one DuckDB engine for the instance's life, and the retry and lease policy.

import type { Pipeline } from "../../declare/pipeline.ts";
import type { Source } from "../../declare/sources.ts";
import type { Engine } from "../../engine/engine.ts";
import type { Lake } from "../../lake/lake.ts";
import type { SecretChain } from "../../secrets/secrets.ts";
import type { SourceConnector } from "../../sources/source.ts";
import { RunRecords, type TaskRecord } from "../../state/run-records.ts";
import type { StageContext } from "../../stages/context.ts";
import type { RunEvent } from "../local-runner.ts";
import type { Task } from "../plan.ts";
import { Monitor } from "../../telemetry/monitor.ts";
import type { TaskQueue } from "../queue/task-queue.ts";
import { DispatchStore } from "./dispatch-store.ts";
import type { NotifyContext } from "../../notify/notify-run.ts";

export interface RetryPolicy {
  /** Attempts per task, the first included, before it fails for good. @default 3 */
  maxAttempts: number;
  /** Delay before the second attempt; doubled for each next one. @default 10 */
  baseDelaySeconds: number;
  /** @default 300 */
  maxDelaySeconds: number;
}

export interface QueueRuntimeOptions {
  pipeline: Pipeline;
  lake: Lake;
  queue: TaskQueue;
  secrets: SecretChain;
  /** Folder SQL file paths are relative to (the function app's root in Azure). */
  projectRoot: string;
  monitor?: Monitor;
  retry?: Partial<RetryPolicy>;
  /**
   * A run holds its pipeline's lease while it makes progress: the driver refuses a new run until the
   * active one has made no progress for this long (then it is abandoned, and its tasks still working
   * publish nothing). Keep it above the function timeout. @default 3600
   */
  leaseSeconds?: number;
  /**
   * How long a message that is not a task message stays parked (invisible) in the poison queue before it
   * surfaces and is parked again. @default 604800 (7 days, the most Azure Storage Queue allows)
   */
  parkSeconds?: number;
  /** How a source is opened; tests pass their own to inject faults. @default openConnector */
  connect?: (source: Source, secrets: SecretChain, lake: Lake) => Promise<SourceConnector>;
  /** Progress for a terminal (`mallard run --queue`): the same events the local runner emits. */
  onEvent?: (event: RunEvent) => void;
  /** Runs one task. @default executeTask, the same code the local runner uses */
  runTask?: TaskRunner;
  now?: () => Date;
  /** Backoff of webhook retries (tests shorten it). */
  notifyDelivery?: NotifyContext["delivery"];
}

export type TaskRunner = (task: Task, ctx: StageContext, attempt: number) => Promise<TaskRecord>;

// Loaded on first use: the stage code (DuckDB, source drivers) is not needed to start a run or to read
// its status, and a function instance that only drives should start fast.
const defaultRunTask: TaskRunner = async (task, ctx, attempt) => (await import("../execute-task.ts")).executeTask(task, ctx, attempt);
const defaultConnect = async (source: Source, secrets: SecretChain, lake: Lake): Promise<SourceConnector> =>
  (await import("../connectors.ts")).openConnector(source, secrets, lake);

export class QueueRuntime {
  readonly pipeline: Pipeline;
  readonly lake: Lake;
  readonly queue: TaskQueue;
  readonly secrets: SecretChain;
  readonly projectRoot: string;
  readonly monitor: Monitor;
  readonly retry: RetryPolicy;
  readonly leaseSeconds: number;
  readonly parkSeconds: number;
  readonly dispatch: DispatchStore;
  readonly records: RunRecords;
  readonly connect: (source: Source, secrets: SecretChain, lake: Lake) => Promise<SourceConnector>;
  readonly now: () => Date;
  readonly runTask: TaskRunner;
  readonly emit: (event: RunEvent) => void;
  readonly notifyDelivery?: NotifyContext["delivery"];
  private engine?: Promise<Engine>;

  constructor(options: QueueRuntimeOptions) {
    this.pipeline = options.pipeline;
    this.lake = options.lake;
    this.queue = options.queue;
    this.secrets = options.secrets;
    this.projectRoot = options.projectRoot;
    this.monitor = (options.monitor ?? new Monitor()).with({ pipeline: options.pipeline.name });
    this.retry = { maxAttempts: 3, baseDelaySeconds: 10, maxDelaySeconds: 300, ...options.retry };
    this.leaseSeconds = options.leaseSeconds ?? 3600;
    this.parkSeconds = options.parkSeconds ?? 7 * 24 * 3600;
    this.dispatch = new DispatchStore(options.lake);
    this.records = new RunRecords(options.lake);
    this.connect = options.connect ?? defaultConnect;
    this.runTask = options.runTask ?? defaultRunTask;
    this.emit = options.onEvent ?? (() => undefined);
    this.now = options.now ?? (() => new Date());
    this.notifyDelivery = options.notifyDelivery;
  }

  /** The instance's DuckDB engine, created on first use and shared by the tasks this instance runs. */
  getEngine(): Promise<Engine> {
    this.engine ??= import("../../engine/engine.ts").then(({ Engine, lakeAccess }) => Engine.create(this.pipeline.engine, lakeAccess(this.lake)));
    return this.engine;
  }

  /** Delay before attempt `next` (2, 3, …): exponential, capped. */
  backoffSeconds(next: number): number {
    return Math.min(this.retry.maxDelaySeconds, this.retry.baseDelaySeconds * 2 ** Math.max(0, next - 2));
  }

  async close(): Promise<void> {
    const engine = this.engine;
    this.engine = undefined;
    if (engine) await (await engine).close();
    await this.monitor.flush();
  }
}
