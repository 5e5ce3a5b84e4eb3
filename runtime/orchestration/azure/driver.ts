// The driver: opens a run of the pipeline and queues the tasks that have no inputs. A pipeline runs once
// at a time: the lease (`_mallard/leases/<pipeline>.json`, taken with an ETag condition) names the active
// run, and a tick while that run still makes progress starts nothing.

import { type Lake, lakePath, PreconditionFailed } from "../../lake/lake.ts";
import { newRunId, type RunRecord } from "../../state/run-records.ts";
import { planTasks, stageByName } from "../plan.ts";
import type { QueueRuntime } from "./context.ts";
import { type DispatchState, fail, isTerminal, newDispatch } from "./dispatch-state.ts";
import { finishRun, projectTerminalTasks } from "./records.ts";

export interface Lease {
  readonly runId: string;
  readonly acquiredAt: string;
}

export function leasePath(pipeline: string): string {
  return lakePath("_mallard", "leases", `${pipeline}.json`);
}

export interface StartOptions {
  /** Who asked: "timer", "http", "cli". */
  trigger: string;
  /** Stage selectors as for `mallard run --select`. */
  select?: readonly string[];
  fullRefresh?: boolean;
  /**
   * Which lease the run takes: runs with the same lease never overlap. @default the pipeline's name;
   * a table on its own schedule uses `<pipeline>__<stage>` so it is not held up by the full pipeline.
   */
  lease?: string;
}

export type StartResult =
  | { readonly started: true; readonly runId: string; readonly queued: readonly string[] }
  | { readonly started: false; readonly reason: string; readonly activeRunId?: string };

export async function startRun(rt: QueueRuntime, options: StartOptions): Promise<StartResult> {
  const { pipeline, lake } = rt;
  const now = rt.now();
  const leaseName = options.lease ?? pipeline.name;
  const lease = await lake.readJson<Lease>(leasePath(leaseName));
  if (lease) {
    const active = await rt.dispatch.read(pipeline.name, lease.value.runId);
    if (active?.state.status === "running") {
      const idleSeconds = (now.getTime() - Date.parse(active.state.updatedAt)) / 1000;
      if (idleSeconds < rt.leaseSeconds) {
        const reason = `run ${lease.value.runId} is still active (last progress ${Math.round(idleSeconds)} s ago)`;
        rt.monitor.info(`driver: not starting: ${reason}`, { activeRunId: lease.value.runId, trigger: options.trigger });
        if (idleSeconds >= RESEND_AFTER_SECONDS) await resendQueued(rt, active.state);
        return { started: false, reason, activeRunId: lease.value.runId };
      }
      await abandonRun(rt, active.state, `no progress for ${Math.round(idleSeconds)} s: lease expired, run abandoned`);
    }
  }

  const tasks = planTasks(pipeline, { select: options.select });
  const runId = newRunId(now);
  try {
    await lake.writeJson(leasePath(leaseName), { runId, acquiredAt: now.toISOString() } satisfies Lease, { ifMatch: lease ? lease.etag : null });
  } catch (e) {
    if (!(e instanceof PreconditionFailed)) throw e;
    const reason = "another driver started a run at the same moment";
    rt.monitor.info(`driver: not starting: ${reason}`, { trigger: options.trigger });
    return { started: false, reason };
  }

  const state = newDispatch(runId, pipeline.name, tasks, { fullRefresh: options.fullRefresh ?? false }, now);
  await rt.dispatch.create(state);
  const record: RunRecord = {
    runId, pipeline: pipeline.name, status: "running", trigger: options.trigger, startedAt: now.toISOString(),
    tasks: Object.fromEntries(tasks.map((t) => [t.id, { task: t.id, stage: t.stage, kind: stageByName(pipeline, t.stage).kind, status: "pending" }])),
  };
  await rt.records.create(record);
  const queued = Object.values(state.tasks).filter((t) => t.status === "queued").map((t) => t.task.id);
  for (const task of queued) await rt.queue.send({ v: 1, runId, pipeline: pipeline.name, task, attempt: 1 });
  rt.monitor.info(`driver: run ${runId} started, queued ${queued.join(", ")}`, { runId, trigger: options.trigger, tasks: tasks.length });
  return { started: true, runId, queued };
}

/**
 * A run idle this long while a task is queued and unclaimed may have lost that message (a driver or
 * executor that died between its write and its send): the tick sends it again. Above the longest retry
 * backoff, so a delayed retry is not doubled early; a copy of a message that was not lost is a duplicate
 * the executor ignores.
 */
export const RESEND_AFTER_SECONDS = 600;

async function resendQueued(rt: QueueRuntime, state: DispatchState): Promise<void> {
  const queued = Object.values(state.tasks).filter((t) => t.status === "queued" && !t.claim);
  for (const t of queued) await rt.queue.send({ v: 1, runId: state.runId, pipeline: state.pipeline, task: t.task.id, attempt: t.attempt });
  if (queued.length) rt.monitor.warn(`driver: run ${state.runId} idle; re-sent ${queued.map((t) => t.task.id).join(", ")}`, { runId: state.runId });
}

/** Mark a run that stopped making progress failed, so its record says so and the lease frees. */
async function abandonRun(rt: QueueRuntime, state: DispatchState, reason: string): Promise<void> {
  const final = await rt.dispatch.update(state.pipeline, state.runId, (current) => {
    if (current.status !== "running") return { result: undefined };
    let next = current;
    for (const t of Object.values(current.tasks)) {
      if (!isTerminal(next.tasks[t.task.id].status)) next = fail(next, t.task.id, reason, rt.now());
    }
    return { next, result: next };
  });
  if (final) {
    await projectTerminalTasks(rt, final);
    await finishRun(rt, final);
  }
}

/** The run a lease names (active or last), for status reads. */
export async function leasedRun(lake: Lake, lease: string): Promise<string | undefined> {
  return (await lake.readJson<Lease>(leasePath(lease)))?.value.runId;
}
