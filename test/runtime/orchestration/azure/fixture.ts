// A small pipeline and a stand-in task runner for queue-protocol tests: a, b (bronze) → m (silver) → g
// (gold). Each task writes one output object computed from its inputs' outputs and leaves one marker
// per execution, so a test can tell "ran twice" from "produced twice". Faults are switched by options
// (in-process tests) or environment variables (worker child processes).

import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { bronze, gold, pipeline, silver, source } from "../../../../runtime/declare/index.ts";
import type { Lake } from "../../../../runtime/lake/lake.ts";
import { TaskAbandoned } from "../../../../runtime/lake/publish-guard.ts";
import { publishTable, readTable } from "../../../../runtime/lake/tables.ts";
import { createSnapshotView } from "../../../../runtime/lake/delta/read.ts";
import type { Snapshot } from "../../../../runtime/lake/delta/replay.ts";
import { type Engine, queryRows } from "../../../../runtime/engine/engine.ts";
import type { DuckDBConnection } from "@duckdb/node-api";
import type { TaskRunner } from "../../../../runtime/orchestration/azure/context.ts";
import type { TaskRecord } from "../../../../runtime/state/run-records.ts";
import type { AzureTaskQueue } from "../../../../runtime/orchestration/queue/azure-queue.ts";
import type { TaskMessage } from "../../../../runtime/orchestration/queue/message.ts";
import type { SendOptions, TaskQueue } from "../../../../runtime/orchestration/queue/task-queue.ts";

const src = source.postgres("src", { connection: "postgres://unused" });
const a = bronze.table(src, { table: "public.a", primaryKey: "id" });
const b = bronze.table(src, { table: "public.b", primaryKey: "id" });
const m = silver.model("m", { from: { a, b }, sql: "select * from a" });
const g = gold.model("g", { from: { m }, sql: "select * from m" });

export const testPipeline = pipeline("qtest", { schedule: "0 */15 * * * *", stages: [a, b, m, g] });

const BASE: Record<string, number> = { a: 1, b: 2 };
/** The outputs a correct run leaves: a=1, b=2, m=a+b=3, g=10*m=30. */
export const EXPECTED = { a: 1, b: 2, m: 3, g: 30 };

export interface Faults {
  /** Attempts that fail (returned as a failed record, as a source error would be). */
  failAttempts?: Record<string, number[]>;
  /** Fails with a quality check of severity fail. */
  checkFails?: string[];
  /** Fails with a configuration error (executeTask marks those not retryable). */
  configFails?: string[];
  /** Throws (a bug or an unreachable lake): the handler fails and the queue redelivers. */
  throws?: string[];
  /** Waits this long inside the task. */
  delayMs?: Record<string, number>;
  /** Called inside the task (after its output is half-written) with the task id. */
  during?: (task: string) => Promise<void> | void;
}

export const outputPath = (task: string) => `gold/_test/${task}.json`;

export async function executions(lake: Lake, task: string): Promise<number> {
  let n = 0;
  for await (const _ of lake.list(`_mallard/_test/exec/${task}`)) n++;
  return n;
}

export async function outputs(lake: Lake): Promise<Record<string, number | undefined>> {
  const out: Record<string, number | undefined> = {};
  for (const t of ["a", "b", "m", "g"]) out[t] = (await lake.readJson<{ value: number }>(outputPath(t)))?.value.value;
  return out;
}

export function fakeRunner(faults: Faults = {}): TaskRunner {
  return async (task, ctx, attempt) => {
    const started = new Date().toISOString();
    const base = { task: task.id, stage: task.stage, kind: ctx.stage.kind, attempt, startedAt: started, endedAt: new Date().toISOString(), durationMs: 1 };
    await ctx.lake.writeJson(`_mallard/_test/exec/${task.id}/${randomUUID()}.json`, { attempt, runId: ctx.runId });
    if (faults.throws?.includes(task.id)) throw new Error(`injected crash in ${task.id}`);
    if (faults.failAttempts?.[task.id]?.includes(attempt)) {
      return { ...base, status: "failed", error: `source unreachable (attempt ${attempt})` } satisfies TaskRecord;
    }
    if (faults.configFails?.includes(task.id)) {
      return { ...base, status: "failed", error: `stage "${task.stage}": incremental.cursor: column "x" not found`, retryable: false } satisfies TaskRecord;
    }
    if (faults.checkFails?.includes(task.id)) {
      return {
        ...base, status: "failed", error: "check not_null(id) failed: 3 rows",
        checks: [{ name: "not_null(id)", kind: "not_null", severity: "fail", passed: false, failingRows: 3 }],
      } satisfies TaskRecord;
    }
    const inputs = await Promise.all(task.dependsOn.map(async (d) => (await ctx.lake.readJson<{ value: number }>(outputPath(d)))!.value.value));
    await faults.during?.(task.id);
    if (faults.delayMs?.[task.id]) await sleep(faults.delayMs[task.id]);
    const value = task.id in BASE ? BASE[task.id] : task.stage === "g" ? 10 * inputs[0] : inputs.reduce((x, y) => x + y, 0);
    // Idempotent output: a re-run writes the same object, never a second one.
    await ctx.lake.writeJson(outputPath(task.id), { value });
    return { ...base, status: "succeeded", rowsIn: inputs.length, rowsOut: 1, bytes: 8 } satisfies TaskRecord;
  };
}

