// Runs that live only as long as their process (a local `mallard run`, a run through the in-process
// queue) name that process in their record. On the same machine a process id that no longer exists
// proves the run is dead; from another machine nothing can be told, and the run keeps its status.

import { hostname } from "node:os";
import { RunRecords, type RunOwner, type RunRecord } from "../state/run-records.ts";

export function thisProcess(): RunOwner {
  return { host: hostname(), pid: process.pid };
}

/** Why a run's owner is known to be gone, or undefined when it is alive or cannot be told from here. */
export function ownerGone(owner: RunOwner | undefined): string | undefined {
  if (!owner || owner.host !== hostname() || owner.pid === process.pid) return undefined;
  try {
    process.kill(owner.pid, 0); // signal 0: only asks whether the process exists
    return undefined;
  } catch (e) {
    // EPERM: it exists but belongs to another user.
    return (e as NodeJS.ErrnoException).code === "ESRCH" ? `its process (pid ${owner.pid} on ${owner.host}) ended without finishing it` : undefined;
  }
}

/** The run record of an abandoned run: unfinished tasks abandoned with it. */
export function abandonedRecord(record: RunRecord, reason: string, now: Date): RunRecord {
  const tasks = Object.fromEntries(Object.entries(record.tasks).map(([id, t]) => [
    id, t.status === "running" || t.status === "pending" ? { ...t, status: "abandoned" as const, note: reason } : t,
  ]));
  return { ...record, status: "abandoned", endedAt: now.toISOString(), tasks, error: { stage: "(run)", message: `abandoned: ${reason}` } };
}

/** Runs still open in the newest records whose process is gone are marked abandoned; returns them. */
export async function abandonDeadRuns(records: RunRecords, pipeline: string, now = new Date(), recent = 20): Promise<RunRecord[]> {
  const abandoned: RunRecord[] = [];
  for (const run of await records.latest(pipeline, recent)) {
    const reason = run.status === "running" ? ownerGone(run.owner) : undefined;
    if (!reason) continue;
    abandoned.push(await records.update(pipeline, run.runId, (r) => (r.status === "running" ? abandonedRecord(r, reason, now) : r)));
  }
  return abandoned;
}
