// Keeping the run record (what `mallard status` and readers see) in step with the dispatch state (what
// the queue protocol decides). Each projection is idempotent, so a redelivered message can repeat it.

import { redact } from "../../errors.ts";
import { stageByName } from "../plan.ts";
import type { QueueRuntime } from "./context.ts";
import type { DispatchState } from "./dispatch-state.ts";

/** Write failed and skipped tasks of the dispatch state into the run record where it still says otherwise. */
export async function projectTerminalTasks(rt: QueueRuntime, state: DispatchState): Promise<void> {
  await rt.records.update(state.pipeline, state.runId, (record) => {
    const tasks = { ...record.tasks };
    for (const t of Object.values(state.tasks)) {
      const current = tasks[t.task.id];
      if ((t.status === "skipped" || t.status === "failed") && current?.status !== t.status && current?.status !== "succeeded") {
        tasks[t.task.id] = {
          ...current, task: t.task.id, stage: t.task.stage, kind: current?.kind ?? stageByName(rt.pipeline, t.task.stage).kind,
          status: t.status, note: t.status === "skipped" ? t.error : current?.note, error: t.status === "failed" ? (current?.error ?? t.error) : undefined,
        };
      }
    }
    return { ...record, tasks };
  });
}

/** Close the run record once the dispatch state is final; the call that closes it reports the run. */
export async function finishRun(rt: QueueRuntime, state: DispatchState): Promise<void> {
  if (state.status === "running") return;
  let closedNow = false;
  const record = await rt.records.update(state.pipeline, state.runId, (r) => {
    closedNow = r.status === "running";
    if (!closedNow) return r;
    const failed = state.failedTask ? state.tasks[state.failedTask] : undefined;
    return {
      ...r,
      status: state.status === "failed" ? "failed" : "succeeded",
      endedAt: rt.now().toISOString(),
      error: failed ? { stage: failed.task.stage, message: redact(r.tasks[failed.task.id]?.error ?? failed.error ?? "failed") } : undefined,
    };
  });
  if (closedNow) {
    rt.monitor.runFinished(record);
    await rt.monitor.flush();
  }
}
