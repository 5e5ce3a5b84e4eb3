// Fault points for fault tests: every step boundary where a crash (or a slow write) must leave the lake
// consistent is declared once in CRASH_POINTS, so a fault suite can take the list from the code and new
// steps are covered without editing the suite. `MALLARD_CRASH_AT` names a point and the process dies
// there (SIGKILL, like an instance being recycled); `MALLARD_DELAY_AT` + `MALLARD_DELAY_MS` make it wait
// there instead; `MALLARD_FAULT_TRACE` names a file each point reached is appended to (the fault suite
// learns from a clean run which points a pipeline reaches). Costs a few environment lookups when unset.

import { appendFileSync } from "node:fs";

/**
 * Every fault point, by name; `{stage}`, `{task}`, `{chunk}` are filled in where the point is reached, so
 * `bronze:{stage}:after-upload:{chunk}` is hit as `bronze:orders:after-upload:3`. A point is matched by
 * its full name or by its bare pattern (the first time any of its instances is reached).
 */
export const CRASH_POINTS = {
  "bronze:{stage}:after-upload:{chunk}": "a bronze chunk is uploaded; not committed to the table's state",
  "bronze:{stage}:after-commit:{chunk}": "a bronze chunk and its checkpoint are committed; the load goes on",
  "driver:after-lease": "the driver holds the pipeline's lease for a new run; no dispatch state yet",
  "driver:after-dispatch": "the run's dispatch state is written; no run record yet",
  "driver:before-send": "the run's dispatch state and record are written; its root tasks are not queued",
  "executor:{task}:after-claim": "a message claimed its task in the dispatch state; the task has not started",
  "executor:{task}:after-task": "a task's stage code finished (its output is published); nothing recorded yet",
  "executor:{task}:after-result": "the dispatch state holds the task's result; the run record does not yet",
  "executor:{task}:before-dispatch": "the task is recorded; the messages of the dependents it queued are not sent",
  "local:{task}:after-task": "a local run's task finished; its run record does not say so yet",
  "delta:{table}:before-commit": "a Delta commit's data files are uploaded; its log entry is not written",
  "delta:{table}:after-commit": "a Delta commit is in the log; the checkpoint due at it is not written",
  "delta:{table}:before-last-checkpoint": "a Delta checkpoint is written; _last_checkpoint does not name it yet",
} as const satisfies Record<string, string>;

export type CrashPoint = keyof typeof CRASH_POINTS;

/** The `{name}` placeholders of a point's pattern. */
type Placeholders<S extends string> = S extends `${string}{${infer K}}${infer Rest}` ? K | Placeholders<Rest> : never;
type Fill<P extends CrashPoint> = [Placeholders<P>] extends [never] ? [] : [values: Record<Placeholders<P>, string | number>];

/** The name a point is hit as: its pattern with the placeholders filled in. */
export function crashPointName<P extends CrashPoint>(point: P, ...fill: Fill<P>): string {
  const values = (fill[0] ?? {}) as Record<string, string | number>;
  return point.replace(/\{(\w+)\}/g, (_, key: string) => String(values[key]));
}

function matches(target: string | undefined, point: string, name: string): boolean {
  return !!target && (target === name || target === point);
}

/** Die here when `MALLARD_CRASH_AT` names this point. */
export function crashPoint<P extends CrashPoint>(point: P, ...fill: Fill<P>): void {
  const trace = process.env.MALLARD_FAULT_TRACE;
  if (trace) appendFileSync(trace, `${JSON.stringify({ point, name: crashPointName(point, ...fill) })}\n`);
  const target = process.env.MALLARD_CRASH_AT;
  if (target && matches(target, point, crashPointName(point, ...fill))) process.kill(process.pid, "SIGKILL");
}

/** Die here when `MALLARD_CRASH_AT` names this point, or wait `MALLARD_DELAY_MS` when `MALLARD_DELAY_AT` does. */
export async function faultPoint<P extends CrashPoint>(point: P, ...fill: Fill<P>): Promise<void> {
  crashPoint(point, ...fill);
  const target = process.env.MALLARD_DELAY_AT;
  if (target && matches(target, point, crashPointName(point, ...fill))) {
    await new Promise((resolve) => setTimeout(resolve, Number(process.env.MALLARD_DELAY_MS ?? 3000)));
  }
}