/** Faults from the environment, for worker child processes. */
export function faultsFromEnv(env: NodeJS.ProcessEnv): Faults {
  const killIn = env.FAKE_KILL_IN;
  return {
    during: (task) => {
      if (task === killIn) process.kill(process.pid, "SIGKILL");
    },
  };
}

/** Where the publishing runner's tasks publish: a real published table per task. */
export const tableOf = (task: string) => `gold/_t/${task}`;

/**
 * A runner whose tasks publish through the real publish path (publishTable: a Delta commit guarded by
 * mayPublish, with the input versions they read and the task's hold on its run), so ordering and
 * abandonment are the runtime's own. Each output is a one-row table `value`: roots publish `base[task]`,
 * m the sum of its inputs, g ten times m. `hold[task]` is awaited after the task has read its inputs and
 * before it publishes.
 */
export function publishingRunner(base: Record<string, number>, hold: Record<string, () => Promise<void>> = {}): TaskRunner {
  return async (task, ctx, attempt) => {
    const startedAt = new Date().toISOString();
    const record = { task: task.id, stage: task.stage, kind: ctx.stage.kind, attempt, startedAt };
    await ctx.lake.writeJson(`_mallard/_test/exec/${task.id}/${randomUUID()}.json`, { attempt, runId: ctx.runId });
    return ctx.engine.withConnection(async (con) => {
      const inputs: Record<string, number> = {};
      const values: number[] = [];
      for (const dep of task.dependsOn) {
        const snapshot = (await readTable(ctx.lake, con, tableOf(dep)))!;
        inputs[tableOf(dep)] = snapshot.version;
        values.push(await valueIn(con, ctx.lake, snapshot));
      }
      await hold[task.id]?.();
      const value = task.id in base ? base[task.id] : task.stage === "g" ? 10 * values[0] : values.reduce((x, y) => x + y, 0);
      try {
        await publishTable(ctx.lake, con, {
          root: tableOf(task.id), runId: ctx.runId, query: `SELECT ${value}::BIGINT AS value`, workDir: ctx.engine.workDir, inputs, holdsTask: ctx.holdsTask,
        });
      } catch (e) {
        if (e instanceof TaskAbandoned) return { ...record, status: "abandoned", note: e.message, endedAt: new Date().toISOString() } satisfies TaskRecord;
        throw e;
      }
      return { ...record, status: "succeeded", rowsIn: values.length, rowsOut: 1, bytes: 1, endedAt: new Date().toISOString() } satisfies TaskRecord;
    });
  };
}

async function valueIn(con: DuckDBConnection, lake: Lake, snapshot: Snapshot): Promise<number> {
  await createSnapshotView(con, lake, snapshot, "__value");
  const [{ value }] = await queryRows<{ value: bigint }>(con, "SELECT value FROM __value");
  return Number(value);
}

/** The value a publishing runner's table holds now (NaN when not published). */
export async function tableValue(engine: Engine, lake: Lake, root: string): Promise<number> {
  return engine.withConnection(async (con) => {
    const snapshot = await readTable(lake, con, root);
    return snapshot ? valueIn(con, lake, snapshot) : Number.NaN;
  });
}

/** Counts what is sent per task, and can send every message twice (at-least-once delivery). */
export class CountingQueue implements TaskQueue {
  readonly processBound = false;
  readonly sent = new Map<string, number>();
  constructor(readonly inner: AzureTaskQueue, private readonly duplicate = false) {}
  get name() {
    return this.inner.name;
  }
  async send(message: TaskMessage, options?: SendOptions) {
    this.sent.set(message.task, (this.sent.get(message.task) ?? 0) + 1);
    await this.inner.send(message, options);
    if (this.duplicate) await this.inner.send(message, options);
  }
  sendPoison(body: string, options?: SendOptions) {
    return this.inner.sendPoison(body, options);
  }
  receive(o?: Parameters<TaskQueue["receive"]>[0]) {
    return this.inner.receive(o);
  }
  receivePoison(o?: Parameters<TaskQueue["receivePoison"]>[0]) {
    return this.inner.receivePoison(o);
  }
  ensure() {
    return this.inner.ensure();
  }
  depth() {
    return this.inner.depth();
  }
}
