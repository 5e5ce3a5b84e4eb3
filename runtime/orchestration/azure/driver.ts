// The driver: opens a run of the pipeline and queues the tasks that have no inputs. A pipeline runs once
// at a time: the lease (`_mallard/leases/<pipeline>.json`, taken with an ETag condition) names the active
// run, and a tick while that run still makes progress starts nothing. A run that stopped making progress
// for the lease time, or whose process died, is abandoned and a new one starts.

import pLimit from "p-limit";
import { ConfigError, describeError, LakeError, MallardError } from "../../errors.ts";
import { faultPoint } from "../../faults.ts";
import { type Lake, lakePath, PreconditionFailed } from "../../lake/lake.ts";
import { newRunId, type RunOwner, type RunRecord } from "../../state/run-records.ts";
import { planTasks, stageByName } from "../plan.ts";
import { ownerGone, thisProcess } from "../run-owner.ts";
import type { QueueRuntime } from "./context.ts";
import { abandon, type DispatchState, newDispatch } from "./dispatch-state.ts";
import { finishRun } from "./records.ts";

export interface Lease {
  readonly runId: string;
  readonly acquiredAt: string;
  /**
   * What the run was started with. Taking the lease is what starts a run; a driver that finds a lease
   * whose run has no dispatch state yet opens the run from this (idempotently) instead of taking the lease.
   */
  readonly start?: LeaseStart;
}

