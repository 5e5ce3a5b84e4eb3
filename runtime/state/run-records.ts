// Run records: one JSON object per run under `_mallard/runs/<pipeline>/`, holding every task's status,
// rows, bytes, duration, checks and checkpoints. Written as the run goes, so a crash leaves what happened.

import type { Severity } from "../declare/checks.ts";
import { type Lake, lakePath, updateJson } from "../lake/lake.ts";
import type { CursorPosition } from "../sources/source.ts";

/** `abandoned`: its run stopped being active while it ran (lease expired, process died); it published nothing after that. */
export type TaskStatus = "pending" | "running" | "succeeded" | "failed" | "skipped" | "abandoned";
/** `abandoned`: the process running it died or its lease expired; a later run takes over from the committed checkpoints. */
export type RunStatus = "running" | "succeeded" | "failed" | "abandoned";

export interface CheckResult {
  readonly name: string;
  readonly kind: string;
  readonly severity: Severity;
  readonly passed: boolean;
  /** Rows that failed (row checks and unique), or 1 / 0 for table checks. */
  readonly failingRows: number;
  readonly detail?: string;
  /** A few failing rows (values as text, cut short), for the run report; absent when the check passed. */
  readonly sample?: readonly SampleRow[];
}

/** One row of a sample: column → value as text (null stays null). */
export type SampleRow = Readonly<Record<string, string | null>>;

export interface TaskRecord {
  readonly task: string;
  readonly stage: string;
  readonly kind: string;
  readonly status: TaskStatus;
  readonly attempt?: number;
  readonly startedAt?: string;
  readonly endedAt?: string;
  readonly durationMs?: number;
  readonly rowsIn?: number;
  readonly rowsOut?: number;
  readonly bytes?: number;
  readonly checks?: readonly CheckResult[];
  readonly checkpointBefore?: CursorPosition | null;
  readonly checkpointAfter?: CursorPosition | null;
  /** Quarantined rows (checks with severity drop). */
  readonly quarantined?: number;
  readonly version?: string;
  readonly error?: string;
  /** False when another attempt cannot help (bad configuration, a failed quality check). */
  readonly retryable?: boolean;
  readonly note?: string;
  /** A dedup stage's summary: pairs compared, match probabilities, cluster sizes, largest entities. */
  readonly dedup?: DedupSummary;
}

export interface DedupSummary {
  readonly records: number;
  readonly candidatePairs: number;
  readonly links: number;
  readonly entities: number;
  /** Pairs compared this run per match-probability bin, equal bins over [0, 1]. */
  readonly probabilityHistogram: readonly number[];
  /** Pairs at or above this probability are matches. */
  readonly threshold: number;
  /** Links are kept (in `<stage>__links`) at or above this probability. */
  readonly keptAbove: number;
  /** Entities per size: `[size, count]`, ascending by size. */
  readonly clusterSizes: readonly (readonly [number, number])[];
  readonly largest: readonly MergedEntity[];
}

export interface MergedEntity {
  readonly entityId: string;
  readonly size: number;
  /** Mean weight each compared column gave the links that joined this entity (positive: evidence for a match). */
  readonly contributions: Readonly<Record<string, number>>;
  /** The merged records: the id and the compared columns, as text. */
  readonly members: readonly SampleRow[];
}

/** The process a run lives in, when the run cannot outlive it (a local run, a run through the in-process queue). */
export interface RunOwner {
  readonly host: string;
  readonly pid: number;
}

export interface RunRecord {
  readonly runId: string;
  readonly pipeline: string;
  readonly status: RunStatus;
  readonly trigger: string;
  readonly startedAt: string;
  /** Set for runs that die with their process: a dead owner means the run is abandoned. */
  readonly owner?: RunOwner;
  readonly endedAt?: string;
  readonly tasks: Readonly<Record<string, TaskRecord>>;
  readonly error?: { stage: string; message: string };
}

export function runRecordPath(pipeline: string, runId: string): string {
  return lakePath("_mallard", "runs", pipeline, `${runId}.json`);
}

/** A run id that sorts by start time. */
export function newRunId(now = new Date()): string {
  return `${now.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z")}-${Math.random().toString(36).slice(2, 8)}`;
}

export class RunRecords {
  constructor(private readonly lake: Lake) {}

  async create(record: RunRecord): Promise<void> {
    await this.lake.writeJson(runRecordPath(record.pipeline, record.runId), record, { ifMatch: null });
  }

  async get(pipeline: string, runId: string): Promise<RunRecord | undefined> {
    return (await this.lake.readJson<RunRecord>(runRecordPath(pipeline, runId)))?.value;
  }

  /** Read-modify-write with an ETag condition, retried on a lost race: concurrent task updates all land. */
  async update(pipeline: string, runId: string, change: (record: RunRecord) => RunRecord): Promise<RunRecord> {
    return updateJson<RunRecord>(this.lake, runRecordPath(pipeline, runId), (current) => {
      if (!current) throw new Error(`run ${runId} of ${pipeline} has no record`);
      return change(current);
    });
  }

  async setTask(pipeline: string, runId: string, task: TaskRecord): Promise<RunRecord> {
    return this.update(pipeline, runId, (r) => ({ ...r, tasks: { ...r.tasks, [task.task]: task } }));
  }

  /** The newest runs of a pipeline, newest first. */
  async latest(pipeline: string, limit = 10): Promise<RunRecord[]> {
    const paths: string[] = [];
    for await (const object of this.lake.list(lakePath("_mallard", "runs", pipeline))) {
      if (object.path.endsWith(".json")) paths.push(object.path);
    }
    paths.sort().reverse();
    const records: RunRecord[] = [];
    for (const path of paths.slice(0, limit)) {
      const found = await this.lake.readJson<RunRecord>(path);
      if (found) records.push(found.value);
    }
    return records;
  }
}
