// Keeping the run record (what `mallard status` and readers see) in step with the dispatch state (what
// the queue protocol decides). Each projection is idempotent, so a redelivered message can repeat it, and
// complete: a task's result is kept in the dispatch state, so a crash between the dispatch write and the
// run-record write loses nothing.

import { runCost } from "../../cost/estimate.ts";
import { describeError, redact } from "../../errors.ts";
import { runReportPath, writeRunReport } from "../../report/write.ts";
import { APP_SETTINGS } from "../../declare/deployment.ts";
import type { RunRecord, TaskRecord } from "../../state/run-records.ts";
import { stageByName } from "../plan.ts";
import type { QueueRuntime } from "./context.ts";
import { type DispatchState, type DispatchTask, isTerminal } from "./dispatch-state.ts";

/** Write every finished task of the dispatch state into the run record where it still says otherwise. */
export async function projectTasks(rt: QueueRuntime, state: DispatchState): Promise<void> {
  await rt.records.update(state.pipeline, state.runId, (record) => {
    const tasks = { ...record.tasks };
    let changed = false;
    for (const t of Object.values(state.tasks)) {
      const projected = projectTask(rt, t, tasks[t.task.id]);
      if (projected) {
        tasks[t.task.id] = projected;
        changed = true;
      }
    }
    return changed ? { ...record, tasks } : record;
  });
}

function projectTask(rt: QueueRuntime, t: DispatchTask, current: TaskRecord | undefined): TaskRecord | undefined {
  // A task that published stays succeeded, even in a run abandoned after it finished.
  if (!isTerminal(t.status) || current?.status === t.status || current?.status === "succeeded") return undefined;
  const base = { ...current, task: t.task.id, stage: t.task.stage, kind: current?.kind ?? stageByName(rt.pipeline, t.task.stage).kind };
  switch (t.status) {
    case "succeeded":
      return t.result ?? { ...base, status: "succeeded" };
    case "failed":
      return { ...base, ...t.result, status: "failed", error: current?.error ?? t.result?.error ?? t.error };
    case "skipped":
    case "abandoned":
      return { ...base, status: t.status, note: t.error };
    default:
      return undefined;
  }
}

/** Close the run record once the dispatch state is final; the call that closes it reports the run. */
export async function finishRun(rt: QueueRuntime, state: DispatchState): Promise<void> {
  if (state.status === "running") return;
  await projectTasks(rt, state);
  let closedNow = false;
  const status = state.status;
  const record = await rt.records.update(state.pipeline, state.runId, (r) => {
    closedNow = r.status === "running";
    if (!closedNow) return r;
    const failed = state.failedTask ? state.tasks[state.failedTask] : undefined;
    const error = status === "abandoned"
      ? { stage: "(run)", message: `abandoned: ${state.abandonedBecause ?? "no longer active"}` }
      : failed ? { stage: failed.task.stage, message: redact(r.tasks[failed.task.id]?.error ?? failed.error ?? "failed") } : undefined;
    return { ...r, status, endedAt: rt.now().toISOString(), error, cost: runCost(rt.pipeline, r) };
  });
  if (closedNow) {
    // The report is a view of the record: a failure to write it is logged, and the run stays as it is.
    await writeRunReport(rt.pipeline, rt.lake, record).then(
      (report) => rt.monitor.info(`run report ${report.path}`, { runId: record.runId }),
      (e: unknown) => rt.monitor.warn(`run report not written: ${describeError(e)}`, { runId: record.runId }),
    );
    rt.monitor.runFinished(record);
    await notify(rt, record);
    await rt.monitor.flush();
  }
}

/** The pipeline's webhooks, once, by the call that closed the run; the run stays as recorded whatever they answer. */
async function notify(rt: QueueRuntime, record: RunRecord): Promise<void> {
  if (!rt.pipeline.notify?.webhooks.length) return;
  const { notifyRunFinished } = await import("../../notify/notify-run.ts");
  const log = rt.monitor.with({ runId: record.runId });
  // In Azure the runs API serves the report (a function key is needed to open it); elsewhere, the lake path.
  const host = process.env[APP_SETTINGS.siteHostname];
  const reportLink = host ? `https://${host}/api/runs/${record.runId}/report` : rt.lake.externalPath(runReportPath(record.pipeline, record.runId));
  await notifyRunFinished({
    pipeline: rt.pipeline, lake: rt.lake, secrets: rt.secrets, reportLink, delivery: rt.notifyDelivery,
    log: (level, message) => log[level](message),
  }, record);
}