interface LeaseStart {
  readonly trigger: string;
  readonly select?: readonly string[];
  readonly fullRefresh: boolean;
  /** Set when the run's queue lives in its driver's process: the run dies with that process. */
  readonly owner?: RunOwner;
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

/**
 * Start a run unless one holds the lease. Starting is one conditional write of the lease, which names the
 * new run: of two drivers only one can make it, and a driver that finds a lease whose run is not opened
 * yet (its driver is slow, or died right after the lease) opens that run rather than starting its own.
 */
export async function startRun(rt: QueueRuntime, options: StartOptions): Promise<StartResult> {
  const { pipeline, lake } = rt;
  const now = rt.now();
  const leaseName = options.lease ?? pipeline.name;
  // The first lake access of a run: a wrong key or no permission is an expected failure, in one line.
  const lease = await lake.readJson<Lease>(leasePath(leaseName)).catch((e: unknown) => {
    throw e instanceof MallardError ? e : new LakeError(`cannot read the lake at ${lake.location}: ${describeError(e)}`, { cause: e });
  });
  if (lease) {
    const refused = await leaseHeld(rt, lease.value, options.trigger);
    if (refused) return refused;
  }

  planTasks(pipeline, { select: options.select }); // a bad selector fails here, before the lease is taken
  const runId = newRunId(now);
  const start: LeaseStart = {
    trigger: options.trigger, select: options.select, fullRefresh: options.fullRefresh ?? false,
    owner: rt.queue.processBound ? thisProcess() : undefined,
  };
  const taken: Lease = { runId, acquiredAt: now.toISOString(), start };
  try {
    await lake.writeJson(leasePath(leaseName), taken, { ifMatch: lease ? lease.etag : null });
  } catch (e) {
    if (!(e instanceof PreconditionFailed)) throw e;
    const reason = "another driver started a run at the same moment";
    rt.monitor.info(`driver: not starting: ${reason}`, { trigger: options.trigger });
    return { started: false, reason };
  }
  await faultPoint("driver:after-lease");
  const queued = await openRun(rt, taken);
  rt.monitor.info(`driver: run ${runId} started, queued ${queued.join(", ")}`, { runId, trigger: options.trigger });
  return { started: true, runId, queued };
}

/** Whether the lease's run still holds it: a refusal, or undefined when the lease may be taken. */
async function leaseHeld(rt: QueueRuntime, lease: Lease, trigger: string): Promise<StartResult | undefined> {
  const refuse = (reason: string): StartResult => {
    rt.monitor.info(`driver: not starting: ${reason}`, { activeRunId: lease.runId, trigger });
    return { started: false, reason, activeRunId: lease.runId };
  };
  const active = await rt.dispatch.read(rt.pipeline.name, lease.runId);
  if (!active) {
    const owner = lease.start?.owner;
    if (owner) {
      // The run's queue is in its driver's process: only that driver can open it, and it died with it.
      const ageSeconds = (rt.now().getTime() - Date.parse(lease.acquiredAt)) / 1000;
      return ownerGone(owner) || ageSeconds >= rt.leaseSeconds ? undefined : refuse(`run ${lease.runId} is starting`);
    }
    try {
      await openRun(rt, lease);
    } catch (e) {
      // Its plan no longer fits the pipeline (a stage it selected was removed): it can never open.
      if (!(e instanceof ConfigError)) throw e;
      rt.monitor.warn(`driver: run ${lease.runId} cannot be opened and is dropped: ${describeError(e)}`, { runId: lease.runId });
      return undefined;
    }
    return refuse(`run ${lease.runId} is starting`);
  }
  if (active.state.status !== "running") {
    // Its last executor may have died between the final dispatch write and closing the run record, and
    // that message's redelivery may come after this tick: close the record now (idempotent), so no
    // finished run is left "running". A failure here is the old run's, not a reason to start no new one.
    await finishRun(rt, active.state).catch((e: unknown) =>
      rt.monitor.warn(`driver: run ${lease.runId} ended but its record could not be closed: ${describeError(e)}`, { runId: lease.runId }));
    return undefined;
  }
  // Its driver may have died between the dispatch state and the run record: executors need the record.
  if (!(await rt.records.get(rt.pipeline.name, lease.runId))) await createdOnce(rt.records.create(runRecordOf(rt, lease)));
  const gone = ownerGone(active.state.owner);
  const idleSeconds = (rt.now().getTime() - Date.parse(active.state.updatedAt)) / 1000;
  if (!gone && idleSeconds < rt.leaseSeconds) {
    if (idleSeconds >= RESEND_AFTER_SECONDS) await resendQueued(rt, active.state);
    return refuse(`run ${lease.runId} is still active (last progress ${Math.round(idleSeconds)} s ago)`);
  }
  await abandonRun(rt, active.state, gone ?? `no progress for ${Math.round(idleSeconds)} s: lease expired`);
  return undefined;
}

/**
 * Open the run a lease names: its dispatch state, its run record and the messages of its root tasks.
 * Every step is create-if-absent or a duplicate the executor ignores, so two drivers may both do it.
 */
async function openRun(rt: QueueRuntime, lease: Lease): Promise<string[]> {
  const { pipeline } = rt;
  const start: LeaseStart = lease.start ?? { trigger: "timer", fullRefresh: false };
  const tasks = planTasks(pipeline, { select: start.select });
  const state = newDispatch(lease.runId, pipeline.name, tasks, { fullRefresh: start.fullRefresh }, rt.now(), { leaseSeconds: rt.leaseSeconds, owner: start.owner });
  await createdOnce(rt.dispatch.create(state));
  await faultPoint("driver:after-dispatch");
  await createdOnce(rt.records.create(runRecordOf(rt, lease)));
  await faultPoint("driver:before-send");
  const queued = Object.values(state.tasks).filter((t) => t.status === "queued").map((t) => t.task.id);
  // Sent SENDS_AT_ONCE at a time: a run of 200 root tasks does not wait for 200 round trips in a row
  // (messages have no order anyway).
  const limit = pLimit(SENDS_AT_ONCE);
  await Promise.all(queued.map((task) => limit(() => rt.queue.send({ v: 1, runId: lease.runId, pipeline: pipeline.name, task, attempt: 1 }))));
  return queued;
}

/** Task messages a driver has in flight at once. */
const SENDS_AT_ONCE = 16;

/** The record a run the lease names starts with: every task pending. */
function runRecordOf(rt: QueueRuntime, lease: Lease): RunRecord {
  const { pipeline } = rt;
  const start: LeaseStart = lease.start ?? { trigger: "timer", fullRefresh: false };
  const tasks = planTasks(pipeline, { select: start.select });
  return {
    runId: lease.runId, pipeline: pipeline.name, status: "running", trigger: start.trigger, startedAt: lease.acquiredAt, owner: start.owner,
    tasks: Object.fromEntries(tasks.map((t) => [t.id, { task: t.id, stage: t.stage, kind: stageByName(pipeline, t.stage).kind, status: "pending" }])),
  };
}

/** A create-if-absent that found the object already there: another driver made it. */
async function createdOnce(write: Promise<void>): Promise<void> {
  await write.catch((e: unknown) => {
    if (!(e instanceof PreconditionFailed)) throw e;
  });
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
  const limit = pLimit(SENDS_AT_ONCE);
  await Promise.all(queued.map((t) => limit(() => rt.queue.send({ v: 1, runId: state.runId, pipeline: state.pipeline, task: t.task.id, attempt: t.attempt }))));
  if (queued.length) rt.monitor.warn(`driver: run ${state.runId} idle; re-sent ${queued.map((t) => t.task.id).join(", ")}`, { runId: state.runId });
}

/**
 * Mark a run that stopped making progress (or whose process died) abandoned, so its record says so and
 * the lease frees; its tasks still working find out before they publish.
 */
async function abandonRun(rt: QueueRuntime, state: DispatchState, reason: string): Promise<void> {
  const final = await rt.dispatch.update(state.pipeline, state.runId, (current) => {
    if (current.status !== "running") return { result: undefined };
    const next = abandon(current, reason, rt.now());
    return { next, result: next };
  });
  if (final) {
    rt.monitor.warn(`driver: run ${state.runId} abandoned: ${reason}`, { runId: state.runId });
    await finishRun(rt, final);
  }
}

/** The run a lease names (active or last), for status reads. */
export async function leasedRun(lake: Lake, lease: string): Promise<string | undefined> {
  return (await lake.readJson<Lease>(leasePath(lease)))?.value.runId;
}
